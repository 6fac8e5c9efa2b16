"""Pitfall: Linear8bitLt keeps its full-precision weight unless has_fp16_weights=False."""
import bitsandbytes as bnb
import torch

torch.manual_seed(0)
reference = torch.nn.Linear(256, 256)


def weight_bytes(layer):
    return layer.weight.numel() * layer.weight.element_size()


# Wrong: the default has_fp16_weights=True is the mode for *training* with 8-bit matmuls: the
# float weight stays (it is what gets trained), int8 copies are made from it, nothing is saved.
wrong = bnb.nn.Linear8bitLt(256, 256)
wrong.load_state_dict(reference.state_dict())
wrong = wrong.to("cpu")
print("wrong:", wrong.weight.dtype, f"{weight_bytes(wrong):,} bytes")

# Right: inference with int8 weights (what BitsAndBytesConfig(load_in_8bit=True) builds).
right = bnb.nn.Linear8bitLt(256, 256, has_fp16_weights=False)
right.load_state_dict(reference.state_dict())
right = right.to("cpu")
print("right:", right.weight.dtype, f"{weight_bytes(right):,} bytes")
assert wrong.weight.dtype == torch.float32 and right.weight.dtype == torch.int8
assert weight_bytes(wrong) == 4 * weight_bytes(right)
