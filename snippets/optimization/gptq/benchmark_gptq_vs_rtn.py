"""Output error of GPTQ and round-to-nearest at 2, 3, 4 and 8 bits, per group of 32 and per row."""
import argparse
import statistics
import time

import torch

from gptq_one_layer import correlated_inputs, gptq_quantize, rel_err, rtn_quantize

BITS, GROUPS = [2, 3, 4, 8], [32, -1]  # -1: one group spanning the whole row (per-channel)


def measure(device="cpu", d=256, rows=1024, repeats=5):
    """Medians over `repeats` random layers of: RTN error, GPTQ error, their ratio, time ratio."""
    runs = {(b, g): [] for b in BITS for g in GROUPS}
    for seed in range(repeats):
        gen = torch.Generator().manual_seed(seed)
        mix, scale = torch.randn(32, d, generator=gen), torch.ones(d)
        scale[torch.randperm(d, generator=gen)[: d // 32]] = 8.0
        W = (torch.randn(d, d, generator=gen) / d**0.5).to(device)
        X_cal, X_test = (correlated_inputs(rows, mix, scale, gen).to(device) for _ in range(2))
        H, ref = 2 * X_cal.T @ X_cal, X_test @ W.T
        for (bits, group), out in runs.items():  # interleaved: a busy moment hits every variant
            size = d if group == -1 else group
            t0 = clock(device)
            Q_rtn = rtn_quantize(W, bits, size)
            t1 = clock(device)
            Q_gptq = gptq_quantize(W, H, bits, size)
            t2 = clock(device)
            e_rtn, e_gptq = rel_err(X_test @ Q_rtn.T, ref), rel_err(X_test @ Q_gptq.T, ref)
            out.append((e_rtn, e_gptq, e_gptq / e_rtn, (t2 - t1) / (t1 - t0)))
    return {key: [statistics.median(col) for col in zip(*vals)] for key, vals in runs.items()}


def clock(device):
    if device == "cuda":
        torch.cuda.synchronize()  # GPU work is asynchronous: wait for it before reading the clock
    return time.perf_counter()


def report(results, where):
    print(f"one {where} layer, output error on held-out inputs, median of the runs")
    print("bits  group  RTN error  GPTQ error  error GPTQ/RTN  time GPTQ/RTN")
    for (bits, group), (e_rtn, e_gptq, ratio, slower) in results.items():
        print(f"{bits:4d}  {'row' if group == -1 else group:>5}  {e_rtn:9.4f}  {e_gptq:10.4f}"
              f"  {ratio:13.2f}x  {slower:12.0f}x")


def plot(results, path, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for group, style in [(32, "-"), (-1, "--")]:
        label = "group 32" if group == 32 else "per row"
        for i, method in enumerate(["RTN", "GPTQ"]):
            ax.plot(BITS, [results[(b, group)][i] for b in BITS], style, marker="o", color=f"C{i}",
                    label=f"{method}, {label}")
    ax.set(xlabel="bits per weight", ylabel="relative output error (log scale)", yscale="log",
           xticks=BITS, title=title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--plot", metavar="PATH", help="also save a PNG of error against bits")
    args = parser.parse_args()
    torch.set_num_threads(1)
    results = measure()
    report(results, "256 x 256 CPU")
    for bits in BITS:
        assert results[(bits, 32)][2] < 0.8  # GPTQ beats RTN at every width
    if args.plot:
        plot(results, args.plot, "GPTQ vs round-to-nearest, one 256x256 layer (CPU)")
