# pytest: gpu, needs-tritonclient, needs-triton-server
# --8<-- [start:code]
"""The dynamic batching benchmark on a GPU: the same measurement, with the KIND_GPU MLP models.

mlp_plain_gpu, mlp_two_instances_gpu and mlp_batched_gpu (model_repository_gpu/) hold a
4096 -> 16384 -> 4096 MLP (512 MB of float32 weights) on GPU 0: one instance, two instances, and
one instance with a dynamic batcher configured as the CPU benchmark's (no preferred_batch_size).
"""
import argparse
import os
import sys
from importlib import metadata

import torch
from benchmark_dynamic_batching import measure, plot, report  # the CPU benchmark's functions


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plot", metavar="PATH", help="also save a PNG of the result")
    parser.add_argument("--requests", type=int, default=512, help="requests per measurement")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit("this benchmark needs a CUDA GPU "
                 "(and a CUDA build of torch in the server environment)")
    # 128 in flight: NVIDIA's peak-throughput point, 2 x max_batch_size (64) x instances (1)
    models = ("mlp_plain_gpu", "mlp_two_instances_gpu", "mlp_batched_gpu")
    levels = (1, 8, 64, 128)
    options = dict(models=models, in_flight_levels=levels, requests=args.requests,
                   rounds=args.rounds, width=4096)
    # the test run's server (it serves model_repository_gpu on CUDA)
    if "TRITON_GRPC_URL" in os.environ:
        results, version = measure(os.environ["TRITON_GRPC_URL"], **options)
    else:
        from _triton_server import GPU_MODEL_REPOSITORY, triton_server

        with triton_server([GPU_MODEL_REPOSITORY], models=list(models)) as server:
            results, version = measure(server.grpc_url, **options)
    gpu = torch.cuda.get_device_name(0)
    report(results, models, levels,
           f"# Triton {version} (Python backend, instances on {gpu}), tritonclient "
           f"{metadata.version('tritonclient')}; {args.requests} one-row requests "
           f"per run, median of {args.rounds}")
    if args.plot:
        plot(results, models, levels, args.plot,
             f"Triton instances and dynamic batching, MLP 4096-16384-4096 on {gpu}")


if __name__ == "__main__":
    main()
# --8<-- [end:code]
