"""Language-model serving latency on Triton: time to first token (TTFT), inter-token latency (ITL)
and end-to-end latency (E2E), p50 and p95, beside throughput, for the tiny Llama served two ways:
tiny_llama (one response with all tokens) and tiny_llama_stream (decoupled, one response per
token over a gRPC stream). Each of `concurrency` client threads has its own connection and sends
its requests one after the other, so at most `concurrency` requests are in flight.
"""
import argparse
import os
import queue
import statistics
import threading
import time
from importlib import metadata

import numpy as np
import tritonclient.grpc as grpcclient

PROMPT = np.array([[5, 17, 42, 99, 3]], dtype=np.int64)


def inputs(new_tokens):
    tensors = [grpcclient.InferInput("input_ids", list(PROMPT.shape), "INT64"),
               grpcclient.InferInput("max_new_tokens", [1], "INT32")]
    tensors[0].set_data_from_numpy(PROMPT)
    tensors[1].set_data_from_numpy(np.array([new_tokens], dtype=np.int32))
    return tensors


# --8<-- [start:key]
def one_request(client, model, new_tokens, responses):
    """Send one request; return the arrival times (s after sending) of its tokens."""
    start = time.perf_counter()
    if model == "tiny_llama":  # one response: every token arrives at the end
        client.infer(model, inputs(new_tokens))
        return [time.perf_counter() - start] * new_tokens
    client.async_stream_infer(model, inputs(new_tokens))
    arrivals = []
    while len(arrivals) < new_tokens:  # one response per token
        result, error = responses.get(timeout=60)
        assert error is None, error
        arrivals.append(time.perf_counter() - start)
    return arrivals


def run(grpc_url, model, concurrency, requests, new_tokens):
    """All arrival lists of `requests` requests sent by `concurrency` threads; and the seconds."""
    per_thread = [requests // concurrency] * concurrency
    results, lock = [], threading.Lock()

    def worker(count):
        responses = queue.Queue()
        with grpcclient.InferenceServerClient(grpc_url) as client:
            client.start_stream(callback=lambda result, error: responses.put((result, error)))
            for _ in range(count):
                arrivals = one_request(client, model, new_tokens, responses)
                with lock:
                    results.append(arrivals)
            client.stop_stream()

    threads = [threading.Thread(target=worker, args=(n,)) for n in per_thread]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return results, time.perf_counter() - start
# --8<-- [end:key]


def summary(results, seconds, new_tokens):
    """tokens/s and p50/p95 of TTFT, ITL and E2E in ms."""
    ttft = [a[0] for a in results]
    itl = [later - earlier for a in results for earlier, later in zip(a, a[1:])]
    e2e = [a[-1] for a in results]
    p = lambda xs: (1e3 * np.percentile(xs, 50), 1e3 * np.percentile(xs, 95))  # noqa: E731
    return len(results) * new_tokens / seconds, *p(ttft), *p(itl), *p(e2e)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plot", metavar="PATH", help="also save a PNG of TTFT and E2E latency")
    parser.add_argument("--requests", type=int, default=16, help="requests per run")
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    args = parser.parse_args()
    models = ("tiny_llama", "tiny_llama_stream")

    def measure(url):
        for model in models:  # warm-up
            run(url, model, 1, 1, 2)
        return {(c, m): summary(*run(url, m, c, args.requests, args.new_tokens), args.new_tokens)
                for c in args.concurrency for m in models}

    if "TRITON_GRPC_URL" in os.environ:  # the test run's server
        rows = measure(os.environ["TRITON_GRPC_URL"])
    else:
        from _triton_server import triton_server

        with triton_server(models=list(models)) as server:
            rows = measure(server.grpc_url)
    print(f"# tritonclient {metadata.version('tritonclient')}, {os.cpu_count()} CPUs; tiny Llama "
          f"(Python backend, 1 CPU instance), {args.requests} requests of {args.new_tokens} new "
          "tokens per row, concurrency = requests in flight")
    print(f"{'concurrency':>11} {'model':>17} {'tok/s':>6} {'TTFT p50':>9} {'p95':>6} "
          f"{'ITL p50':>8} {'p95':>6} {'E2E p50':>8} {'p95':>6}   (ms)")
    for (c, m), (tps, *ms) in rows.items():
        print(f"{c:11d} {m:>17} {tps:6.1f} "
              + " ".join(f"{v:{w}.1f}" for v, w in zip(ms, (9, 6, 8, 6, 8, 6))))
    for c in args.concurrency:
        plain, stream = rows[c, "tiny_llama"], rows[c, "tiny_llama_stream"]
        print(f"concurrency {c}: streaming p50 TTFT is {stream[1] / plain[1]:.2f}x of the "
              f"single response's, throughput {stream[0] / plain[0]:.2f}x")
    if args.plot:
        plot(rows, args.concurrency, models, args.plot)


def plot(rows, levels, models, path):
    """Grouped bars: p50 TTFT and p50 E2E latency of each model at each concurrency."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    width, x = 0.2, np.arange(len(levels))
    bars = [(m, "TTFT", 1) for m in models] + [(m, "E2E", 5) for m in models]
    for i, (model, what, index) in enumerate(bars):
        ax.bar(x + (i - 1.5) * width, [rows[c, model][index] for c in levels], width,
               label=f"{model}: p50 {what}")
    ax.set_xticks(x, [f"{c} in flight" for c in levels])
    ax.set_ylabel("latency (ms)")
    ax.set_title("Tiny Llama on Triton (CPU): first token vs whole response")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
