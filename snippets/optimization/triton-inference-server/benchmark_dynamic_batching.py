"""Throughput of one model instance with and without Triton's dynamic batcher,
by requests in flight.

mlp_plain and mlp_batched are the same MLP (the same model.py); only mlp_batched's config.pbtxt
has `dynamic_batching { ... }`. Every request carries one row. The load comes from gRPC
`async_infer` calls, with a fixed number of requests in flight (the "concurrency" of Triton's
perf_analyzer). The variants take turns, and each figure is the median of the rounds.
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


def run_requests(grpc_url, model, rows, in_flight):
    """Send every row as its own request, at most `in_flight` at a time; return inferences/s."""
    done, slots = queue.Queue(), threading.Semaphore(in_flight)

    def on_response(result, error):  # runs on a gRPC thread
        slots.release()
        done.put(error)

    with grpcclient.InferenceServerClient(grpc_url) as client:
        start = time.perf_counter()
        for x in rows:
            x_input = grpcclient.InferInput("x", list(x.shape), "FP32")
            x_input.set_data_from_numpy(x)
            slots.acquire()
            client.async_infer(model, [x_input], callback=on_response)
        errors = [done.get(timeout=120) for _ in rows]
        elapsed = time.perf_counter() - start
    assert not any(errors), next(e for e in errors if e)
    return len(rows) / elapsed


def measure(grpc_url, models, in_flight_levels, requests, rounds, width):
    """Median inferences/s for each (in_flight, model), measured in turn;
    and the server's version."""
    rng = np.random.default_rng(0)
    rows = [rng.standard_normal((1, width), dtype=np.float32) for _ in range(requests)]
    for model in models:  # warm-up: first executions, connections
        run_requests(grpc_url, model, rows[:16], 4)
    samples = {(level, model): [] for level in in_flight_levels for model in models}
    for _ in range(rounds):
        for level in in_flight_levels:
            for model in models:
                samples[level, model].append(run_requests(grpc_url, model, rows, level))
    with grpcclient.InferenceServerClient(grpc_url) as client:
        version = client.get_server_metadata().version
    return {key: statistics.median(values) for key, values in samples.items()}, version


def report(results, models, in_flight_levels, header):
    print(header)
    print(f"{'in flight':>9}  {'no batching (inf/s)':>19}  {'dynamic batching (inf/s)':>24}"
          f"  {'ratio':>6}")
    for level in in_flight_levels:
        plain, batched = (results[level, model] for model in models)
        print(f"{level:>9}  {plain:>19.0f}  {batched:>24.0f}  {batched / plain:>5.2f}x")


def plot(results, models, in_flight_levels, path, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for model, label in zip(models, ("no batching", "dynamic batching")):
        ax.plot(in_flight_levels, [results[level, model] for level in in_flight_levels], "o-",
                label=label)
    ax.set_xscale("log", base=2)
    ax.set_xticks(in_flight_levels, [str(level) for level in in_flight_levels])
    ax.set_xlabel("requests in flight (client concurrency)")
    ax.set_ylabel("throughput (inferences/s)")
    ax.set_ylim(bottom=0)
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plot", metavar="PATH", help="also save a PNG of the result")
    parser.add_argument("--requests", type=int, default=96, help="requests per measurement")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    models, levels = ("mlp_plain", "mlp_batched"), (1, 4, 16, 32)
    measure_here = functools.partial(measure, models=models, in_flight_levels=levels,
                                     requests=args.requests, rounds=args.rounds, width=1024)
    if "TRITON_GRPC_URL" in os.environ:  # the test run's server
        results, version = measure_here(os.environ["TRITON_GRPC_URL"])
    else:  # `nox -s measure` or by hand: start a server with the two models only
        from _triton_server import triton_server

        with triton_server(models=list(models)) as server:
            results, version = measure_here(server.grpc_url)
    header = (f"# Triton {version} (Python backend, 1 CPU instance), tritonclient "
              f"{metadata.version('tritonclient')}, {os.cpu_count()} CPUs; {args.requests} one-row "
              f"requests per run, median of {args.rounds}")
    report(results, models, levels, header)
    if args.plot:
        plot(results, models, levels, args.plot,
             "Triton dynamic batching, MLP 1024-4096-1024 on CPU")


if __name__ == "__main__":
    main()
