# --8<-- [start:code]
"""MFU against the datasheet's headline BF16 figure (2:4 sparse) comes out at half its value."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # arithmetic.py sits beside this file
import arithmetic as ar  # noqa: E402

achieved = 420e12  # model FLOP/s per H200 that a Megatron user measured (NVIDIA/Megatron-LM#1565)
wrong = achieved / ar.H200.bf16_sparse_flop_per_s  # "1,979 TFLOPS": with sparsity, footnoted
right = achieved / ar.H200.bf16_dense_flop_per_s  # dense training uses the dense peak
print(f"wrong: MFU = 420 / {ar.H200.bf16_sparse_flop_per_s / 1e12:.0f} = {wrong:.1%}")
print(f"right: MFU = 420 / {ar.H200.bf16_dense_flop_per_s / 1e12:.1f} = {right:.1%}")
assert right == 2 * wrong
# --8<-- [end:code]
