"""Pitfall: a bitsandbytes layer built by hand is quantized only when it is moved to a device."""
import bitsandbytes as bnb
import torch

torch.manual_seed(0)
reference = torch.nn.Linear(64, 32)
layer = bnb.nn.Linear4bit(64, 32, quant_type="nf4")
layer.load_state_dict(reference.state_dict())
x = torch.randn(2, 64)

# Wrong: use it straight away. The weight is still a full-precision (32, 64) tensor and the
# forward fails on a bare assert, after a log line asking for .cuda() or .to(device).
print("wrong:", layer.weight.dtype, tuple(layer.weight.shape), "quantized:",
      layer.weight.bnb_quantized)
try:
    layer(x)
    raise RuntimeError("the unquantized layer ran")
except AssertionError:
    print("wrong: forward raised AssertionError")

# Right: .to("cpu") (or .cuda(), or from_pretrained with a quantization_config) quantizes.
layer = layer.to("cpu")
print("right:", layer.weight.dtype, tuple(layer.weight.shape), "quantized:",
      layer.weight.bnb_quantized)
with torch.no_grad():
    assert layer(x).shape == (2, 32)
assert layer.weight.dtype == torch.uint8 and layer.weight.numel() == 64 * 32 // 2
