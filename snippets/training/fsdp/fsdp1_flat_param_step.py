# pytest: distributed
# --8<-- [start:code]
"""FSDP1 flattens a unit's parameters into ONE vector and shards that; the step still matches."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.distributed.fsdp import FullyShardedDataParallel as FSDP


def make_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))  # 212 values in all


def worker(rank, world):
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(1)
    x, y = torch.randn(16, 8), torch.randn(16, 4)
    ref = make_model()
    nn.functional.mse_loss(ref(x), y).backward()
    torch.optim.SGD(ref.parameters(), lr=0.1).step()

    # device_id=cpu keeps everything on the CPU; use_orig_params=True keeps the original
    # parameter names visible (as views into this rank's piece of the flat vector)
    model = FSDP(make_model(), device_id=torch.device("cpu"), use_orig_params=True)
    sizes = {name.removeprefix("_fsdp_wrapped_module."): p.numel()
             for name, p in model.named_parameters()}
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    rows = slice(rank * 8, rank * 8 + 8)
    nn.functional.mse_loss(model(x[rows]), y[rows]).backward()
    optimizer.step()
    with FSDP.summon_full_params(model):  # all-gather the full weights for a moment
        diff = max((p - r).abs().max().item() for p, r in zip(model.parameters(), ref.parameters()))
    all_sizes = [None] * world
    dist.all_gather_object(all_sizes, sizes)
    if rank == 0:
        total = sum(p.numel() for p in ref.parameters())
        print(f"one flat vector of {total} values, {total // world} per rank")
        for r, s in enumerate(all_sizes):
            print(f"rank {r} holds values of:", s)
        print(f"max |FSDP1 - single| after the step < 1e-6: {diff < 1e-6}")  # float rounding
    for r in range(world):  # one rank at a time, so that the lines do not interleave
        if r == rank:
            print(f"rank {rank}/{world}: holds {sum(sizes.values())} values", flush=True)
        dist.barrier()
    assert diff < 1e-6
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    mp.start_processes(worker, args=(2,), nprocs=2, start_method="fork")
# --8<-- [end:code]
