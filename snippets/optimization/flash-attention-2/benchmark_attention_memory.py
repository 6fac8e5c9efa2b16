"""Peak memory and time of one attention forward against N: naive vs tiled vs SDPA,
one fresh process each."""
import argparse
import json
import os
import subprocess
import sys

HEADS, HEAD_DIM, SEQ_LENS, VARIANTS = 2, 64, [512, 1024, 2048, 4096], ("naive", "tiled", "SDPA")


def kib(field):  # from /proc/self/status: VmRSS = resident now, VmHWM = peak since the last reset
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field))


# runs in its own process; reads one N per line, answers one JSON line
def worker(variant, repeats):
    import math
    import statistics
    import time

    import torch
    import torch.nn.functional as F
    from tiled_attention import tiled_attention  # the snippet beside this file

    # --8<-- [start:key]
    torch.set_num_threads(1)
    forward = {"naive": lambda q, k, v:
                   torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(HEAD_DIM), -1) @ v,
               "tiled": lambda q, k, v: tiled_attention(q, k, v, block=256)[0],
               "SDPA": F.scaled_dot_product_attention}[variant]
    # warm-up: lazy initializations
    forward(*(torch.randn(1, HEADS, 256, HEAD_DIM) for _ in range(3)))
    print("ready", flush=True)
    for line in sys.stdin:
        q, k, v = (torch.randn(1, HEADS, int(line), HEAD_DIM) for _ in range(3))
        before = kib("VmRSS")
        with open("/proc/self/clear_refs", "w") as f:
            # Linux: reset VmHWM to the current RSS (tracemalloc cannot see torch's memory)
            f.write("5")
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            forward(q, k, v)
            times.append(time.perf_counter() - start)
        result = {"mib": (kib("VmHWM") - before) / 1024, "ms": 1e3 * statistics.median(times)}
        print(json.dumps(result), flush=True)
    # --8<-- [end:key]


def message(proc):
    """The worker's next protocol line ("ready" or a JSON result), skipping anything else a library
    may have printed to its stdout; fails if the worker exited."""
    for line in proc.stdout:
        if line.strip() == "ready" or line.startswith("{"):
            return line
    raise RuntimeError(f"worker exited with status {proc.wait()} before answering")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--plot", metavar="PATH",
                        help="also save a PNG of memory and time against N")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    # A fixed mmap threshold makes glibc return every large block to the OS as soon as it is freed;
    # with the default (adaptive) one, freed blocks can stay resident and blur the next peak.
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": str(1 << 20)}
    workers = {name: subprocess.Popen(
                   [sys.executable, __file__, "--worker", name, str(args.repeats)],
                   env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
               for name in VARIANTS}
    assert all(message(proc).strip() == "ready" for proc in workers.values())
    res = {name: [] for name in VARIANTS}
    for n in SEQ_LENS:
        # one at a time, interleaved: the others wait on their stdin
        for name, proc in workers.items():
            proc.stdin.write(f"{n}\n")
            proc.stdin.flush()
            res[name].append(json.loads(message(proc)))
    for proc in workers.values():
        proc.stdin.close()
        assert proc.wait() == 0

    print(f"attention forward, batch 1, {HEADS} heads, head dim {HEAD_DIM}, fp32, 1 thread, "
          f"median of {args.repeats}; memory = peak RSS above the inputs, output included")
    ratios = f"{'naive/tiled':>12} {'naive/SDPA':>11}"
    print(f"{'N':>5} {'N x N scores':>12} {'naive':>9} {'tiled':>9} {'SDPA':>9} {ratios}")
    for i, n in enumerate(SEQ_LENS):
        mib = [res[name][i]["mib"] for name in VARIANTS]
        # scores: batch*heads*N*N*4 bytes
        print(f"{n:>5} {HEADS * n * n * 4 / 2**20:>8.0f} MiB"
              + "".join(f"{m:>5.0f} MiB" for m in mib)
              + f"{mib[0] / mib[1]:>11.1f}x{mib[0] / mib[2]:>10.1f}x")
    print(f"{'N':>5} {'naive ms':>10} {'tiled ms':>10} {'SDPA ms':>10} {ratios}")
    for i, n in enumerate(SEQ_LENS):
        ms = [res[name][i]["ms"] for name in VARIANTS]
        print(f"{n:>5}" + "".join(f"{t:>11.1f}" for t in ms)
              + f"{ms[0] / ms[1]:>11.2f}x{ms[0] / ms[2]:>10.2f}x")
    if args.plot:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        axes[0].plot(SEQ_LENS, [HEADS * n * n * 4 / 2**20 for n in SEQ_LENS], "k--",
                     label="one N x N score matrix")
        for ax, key, label in zip(axes, ("mib", "ms"),
                                  ("extra peak memory (MiB)", "time per forward (ms)")):
            for name in VARIANTS:
                ax.plot(SEQ_LENS, [r[key] for r in res[name]], "o-", label=name)
            ax.set_xscale("log", base=2)
            ax.set(yscale="log", xlabel="sequence length N (tokens)", ylabel=label)
            ax.set_xticks(SEQ_LENS, [str(n) for n in SEQ_LENS])
            ax.grid(True, which="both", alpha=0.3)
            ax.legend()
        fig.suptitle(f"One attention forward on CPU: batch 1, {HEADS} heads, head dim {HEAD_DIM}, "
                     "fp32, 1 thread")
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:  # the same file, re-run by main() as a worker process
        worker(sys.argv[2], int(sys.argv[3]))
    else:
        main()
