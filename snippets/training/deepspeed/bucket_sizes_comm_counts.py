# pytest: distributed
# --8<-- [start:code]
"""Count ZeRO's collectives per training step for two bucket sizes: fewer calls, same bytes."""
import functools
import os
import socket
import sys
import warnings
from collections import Counter

import deepspeed
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

warnings.filterwarnings("ignore", r"`torch\.distributed\.(all_gather_into|reduce_scatter)_tensor`",
                        FutureWarning)  # torch 2.13 deprecates two collectives ZeRO still calls
CALLS, BYTES = Counter(), Counter()
COUNTED = ("all_reduce", "reduce_scatter_tensor", "all_gather_into_tensor")


def counting(name):
    """Wrap torch.distributed.<name>: count calls and the bytes of the first tensor argument:
    all_reduce's buffer, the gathered output of an all-gather, the output shard of a
    reduce-scatter."""
    collective = getattr(dist, name)

    @functools.wraps(collective)
    def wrapper(*args, **kwargs):
        tensor = next(t for t in (*args, *kwargs.values()) if torch.is_tensor(t))
        CALLS[name] += 1
        BYTES[name] += tensor.numel() * tensor.element_size()
        return collective(*args, **kwargs)
    return wrapper


for _name in COUNTED:  # deepspeed.comm looks these up on torch.distributed at every call
    setattr(dist, _name, counting(_name))


def one_step(stage, bucket, rank):
    """Collective counts of one fp32 ZeRO-`stage` step, after a warm-up step; buckets = `bucket`."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(*[torch.nn.Linear(64, 64) for _ in range(4)])  # 16,640 params
    zero = {"stage": stage, "reduce_bucket_size": bucket, "allgather_bucket_size": bucket,
            "stage3_prefetch_bucket_size": bucket, "stage3_param_persistence_threshold": 0}
    config = {"train_micro_batch_size_per_gpu": 4, "gradient_clipping": 0.0,
              "zero_optimization": zero}
    engine, *_ = deepspeed.initialize(model=model, config=config,
                                      optimizer=torch.optim.AdamW(model.parameters()))
    x = torch.randn(4, 64, generator=torch.Generator().manual_seed(rank))
    for step in range(2):
        CALLS.clear(), BYTES.clear()  # keep only the last step
        engine.backward(engine(x).square().mean())
        engine.step()
    return {n: (CALLS[n], BYTES[n]) for n in COUNTED if CALLS[n]}


def worker(rank, world):
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
    deepspeed.init_distributed(dist_backend="gloo")
    sys.stdout.flush()  # DeepSpeed's "built" line now, on both ranks: a fixed output order
    dist.barrier()
    for stage in (2, 3):
        for bucket in (2_000, 100_000):
            counts = one_step(stage, bucket, rank)
            if rank == 0:
                print(f"ZeRO-{stage}, buckets of {bucket:>7,} elements: " + ", ".join(
                    f"{n} {c} calls {b:,} B" for n, (c, b) in counts.items()), flush=True)
    for r in range(world):
        if r == rank:
            print(f"rank {rank}/{world}: done", flush=True)
        dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    mp.start_processes(worker, args=(2,), nprocs=2, start_method="fork")
# --8<-- [end:code]
