"""Pitfall: casting activations straight to E4M3. torch 2.13 clamps everything beyond +-448 to
+-448 without a warning, so outlier features are silently cut."""
import torch
import torch.nn.functional as F
from torch.nn.functional import ScalingType

E4M3 = torch.float8_e4m3fn
torch.manual_seed(0)
x = torch.randn(32, 256) * 20
x[:, :4] *= 50  # 4 outlier channels, up to a few thousand, as in large models' activations
w = torch.randn(128, 256) / 16
ref = x @ w.t()
sw = (w.abs().max() / 448).reshape(1)
wq = (w / sw).to(E4M3)


def fp8_linear(xq, sx):
    return F.scaled_mm(xq, wq.t(), scale_a=sx, scale_recipe_a=ScalingType.TensorWise,
                       scale_b=sw, scale_recipe_b=ScalingType.TensorWise,
                       output_dtype=torch.float32)


def rel(y):
    return ((y - ref).norm() / ref.norm()).item()


# Wrong: no scale (scale 1.0). Nothing fails, nothing is inf: the outliers are clamped to 448.
wrong = fp8_linear(x.to(E4M3), torch.ones(1))
print(f"wrong: largest |x| {x.abs().max().item():.0f} stored as "
      f"{x.to(E4M3).float().abs().max().item():.0f}; output error {rel(wrong):.2f}")
# Right: a per-tensor scale that maps the largest |x| onto 448 (dynamic, computed per batch).
sx = (x.abs().max() / 448).reshape(1)
right = fp8_linear((x / sx).to(E4M3), sx)
print(f"right: scale {sx.item():.2f}; output error {rel(right):.3f}")
assert rel(wrong) > 0.3 and rel(right) < 0.05
