# pytest: gpu
# --8<-- [start:code]
"""The same GPTQ-vs-RTN comparison on a CUDA GPU,
on a 4096 x 4096 layer (a 7B model's projection)."""
import argparse

import torch

from benchmark_gptq_vs_rtn import BITS, measure, plot, report

parser = argparse.ArgumentParser()
parser.add_argument("--plot", metavar="PATH", help="also save a PNG of error against bits")
args = parser.parse_args()

torch.backends.cuda.matmul.allow_tf32 = False  # full fp32 matmuls, as on the CPU
results = measure(device="cuda", d=4096, rows=8192, repeats=3)
report(results, f"4096 x 4096 {torch.cuda.get_device_name()}")
for bits in BITS:
    assert results[(bits, 32)][2] < 0.8  # error GPTQ/RTN, as on the CPU
if args.plot:
    plot(results, args.plot, "GPTQ vs round-to-nearest, one 4096x4096 layer (CUDA)")
# --8<-- [end:code]
