# pytest: distributed
# --8<-- [start:code]
"""Wrapping each block: more (smaller) all-gathers, far fewer weights unsharded at once."""
import os
import socket
import warnings

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.distributed.fsdp import fully_shard
from torch.distributed.tensor import DTensor
from torch.distributed.tensor.debug import CommDebugMode


# CommDebugMode's hooks hand FSDP a view of the output, and FSDP warns about views (harmless here)
warnings.filterwarnings("ignore", message="FSDP2-wrapped module", category=UserWarning)


def measure(wrapping):
    torch.manual_seed(0)
    model = nn.Sequential(*[nn.Sequential(nn.Linear(32, 32), nn.ReLU()) for _ in range(4)])
    if wrapping != "root only":
        for block in model:  # bottom-up: blocks first, the root last
            fully_shard(block, reshard_after_forward=(wrapping == "per block"))
    fully_shard(model)
    peak = 0

    def count_unsharded(module, args, output):  # plain tensors = currently all-gathered weights
        nonlocal peak
        peak = max(peak, sum(p.numel() for p in model.parameters() if not isinstance(p, DTensor)))

    for block in model:
        block[0].register_forward_hook(count_unsharded)
    x = torch.randn(4, 32, requires_grad=True)  # CommDebugMode's module hooks want an input grad
    with CommDebugMode() as comm:  # counts the collectives issued inside the block
        model(x).sum().backward()
    counts = comm.get_comm_counts()
    return (counts[torch.ops.c10d._allgather_base_], counts[torch.ops.c10d._reduce_scatter_base_],
            peak, sum(p.numel() for p in model.parameters()))


def worker(rank, world):
    dist.init_process_group("gloo", rank=rank, world_size=world)
    results = {w: measure(w) for w in ("root only", "per block", "blocks, no reshard")}
    if rank == 0:
        print(f"{'wrapping':18} all-gathers  reduce-scatters  peak unsharded in forward")
        for wrapping, (gathers, scatters, peak, total) in results.items():
            print(f"{wrapping:18} {gathers:11}  {scatters:15}  {peak} of {total}")
    for r in range(world):  # one rank at a time, so that the lines do not interleave
        if r == rank:
            print(f"rank {rank}/{world}: (gathers, scatters) {[v[:2] for v in results.values()]}",
                  flush=True)
        dist.barrier()
    assert results["per block"][2] == results["root only"][2] // 4  # one block of four at a time
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    mp.start_processes(worker, args=(2,), nprocs=2, start_method="fork")
# --8<-- [end:code]
