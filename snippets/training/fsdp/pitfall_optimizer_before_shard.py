# pytest: distributed
# --8<-- [start:code]
"""Build the optimizer AFTER fully_shard: before it, it holds parameters FSDP then replaces."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.distributed.fsdp import fully_shard


def one_step(rank, world, optimizer_first):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
    if optimizer_first:  # WRONG: these tensors are about to be swapped out for DTensor shards
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = [p.detach().clone() for p in model.parameters()]
    fully_shard(model)
    if not optimizer_first:  # RIGHT: the parameters the module holds now, i.e. the shards
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    held = optimizer.param_groups[0]["params"]
    registered = all(any(h is p for p in model.parameters()) for h in held)
    torch.manual_seed(1 + rank)
    model(torch.randn(4, 8)).pow(2).mean().backward()
    optimizer.step()  # SGD skips parameters whose .grad is None
    moved = sum((p.full_tensor() - b).abs().sum().item()
                for p, b in zip(model.parameters(), before))
    return registered, moved


def worker(rank, world):
    dist.init_process_group("gloo", rank=rank, world_size=world)
    wrong, right = one_step(rank, world, True), one_step(rank, world, False)
    if rank == 0:
        for name, (registered, moved) in (("wrong", wrong), ("right", right)):
            print(f"{name}: optimizer holds the model's parameters: {registered}, "
                  f"weights moved {moved:.3f}")
    for r in range(world):  # one rank at a time, so that the lines do not interleave
        if r == rank:
            print(f"rank {rank}/{world}: wrong order trains nothing: {wrong[1] == 0}", flush=True)
        dist.barrier()
    assert wrong == (False, 0.0) and right[0] and right[1] > 0
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    mp.start_processes(worker, args=(2,), nprocs=2, start_method="fork")
# --8<-- [end:code]
