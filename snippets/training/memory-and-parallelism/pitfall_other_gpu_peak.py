# --8<-- [start:code]
"""An MFU formula that hard-codes one GPU's peak reports nonsense on another GPU."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # arithmetic.py sits beside this file
import arithmetic as ar  # noqa: E402

achieved = 325e12  # model FLOP/s on one H100, a plausible 33% of its dense peak
a100_peak = 312e12  # the constant nanoGPT's estimate_mfu hard-coded (karpathy/nanoGPT#464)
wrong = achieved / a100_peak
right = achieved / ar.H100_SXM.bf16_dense_flop_per_s  # the peak of the GPU that ran
print(f"wrong: MFU against the A100 peak = {wrong:.0%} (above 100%: impossible)")
print(f"right: MFU against the H100 peak = {right:.0%}")
assert wrong > 1 > right
# --8<-- [end:code]
