"""Throughput and request latency of one MLP served three ways, by requests in flight:
one instance, two instances (instance_group count 2), one instance with the dynamic batcher.

mlp_plain, mlp_two_instances and mlp_batched are the same MLP (the same model.py); only their
config.pbtxt differ. Every request carries one row. The load comes from gRPC `async_infer`
calls, with a fixed number of requests in flight (the "concurrency" of Triton's perf_analyzer).
For each request the client records its latency, from sending to its response. The variants take
turns, and each figure is the median of the rounds (latency percentiles: over all rounds).
"""
import argparse
import functools
import os
import queue
import statistics
import threading
import time
from importlib import metadata

import numpy as np
import tritonclient.grpc as grpcclient

LABELS = {"mlp_plain": "1 instance", "mlp_two_instances": "2 instances",
          "mlp_batched": "dynamic batching"}


# --8<-- [start:key]
def run_requests(grpc_url, model, rows, in_flight):
    """Send every row as its own request, at most `in_flight` at a time.

    Returns (inferences/s, list of request latencies in seconds).
    """
    done, slots = queue.Queue(), threading.Semaphore(in_flight)

    def on_response(sent, result, error):  # runs on a gRPC thread
        slots.release()
        done.put((error, time.perf_counter() - sent))

    with grpcclient.InferenceServerClient(grpc_url) as client:
        start = time.perf_counter()
        for x in rows:
            x_input = grpcclient.InferInput("x", list(x.shape), "FP32")
            x_input.set_data_from_numpy(x)
            slots.acquire()
            client.async_infer(model, [x_input],
                               callback=functools.partial(on_response, time.perf_counter()))
        answers = [done.get(timeout=120) for _ in rows]
        elapsed = time.perf_counter() - start
    errors = [error for error, _ in answers if error]
    assert not errors, errors[0]
    return len(rows) / elapsed, [latency for _, latency in answers]
# --8<-- [end:key]


def measure(grpc_url, models, in_flight_levels, requests, rounds, width):
    """{(in_flight, model): (median inferences/s, p50 ms, p95 ms)}, measured in turn;
    and the server's version."""
    rng = np.random.default_rng(0)
    rows = [rng.standard_normal((1, width), dtype=np.float32) for _ in range(requests)]
    for model in models:  # warm-up: first executions, connections
        run_requests(grpc_url, model, rows[:16], 4)
    rates = {(level, model): [] for level in in_flight_levels for model in models}
    latencies = {key: [] for key in rates}
    for _ in range(rounds):
        for level in in_flight_levels:
            for model in models:
                rate, seconds = run_requests(grpc_url, model, rows, level)
                rates[level, model].append(rate)
                latencies[level, model] += seconds
    with grpcclient.InferenceServerClient(grpc_url) as client:
        version = client.get_server_metadata().version
    results = {key: (statistics.median(rates[key]),
                     *(1e3 * np.percentile(latencies[key], [50, 95]))) for key in rates}
    return results, version


def label(model):
    return LABELS[model.removesuffix("_gpu")]


def report(results, models, in_flight_levels, header):
    """Print throughput, then p50/p95 latency, for each level and model; the first model is the
    baseline of the ratios."""
    print(header)
    print("throughput (inferences/s), and its ratio to " + label(models[0]))
    print(f"{'in flight':>9}" + "".join(f"  {label(m):>16}" for m in models)
          + "".join(f"  {'ratio':>6}" for _ in models[1:]))
    for level in in_flight_levels:
        rates = [results[level, model][0] for model in models]
        print(f"{level:>9}" + "".join(f"  {rate:>16.0f}" for rate in rates)
              + "".join(f"  {rate / rates[0]:>5.2f}x" for rate in rates[1:]))
    print("request latency (ms), p50 / p95")
    print(f"{'in flight':>9}" + "".join(f"  {label(m):>16}" for m in models))
    for level in in_flight_levels:
        cells = [f"{results[level, m][1]:.1f} / {results[level, m][2]:.1f}" for m in models]
        print(f"{level:>9}" + "".join(f"  {cell:>16}" for cell in cells))


def plot(results, models, in_flight_levels, path, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for model, marker in zip(models, "osd"):
        left.plot(in_flight_levels, [results[level, model][0] for level in in_flight_levels],
                  marker + "-", label=label(model))
        right.plot(in_flight_levels, [results[level, model][2] for level in in_flight_levels],
                   marker + "-", label=label(model))
    for ax, ylabel in ((left, "throughput (inferences/s)"), (right, "p95 request latency (ms)")):
        ax.set_xscale("log", base=2)
        ax.set_xticks(in_flight_levels, [str(level) for level in in_flight_levels])
        ax.set_xlabel("requests in flight (client concurrency)")
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    left.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plot", metavar="PATH", help="also save a PNG of the result")
    parser.add_argument("--requests", type=int, default=96, help="requests per measurement")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    # 64 in flight: NVIDIA's peak-throughput point, 2 x max_batch_size (32) x instances (1)
    models, levels = ("mlp_plain", "mlp_two_instances", "mlp_batched"), (1, 4, 16, 32, 64)
    measure_here = functools.partial(measure, models=models, in_flight_levels=levels,
                                     requests=args.requests, rounds=args.rounds, width=1024)
    if "TRITON_GRPC_URL" in os.environ:  # the test run's server
        results, version = measure_here(os.environ["TRITON_GRPC_URL"])
    else:  # `nox -s measure` or by hand: start a server with these models only
        from _triton_server import triton_server

        with triton_server(models=list(models)) as server:
            results, version = measure_here(server.grpc_url)
    header = (f"# Triton {version} (Python backend, CPU instances), tritonclient "
              f"{metadata.version('tritonclient')}, {os.cpu_count()} CPUs; {args.requests} one-row "
              f"requests per run, median of {args.rounds}")
    report(results, models, levels, header)
    if args.plot:
        plot(results, models, levels, args.plot,
             "Triton instances and dynamic batching, MLP 1024-4096-1024 on CPU")


if __name__ == "__main__":
    main()
