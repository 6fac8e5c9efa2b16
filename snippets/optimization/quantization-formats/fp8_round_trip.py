"""FP8 E4M3 and E5M2 on a CPU: the formats' ranges, and the round-trip error with and without a
per-tensor scale."""
import torch

FORMATS = {"E4M3": torch.float8_e4m3fn, "E5M2": torch.float8_e5m2}

for name, dtype in FORMATS.items():
    info = torch.finfo(dtype)
    print(f"{name}: {dtype}, max {info.max:g}, smallest normal {info.smallest_normal:g}, "
          f"step near 1: {info.eps:g}")


def round_trip(x, dtype, scaled):
    """x -> FP8 -> float32. scaled: divide by a per-tensor scale amax / max first (and multiply
    back after), so that the largest |x| lands on the format's largest value."""
    scale = x.abs().max() / torch.finfo(dtype).max if scaled else torch.tensor(1.0)
    return (x / scale).to(dtype).float() * scale


gen = torch.Generator().manual_seed(0)
weights = torch.randn(4096, generator=gen) * 0.02  # typical weight magnitudes
activations = torch.randn(4096, generator=gen) * 100
activations[:8] = 1000.0  # a few outlier features, as LLM.int8() found in large models
print("tensor       format  scale  rel. error  clipped  flushed to 0")
for tensor_name, x in [("weights", weights), ("activations", activations)]:
    for name, dtype in FORMATS.items():
        for scaled in (False, True):
            y = round_trip(x, dtype, scaled)
            err = ((y - x).norm() / x.norm()).item()
            clipped = ((y.abs() < x.abs() / 2) & (y != 0)).sum().item()  # saturated at the max
            flushed = ((y == 0) & (x != 0)).sum().item()  # below the smallest subnormal
            print(f"{tensor_name:12s} {name}    {'amax' if scaled else 'none':5s}  {err:10.4f}"
                  f"  {clipped:7d}  {flushed:12d}")
# torch 2.13 saturates an overflow to E4M3's +-448 (E4M3 has no infinity); E5M2 overflows to inf.
big = torch.tensor([500.0, 1e6])
print("500 and 1e6 as E4M3:", big.to(torch.float8_e4m3fn).float().tolist(),
      "as E5M2:", big.to(torch.float8_e5m2).float().tolist())
