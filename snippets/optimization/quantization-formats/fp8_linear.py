"""An FP8 linear layer (W8A8: E4M3 weights and activations, per-tensor scales) with PyTorch's
scaled matrix product, on a CPU."""
# --8<-- [start:code]
import torch
import torch.nn.functional as F
from torch.nn.functional import ScalingType

E4M3 = torch.float8_e4m3fn


def to_fp8(x):
    """x -> (E4M3 tensor, float32 scale of shape (1,)) with x ~= fp8.float() * scale.

    The scale maps the tensor's largest |x| onto E4M3's largest value, 448 (per-tensor scaling).
    """
    scale = (x.abs().max() / torch.finfo(E4M3).max).float().reshape(1)
    return (x / scale).to(E4M3), scale


torch.manual_seed(0)
x = torch.randn(64, 512)  # 64 tokens' activations
w = torch.randn(256, 512) / 512**0.5  # an nn.Linear weight: (out features, in features)
(xq, sx), (wq, sw) = to_fp8(x), to_fp8(w)

# scaled_mm multiplies the FP8 matrices, accumulates in higher precision, then multiplies by
# scale_a * scale_b. mat_b must be column-major: w.T of a row-major w is exactly that.
y = F.scaled_mm(xq, wq.t(), scale_a=sx, scale_recipe_a=ScalingType.TensorWise,
                scale_b=sw, scale_recipe_b=ScalingType.TensorWise, output_dtype=torch.float32)
y_ref = x @ w.t()
y_dequant = (xq.float() * sx) @ (wq.float() * sw).t()  # the same numbers, unfused
rel = lambda a, b: ((a - b).norm() / b.norm()).item()  # noqa: E731
print(f"bytes: fp32 weight {w.nbytes}, FP8 weight {wq.nbytes} + scale {sw.nbytes}")
print(f"relative error against fp32: {rel(y, y_ref):.3f}")
print(f"scaled_mm equals dequantize-then-multiply: {rel(y, y_dequant) < 1e-5}")
assert rel(y, y_ref) < 0.05
# --8<-- [end:code]
