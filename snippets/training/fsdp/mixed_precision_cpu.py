# pytest: distributed
# --8<-- [start:code]
"""MixedPrecisionPolicy: fp32 shards (what the optimizer updates), bf16 compute, fp32 reduction."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard


def step(rank, world, policy):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))
    for module in (model[0], model[2], model):
        fully_shard(module, mp_policy=policy)
    seen = {}  # registered after FSDP's own pre-hook, so it sees the all-gathered weight
    model[2].register_forward_pre_hook(lambda m, args: seen.update(weight=m.weight.dtype))
    torch.manual_seed(1)
    x, y = torch.randn(16, 64).chunk(world)[rank], torch.randn(16, 1).chunk(world)[rank]
    out = model(x)
    nn.functional.mse_loss(out.float(), y).backward()
    torch.optim.SGD(model.parameters(), lr=0.1).step()
    grad = model[0].weight.grad
    return [p.full_tensor() for p in model.parameters()], seen["weight"], out.dtype, grad.dtype


def worker(rank, world):
    dist.init_process_group("gloo", rank=rank, world_size=world)
    bf16 = MixedPrecisionPolicy(param_dtype=torch.bfloat16, reduce_dtype=torch.float32)
    full_fp32, *_ = step(rank, world, MixedPrecisionPolicy())  # the default: no casting
    mixed, compute, out_dtype, grad_dtype = step(rank, world, bf16)
    diff = max((a - b).abs().max().item() for a, b in zip(mixed, full_fp32))
    if rank == 0:
        print("stored shard:", mixed[0].dtype, "| weight in forward:", compute,
              "| output:", out_dtype, "| gradient:", grad_dtype)
        # about 1e-3, with digits that depend on the CPU's bf16 kernels: print the range instead
        print(f"0 < max |bf16 step - fp32 step| < 1e-2: {0 < diff < 1e-2}")
    for r in range(world):  # one rank at a time, so that the lines do not interleave
        if r == rank:
            print(f"rank {rank}/{world}: bf16 compute, fp32 update", flush=True)
        dist.barrier()
    assert mixed[0].dtype == grad_dtype == torch.float32 and compute == torch.bfloat16
    assert 0 < diff < 1e-2  # not identical (bf16 keeps 7 mantissa bits, 8 significant), but close
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    mp.start_processes(worker, args=(2,), nprocs=2, start_method="fork")
# --8<-- [end:code]
