"""HBM traffic of standard attention and FlashAttention, counted in a simulation, for several
sequence lengths N, head dimensions d and SRAM sizes M, against Theorem 2 of Dao et al. 2022."""
import argparse

import torch
from io_counting import Memory, expected_traffic, flash_attention, standard_attention

# (N, d, M): N grows at fixed d and M, then M grows at fixed N, then d at fixed N and M
CONFIGS = [(512, 32, 16_384), (1024, 32, 16_384), (2048, 32, 16_384), (4096, 32, 16_384),
           (2048, 32, 32_768), (2048, 32, 65_536), (2048, 64, 65_536)]


def counted(fn, n, d, sram):
    """Reads + writes, in elements, of one run of `fn` on random (N, d) inputs."""
    q, k, v = (torch.randn(n, d) for _ in range(3))
    mem = Memory(sram)
    fn(q, k, v, mem)
    return mem.reads + mem.writes


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--plot", metavar="PATH", help="also save a PNG of the counts")
    args = parser.parse_args()
    torch.manual_seed(0)
    print("HBM reads + writes in elements (one head, forward); exact counts of the simulation")
    print(f"{'N':>5} {'d':>4} {'M':>8} {'standard':>12} {'/(Nd+N^2)':>10} {'flash':>11} "
          f"{'/(N^2d^2/M)':>12} {'standard/flash':>15}")
    rows = []
    for n, d, sram in CONFIGS:
        standard = counted(standard_attention, n, d, sram)
        flash = counted(flash_attention, n, d, sram)
        assert (standard, flash) == expected_traffic(n, d, sram)  # the loops' closed forms
        rows.append((n, d, sram, standard, flash))
        print(f"{n:>5} {d:>4} {sram:>8,} {standard:>12,} {standard / (n * d + n * n):>10.2f} "
              f"{flash:>11,} {flash / (n * n * d * d / sram):>12.2f} {standard / flash:>14.1f}x")
    if args.plot:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, (ax_n, ax_m) = plt.subplots(1, 2, figsize=(10, 4))
        by_n = [r for r in rows if r[1:3] == (32, 16_384)]
        ns = [r[0] for r in by_n]
        ax_n.plot(ns, [r[3] for r in by_n], "o-", label="standard (counted)")
        ax_n.plot(ns, [r[4] for r in by_n], "s-", label="FlashAttention (counted)")
        ax_n.plot(ns, [4 * n * n for n in ns], "k--", label="4 N² (S and P, written and read)")
        ax_n.plot(ns, [12 * n * n * 32**2 / 16_384 for n in ns], "k:", label="12 N² d² / M")
        ax_n.set(xlabel="sequence length N (d = 32, M = 16,384)", title="against N")
        by_m = [r for r in rows if r[0:2] == (2048, 32)]
        ms = [r[2] for r in by_m]
        ax_m.plot(ms, [r[3] for r in by_m], "o-", label="standard (counted)")
        ax_m.plot(ms, [r[4] for r in by_m], "s-", label="FlashAttention (counted)")
        ax_m.plot(ms, [12 * 2048**2 * 32**2 / m for m in ms], "k:", label="12 N² d² / M")
        ax_m.set(xlabel="SRAM size M in elements (N = 2048, d = 32)", title="against M")
        for ax, xs in ((ax_n, ns), (ax_m, ms)):
            ax.set_xscale("log", base=2)
            ax.set_xticks(xs, [f"{x:,}" for x in xs])
            ax.set(yscale="log", ylabel="HBM reads + writes (elements)")
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=8)
        fig.suptitle("HBM traffic of one attention forward, counted in a simulation")
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)


if __name__ == "__main__":
    main()
