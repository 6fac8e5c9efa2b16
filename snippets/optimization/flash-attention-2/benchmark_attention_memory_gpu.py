# pytest: gpu
# --8<-- [start:code]
"""Peak GPU memory and time of one attention forward:
naive vs PyTorch's FlashAttention-2 kernel (SDPA)."""
import argparse
import math
import statistics
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

BATCH, HEADS, HEAD_DIM, DTYPE = 1, 16, 64, torch.bfloat16  # the flash kernel takes fp16/bf16 only
REL_TOL = 1e-2  # the H200 run of 2026-12-04 measured 2.3e-3 for the flash kernel at every N
SEQ_LENS = [1024, 2048, 4096, 8192, 16384]
# Dense bf16 tensor-core peak by the vendors' datasheets, in TFLOP/s,
# to put the measured rate in context.
PEAK_BF16_TFLOPS = {"H200": 989, "H100": 989, "A100": 312}


# --8<-- [start:key]
def naive(q, k, v):
    return torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(HEAD_DIM), dim=-1) @ v


def flash(q, k, v):
    with sdpa_kernel(SDPBackend.FLASH_ATTENTION):  # this kernel or an error: no silent fallback
        return F.scaled_dot_product_attention(q, k, v)


def peak_mib(fn, *args):  # memory above what was allocated before the call (the output included)
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    before = torch.cuda.memory_allocated()
    out = fn(*args)
    torch.cuda.synchronize()
    del out
    return (torch.cuda.max_memory_allocated() - before) / 2**20
# --8<-- [end:key]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--plot", metavar="PATH",
                        help="also save a PNG of memory and time against N")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit("benchmark_attention_memory_gpu.py needs a CUDA GPU")
    torch.manual_seed(0)
    variants = {"naive": naive, "SDPA flash": flash}
    rows = []
    for n in SEQ_LENS:
        q, k, v = (torch.randn(BATCH, HEADS, n, HEAD_DIM, device="cuda", dtype=DTYPE)
                   for _ in range(3))
        reference = naive(q.float(), k.float(), v.float())  # fp32: the error of each bf16 result
        # relative error ||out - ref|| / ||ref||, not an absolute tolerance: it means the same at
        # any scale of the outputs (bf16 keeps 8 bits: unit roundoff 2^-8, about 3.9e-3)
        errors = {name: ((fn(q, k, v).float() - reference).norm() / reference.norm()).item()
                  for name, fn in variants.items()}
        assert errors["SDPA flash"] < REL_TOL and errors["SDPA flash"] < 2 * errors["naive"], errors
        del reference
        mib = {name: peak_mib(fn, q, k, v) for name, fn in variants.items()}
        for fn in variants.values():  # warm-up: kernel selection, allocator caching
            fn(q, k, v)
        times = {name: [] for name in variants}
        for _ in range(args.repeats):  # interleaved, so clock and thermal changes hit both alike
            for name, fn in variants.items():
                start, end = (torch.cuda.Event(enable_timing=True),
                              torch.cuda.Event(enable_timing=True))
                start.record()
                fn(q, k, v)
                end.record()
                end.synchronize()
                times[name].append(start.elapsed_time(end))  # milliseconds, measured on the GPU
        ms = {name: statistics.median(t) for name, t in times.items()}
        rows.append((n, mib, ms, errors))
        del q, k, v

    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}; "
          f"one attention forward: batch {BATCH}, "
          f"{HEADS} heads, head dim {HEAD_DIM}, bf16, median of {args.repeats}")
    print(f"{'N':>5} {'N x N scores':>12} {'naive':>10} {'SDPA flash':>11} {'naive/SDPA':>11}")
    for n, mib, _, _ in rows:
        scores_mib = BATCH * HEADS * n * n * 2 / 2**20  # bf16: 2 bytes per score
        print(f"{n:>5} {scores_mib:>8.0f} MiB {mib['naive']:>6.0f} MiB "
              f"{mib['SDPA flash']:>7.0f} MiB{mib['naive'] / mib['SDPA flash']:>10.1f}x")
    name = torch.cuda.get_device_name()
    peak = next((tf for gpu, tf in PEAK_BF16_TFLOPS.items() if gpu in name), None)
    print(f"{'N':>5} {'naive ms':>10} {'SDPA ms':>10} {'naive/SDPA':>11} {'SDPA TFLOP/s':>13}"
          f" {'of peak':>8} {'rel. error naive':>17} {'SDPA':>7}")
    for n, _, ms, err in rows:
        # 2 matmuls
        tflops = 4 * BATCH * HEADS * n * n * HEAD_DIM / (ms["SDPA flash"] * 1e-3) / 1e12
        share = f"{tflops / peak:8.0%}" if peak else f"{'?':>8}"
        print(f"{n:>5} {ms['naive']:>10.3f} {ms['SDPA flash']:>10.3f}"
              f"{ms['naive'] / ms['SDPA flash']:>11.2f}x{tflops:>13.0f} {share}"
              f" {err['naive']:>17.1e} {err['SDPA flash']:>7.1e}")
    if peak:
        print(f"peak: {peak} dense bf16 TFLOP/s for this GPU (vendor datasheet)")
    if args.plot:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, (ax_mem, ax_time) = plt.subplots(1, 2, figsize=(10, 4))
        for name in variants:
            ax_mem.plot(SEQ_LENS, [mib[name] for _, mib, _, _ in rows], "o-", label=name)
            ax_time.plot(SEQ_LENS, [ms[name] for _, _, ms, _ in rows], "o-", label=name)
        for ax, label in ((ax_mem, "extra peak GPU memory (MiB)"),
                          (ax_time, "time per forward (ms)")):
            ax.set_xscale("log", base=2)
            ax.set(yscale="log", xlabel="sequence length N (tokens)", ylabel=label)
            ax.set_xticks(SEQ_LENS, [str(n) for n in SEQ_LENS])
            ax.grid(True, which="both", alpha=0.3)
            ax.legend()
        fig.suptitle(f"Attention forward on {torch.cuda.get_device_name()} "
                     f"({HEADS} heads, head dim {HEAD_DIM}, bf16)")
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)



if __name__ == "__main__":
    main()
# --8<-- [end:code]
