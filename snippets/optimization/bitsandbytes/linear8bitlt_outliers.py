"""LLM.int8(): int8 weights and activations,
with outlier features kept in 16-bit (threshold 6.0)."""
import bitsandbytes as bnb
import torch

torch.manual_seed(0)
reference = torch.nn.Linear(256, 128)


def int8_layer(threshold):
    layer = bnb.nn.Linear8bitLt(256, 128, has_fp16_weights=False, threshold=threshold)
    layer.load_state_dict(reference.state_dict())
    # Moving to a device quantizes: one absmax (SCB) per output row, the weight becomes int8.
    # eval(): in training mode the CPU backend dequantizes the weight and skips int8 activations.
    return layer.to("cpu").eval()


def rms_error(x, layer):
    with torch.no_grad():
        want = reference(x.float())
        got = layer(x).float()  # fp16 in, fp16 out: LLM.int8() is meant for fp16 models
    return (got - want).pow(2).mean().sqrt().item()


plain = int8_layer(threshold=0.0)
print("weight", plain.weight.dtype, tuple(plain.weight.shape), "| row scales",
      tuple(plain.weight.SCB.shape))
x = torch.randn(16, 256).half()
err_ordinary = rms_error(x, plain)
print(f"ordinary inputs:      RMS error int8 {err_ordinary:.4f}")

# Large models develop a few hidden dimensions with huge values in almost every token
# (arXiv 2208.07339, section 4). Each token's row is scaled by its absmax, so one value of 20
# squeezes every other value of that token into a handful of int8 levels.
x[:, [7, 100]] = 20.0
mixed = int8_layer(threshold=6.0)  # columns holding any |value| >= 6 are multiplied in fp16
err_plain, err_mixed = rms_error(x, plain), rms_error(x, mixed)
print(f"with outlier columns: RMS error int8 {err_plain:.4f}, int8 + fp16 outliers {err_mixed:.4f}")
print("columns done in fp16:", mixed.state.idx.tolist())
assert mixed.state.idx.tolist() == [7, 100]
assert err_plain > 4 * err_ordinary  # the outliers ruin the int8 product ...
assert err_mixed < 2 * err_ordinary  # ... and the decomposition brings the error back
