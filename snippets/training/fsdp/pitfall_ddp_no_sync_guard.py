# pytest: distributed
# --8<-- [start:code]
"""A DDP-only `no_sync` guard does nothing under FSDP2: every micro-batch reduce-scatters."""
import contextlib
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.distributed.fsdp import fully_shard
from torch.nn.parallel import DistributedDataParallel

MICRO = 4  # micro-batches per optimizer step
CALLS = {"reduce_scatter": 0}
_reduce_scatter = dist.reduce_scatter_single  # what FSDP2 calls in torch 2.13


def counted(*args, **kwargs):
    CALLS["reduce_scatter"] += 1
    return _reduce_scatter(*args, **kwargs)


dist.reduce_scatter_single = counted


def build():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 1))
    return fully_shard(model)


def accumulate(model, rank, skip_sync):
    """One optimizer step over MICRO micro-batches; returns the summed gradient of layer 0."""
    CALLS["reduce_scatter"] = 0
    for i in range(MICRO):
        x = torch.randn(2, 8, generator=torch.Generator().manual_seed(10 * i + rank))
        last = i == MICRO - 1
        with skip_sync(model, last):
            (model(x).square().mean() / MICRO).backward()
    return model[0].weight.grad.full_tensor()


def ddp_guard(model, last):
    """WRONG: the usual DDP code path; an FSDP2 model is not a DDP instance, so it never skips."""
    if isinstance(model, DistributedDataParallel) and not last:
        return model.no_sync()
    return contextlib.nullcontext()


def fsdp2_guard(model, last):
    """RIGHT: FSDP2's switch; off for all but the last micro-batch, back on for the last."""
    model.set_requires_gradient_sync(last)
    return contextlib.nullcontext()


def worker(rank, world):
    dist.init_process_group("gloo", rank=rank, world_size=world)
    wrong_grad = accumulate(build(), rank, ddp_guard)
    wrong = CALLS["reduce_scatter"]
    right_grad = accumulate(build(), rank, fsdp2_guard)
    right = CALLS["reduce_scatter"]
    same = torch.allclose(wrong_grad, right_grad, atol=1e-6)
    assert same and right < wrong
    for r in range(world):
        if r == rank:
            print(f"rank {rank}/{world}: reduce-scatter calls per step: DDP guard {wrong}, "
                  f"set_requires_gradient_sync {right}; same gradient: {same}", flush=True)
        dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    mp.start_processes(worker, args=(2,), nprocs=2, start_method="fork")
# --8<-- [end:code]
