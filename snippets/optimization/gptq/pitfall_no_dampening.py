import torch
from transformers import GPTQConfig

from gptq_one_layer import gptq_quantize

gen = torch.Generator().manual_seed(0)
W = torch.randn(64, 64, generator=gen) / 8
few = torch.randn(16, 64, generator=gen)  # 16 calibration rows for 64 inputs: rank(H) <= 16
dead = torch.randn(512, 64, generator=gen)
dead[:, 5] = 0.0  # an input that is zero on every calibration token: row and column 5 of H are 0

for name, X in [("16 rows", few), ("dead input", dead)]:
    H = 2 * X.T @ X
    try:
        gptq_quantize(W, H, bits=4, group_size=32, damp=0.0)  # wrong: no dampening
        raise AssertionError("expected the Cholesky factorization to fail")
    except torch.linalg.LinAlgError as err:
        print(f"{name:10s} damp=0    -> LinAlgError: "
              f"{str(err).split(':')[1].split('(')[0].strip()}")
    Q = gptq_quantize(W, H, bits=4, group_size=32, damp=0.01)  # right: 1% of the mean diagonal
    error = ((Q - W).norm() / W.norm()).item()
    print(f"{name:10s} damp=0.01 -> quantized, relative weight error {error:.2f}")
    assert torch.isfinite(Q).all() and error < 0.3

# The library does not let you switch dampening off: damp_percent must lie in (0, 1).
try:
    GPTQConfig(bits=4, damp_percent=0.0)
    raise AssertionError("expected a ValueError")
except ValueError as err:
    print("GPTQConfig(damp_percent=0.0) ->", err)
print("default damp_percent:", GPTQConfig(bits=4).damp_percent)
