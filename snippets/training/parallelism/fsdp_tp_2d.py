# pytest: distributed
# --8<-- [start:code]
"""FSDP2 + tensor parallelism on a 2-D device mesh, and HSDP, on 2 gloo ranks: every mesh shape
that 2 processes allow, one SGD step each, equal to one process on the whole batch."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import fully_shard
from torch.distributed.tensor import DTensor
from torch.distributed.tensor.parallel import ColwiseParallel, RowwiseParallel, parallelize_module


def make_model():
    torch.manual_seed(0)  # the same full weights in every process
    return nn.Sequential(nn.Linear(8, 32), nn.GELU(), nn.Linear(32, 8),
                         nn.Linear(8, 32), nn.GELU(), nn.Linear(32, 8))


TP_PLAN = {"0": ColwiseParallel(), "2": RowwiseParallel(),
           "3": ColwiseParallel(), "5": RowwiseParallel()}


def sgd_step(model, x, y):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)  # after sharding: sees the shards
    nn.functional.mse_loss(model(x), y).backward()
    optimizer.step()
    return [p.full_tensor() if isinstance(p, DTensor) else p for p in model.parameters()]


def worker(rank, world):
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(1)
    x, y = torch.randn(8, 8), torch.randn(8, 8)  # the global batch
    ref = sgd_step(make_model(), x, y)  # one process, all 8 rows

    lines = []
    for kind, names, shape in [("FSDP2 + TP", ("dp", "tp"), (1, 2)),
                               ("FSDP2 + TP", ("dp", "tp"), (2, 1)),
                               ("HSDP", ("replicate", "shard"), (1, 2)),
                               ("HSDP", ("replicate", "shard"), (2, 1))]:
        mesh = init_device_mesh("cpu", shape, mesh_dim_names=names)
        model = make_model()
        if kind == "FSDP2 + TP":
            parallelize_module(model, mesh["tp"], TP_PLAN)  # first TP inside each data group
            fully_shard(model, mesh=mesh["dp"])  # then FSDP across the groups
            dp_rank, dp_size = mesh["dp"].get_local_rank(), shape[0]
        else:  # a 2-D mesh given to fully_shard: replicate along dim 0, shard along dim 1
            fully_shard(model, mesh=mesh)
            dp_rank, dp_size = rank, world  # both dims are data parallel: each rank its rows
        rows = slice(dp_rank * 8 // dp_size, (dp_rank + 1) * 8 // dp_size)
        params = sgd_step(model, x[rows], y[rows])
        error = max((p - q).abs().max().item() for p, q in zip(params, ref))
        placements = model[0].weight.placements
        local = tuple(model[0].weight.to_local().shape)
        mesh_text = " x ".join(f"{n}={size}" for n, size in zip(names, shape))
        lines.append(f"{kind:<11}{mesh_text:<22} weight 0 local {local}, equal (< 1e-6): "
                     f"{error < 1e-6}\n{'':<11}placements {placements}")
        assert error < 1e-6
    if rank == 0:
        print("\n".join(lines))
    for r in range(world):
        if r == rank:
            print(f"rank {rank}/{world}: ran 4 mesh shapes", flush=True)
        dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    mp.start_processes(worker, args=(2,), nprocs=2, start_method="fork")
# --8<-- [end:code]
