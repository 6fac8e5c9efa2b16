"""Round trip of a normally distributed weight through NF4 and FP4 (block size 64):
NF4 errs less."""
import torch
import bitsandbytes.functional as F

torch.manual_seed(0)
weight = torch.randn(512, 512) * 0.02  # trained LLM weights are roughly zero-mean normal


def code_usage_bits(packed):
    """Entropy (bits) of the 4-bit codes: two codes per byte, high nibble first."""
    codes = torch.cat([packed.flatten() >> 4, packed.flatten() & 0xF]).long()
    p = torch.bincount(codes, minlength=16).float() / codes.numel()
    return -(p[p > 0] * p[p > 0].log2()).sum().item()


errors = {}
for quant_type in ("nf4", "fp4"):
    # One absmax (float32) per block of 64 values; every value becomes an index into 16 codes.
    packed, state = F.quantize_4bit(weight, blocksize=64, quant_type=quant_type)
    restored = F.dequantize_4bit(packed, state)
    errors[quant_type] = ((restored - weight).norm() / weight.norm()).item()
    print(f"{quant_type}: packed {tuple(packed.shape)} {packed.dtype}, "
          f"absmax {tuple(state.absmax.shape)}, relative error {errors[quant_type]:.2%}, "
          f"code usage {code_usage_bits(packed):.2f} of 4 bits")

assert packed.numel() == weight.numel() // 2  # two 4-bit codes per byte
assert errors["nf4"] < errors["fp4"]
print(f"FP4 error / NF4 error = {errors['fp4'] / errors['nf4']:.2f}")
