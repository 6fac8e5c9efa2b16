# pytest: distributed
# --8<-- [start:code]
"""Sequence parallelism by hand: each rank's LayerNorm sees half the tokens, so its weight
gradient is a partial sum. Unless it is all-reduced across the tensor-parallel ranks, the
replicas drift apart (NVIDIA/Megatron-LM#443, EleutherAI/gpt-neox#1257)."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

S, B, H = 8, 2, 16  # layout (s, b, h), as in Megatron


def train(x_rows, y_rows, all_reduce_grads, steps=3):
    """A few SGD steps of a LayerNorm on this rank's rows; returns its weight afterwards."""
    torch.manual_seed(0)
    norm = nn.LayerNorm(H)
    optimizer = torch.optim.SGD(norm.parameters(), lr=0.5)
    for _ in range(steps):
        # a sum over tokens (over ALL S * B of them, when the ranks' parts are added up)
        loss = ((norm(x_rows) - y_rows) ** 2).sum() / (S * B)
        loss.backward()
        if all_reduce_grads:  # what Megatron does for parameters marked sequence_parallel
            for p in norm.parameters():
                dist.all_reduce(p.grad)
        optimizer.step()
        optimizer.zero_grad()
    return norm.weight.detach()


def worker(rank, world):
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(1)
    x, y = torch.randn(S, B, H), torch.randn(S, B, H)
    ref = train(x, y, all_reduce_grads=False)  # one process, every token
    rows = slice(rank * S // world, (rank + 1) * S // world)  # this rank's part of the sequence
    lines = []
    for reduce in (False, True):  # WRONG, then RIGHT
        weight = train(x[rows], y[rows], all_reduce_grads=reduce)
        replicas = [torch.empty_like(weight) for _ in range(world)]
        dist.all_gather(replicas, weight)  # every rank's copy of the LayerNorm weight
        gap = (replicas[0] - replicas[1]).abs().max().item()  # between the two ranks' copies
        error = (weight - ref).abs().max().item()  # from the single-process LayerNorm
        lines.append(f"all-reduce {reduce!s:<5}: replicas agree: {gap < 1e-6}, "
                     f"equal to one process: {error < 1e-5}")
        assert (gap > 1e-3 and error > 1e-3) if not reduce else (gap < 1e-6 and error < 1e-5)
    for r in range(world):
        if r == rank:
            print(f"rank {rank}/{world}: LayerNorm on rows {rows.start}-{rows.stop - 1}\n  "
                  + "\n  ".join(lines), flush=True)
        dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    mp.start_processes(worker, args=(2,), nprocs=2, start_method="fork")
# --8<-- [end:code]
