"""FlashAttention-3's incoherent processing: multiplying Q and K by the same random orthogonal
matrix (a Hadamard matrix with random signs) leaves QK^T unchanged but spreads outlier channels
out, so FP8 (E4M3) keeps more of the scores."""
import math

import torch

E4M3_MAX = torch.finfo(torch.float8_e4m3fn).max  # 448: the largest finite E4M3 value


def fp8_round_trip(x):
    """x quantised to E4M3 with one scale per tensor (largest |x| -> 448), then dequantised."""
    scale = x.abs().max() / E4M3_MAX
    return (x / scale).to(torch.float8_e4m3fn).float() * scale


def random_hadamard(d, generator):
    """A d x d orthogonal matrix H diag(+-1) / sqrt(d), d a power of 2 (Sylvester's H)."""
    h = torch.ones(1, 1)
    while h.shape[0] < d:
        h = torch.cat([torch.cat([h, h], 1), torch.cat([h, -h], 1)], 0)
    signs = torch.randint(0, 2, (d,), generator=generator) * 2 - 1
    return h * signs / math.sqrt(d)


torch.manual_seed(0)
n, d = 1024, 128
q, k = torch.randn(n, d), torch.randn(n, d)
q[:, :4] *= 30.0  # a few outlier channels, as LLM activations have
k[:, :4] *= 30.0
scores = q @ k.T
m = random_hadamard(d, torch.Generator().manual_seed(1))
assert torch.allclose(m @ m.T, torch.eye(d), atol=1e-5)  # orthogonal: (QM)(KM)^T = QK^T
errors = {}
for name, (qq, kk) in {"plain": (q, k), "incoherent": (q @ m, k @ m)}.items():
    approx = fp8_round_trip(qq) @ fp8_round_trip(kk).T
    errors[name] = ((approx - scores).norm() / scores.norm()).item()  # relative error of S
    print(f"{name:<11} max |Q| {qq.abs().max().item():6.1f}, "
          f"relative error of the FP8 scores {errors[name]:.1e}")
ratio = errors["plain"] / errors["incoherent"]
print(f"incoherent processing lowers the error {ratio:.1f}x")
assert ratio > 2
