"""NF4's 16 values: where bitsandbytes keeps them,
and how they follow from the normal distribution."""
import torch
from bitsandbytes.functional import get_4bit_type

nf4 = get_4bit_type("nf4", device="cpu")  # the lookup table a 4-bit index points into
# FP4 (sign, 2 exponent bits, 1 mantissa bit)
fp4 = get_4bit_type("fp4", device="cpu").sort().values
print("NF4:", [round(v, 4) for v in nf4.tolist()])
print("FP4:", [round(v, 4) for v in fp4.tolist()])

# Rebuild NF4 the QLoRA way (arXiv 2305.14314, section 3): quantiles of N(0, 1), spaced so each
# bin holds the same probability mass, then scaled into [-1, 1]. torch.special.ndtri is the
# inverse normal CDF. offset = 0.9677083 is the outermost quantile bitsandbytes uses.
offset = 0.9677083
# 8 positive values, 7 negative ones:
positive = torch.special.ndtri(torch.linspace(offset, 0.5, 9, dtype=torch.float64)[:-1])
negative = -torch.special.ndtri(torch.linspace(offset, 0.5, 8, dtype=torch.float64)[:-1])
rebuilt = torch.cat([negative, torch.zeros(1, dtype=torch.float64), positive]).sort().values
rebuilt = rebuilt / rebuilt.max()
print("max |rebuilt - bitsandbytes| < 1e-6:", (rebuilt.float() - nf4).abs().max().item() < 1e-6)
assert torch.allclose(rebuilt.float(), nf4, atol=1e-6)

# An exact zero (padding and ReLU-like zeros stay exact) costs symmetry: 8 positive, 7 negative.
print("negative / zero / positive:", (nf4 < 0).sum().item(), (nf4 == 0).sum().item(),
      (nf4 > 0).sum().item())
# FP4 is a float format: it spends one code on "-0" and two on +-0.0052, values that almost no
# weight needs once a block is scaled by its absmax. NF4 has 16 distinct, useful values.
print("distinct values: NF4", nf4.unique().numel(), "FP4", fp4.unique().numel())
