# pytest: gpu, distributed
# --8<-- [start:code]
"""FSDP2 + TP on a 2-D mesh of GPUs over NCCL: (GPUs / 2) x 2, so 2 x 2 on 4 GPUs. TP inside
pairs of GPUs, FSDP across the pairs; one SGD step equal to one process on the whole batch."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import fully_shard
from torch.distributed.tensor.parallel import ColwiseParallel, RowwiseParallel, parallelize_module


def make_model():
    torch.manual_seed(0)  # the same full weights in every process, built on the GPU
    return nn.Sequential(nn.Linear(64, 256), nn.GELU(), nn.Linear(256, 64),
                         nn.Linear(64, 256), nn.GELU(), nn.Linear(256, 64)).cuda()


def worker(rank, world):
    torch.cuda.set_device(rank)  # one GPU per process
    dist.init_process_group("nccl", rank=rank, world_size=world,
                            device_id=torch.device("cuda", rank))
    mesh = init_device_mesh("cuda", (world // 2, 2), mesh_dim_names=("dp", "tp"))
    torch.manual_seed(1)
    x, y = torch.randn(32, 64, device="cuda"), torch.randn(32, 64, device="cuda")

    ref = make_model()  # reference: one GPU, the whole batch
    nn.functional.mse_loss(ref(x), y).backward()
    torch.optim.SGD(ref.parameters(), lr=0.1).step()

    model = make_model()
    parallelize_module(model, mesh["tp"], {"0": ColwiseParallel(), "2": RowwiseParallel(),
                                           "3": ColwiseParallel(), "5": RowwiseParallel()})
    fully_shard(model, mesh=mesh["dp"])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    dp_rank, dp_size = mesh["dp"].get_local_rank(), world // 2
    rows = slice(dp_rank * 32 // dp_size, (dp_rank + 1) * 32 // dp_size)  # TP pairs: same rows
    nn.functional.mse_loss(model(x[rows]), y[rows]).backward()
    optimizer.step()
    error = max((p.full_tensor() - q).abs().max().item()
                for p, q in zip(model.parameters(), ref.parameters()))
    local = model[0].weight.to_local()
    print(f"rank {rank}/{world}: mesh {tuple(mesh.shape)} (dp, tp), coordinate "
          f"{mesh.get_coordinate()}, weight 0 local {tuple(local.shape)} on {local.device}, "
          f"equal to one GPU (< 1e-5): {error < 1e-5}", flush=True)
    assert error < 1e-5
    dist.destroy_process_group()


if __name__ == "__main__":
    world = torch.cuda.device_count()
    assert world >= 2 and world % 2 == 0, "needs an even number of GPUs, 4 for the 2 x 2 mesh"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    mp.spawn(worker, args=(world,), nprocs=world)  # spawn, not fork: CUDA must not be forked
# --8<-- [end:code]
