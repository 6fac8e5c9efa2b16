# pytest: distributed
# --8<-- [start:code]
"""fully_shard turns every parameter into a DTensor: each rank keeps one dim-0 slice of it."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.distributed.fsdp import fully_shard


def worker(rank, world):
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(0)  # same seed on every rank, so every rank starts from the same weights
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 5))  # 5 rows: odd on purpose
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    fully_shard(model)  # default mesh = all ranks; each rank keeps its own rows, drops the rest
    rows = []
    for name, p in model.named_parameters():
        # full_tensor() all-gathers the slices; together they are exactly the original weight
        assert torch.equal(p.full_tensor(), before[name])
        rows.append((name, tuple(p.shape), tuple(p.to_local().shape), repr(p.placements[0])))
    tables = [None] * world
    dist.all_gather_object(tables, rows)  # rank 0 prints everybody's shard shapes in one table
    if rank == 0:
        print(f"{'param':9} {'shape':8} {'rank 0':8} {'rank 1':8} placement")
        for (name, shape, local0, placement), (*_, local1, _) in zip(*tables):
            print(f"{name:9} {str(shape):8} {str(local0):8} {str(local1):8} {placement}")
    held = sum(p.to_local().numel() for p in model.parameters())
    total = sum(p.numel() for p in model.parameters())  # a DTensor's numel() is the full size
    for r in range(world):  # one rank at a time, so that the lines do not interleave
        if r == rank:
            print(f"rank {rank}/{world}: holds {held} of {total} parameter values", flush=True)
        dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:  # a free port for the rendezvous, unless a launcher set one
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    # fork: the workers inherit the imported torch instead of importing it again (seconds each)
    mp.start_processes(worker, args=(2,), nprocs=2, start_method="fork")
# --8<-- [end:code]
