# pytest: distributed
# --8<-- [start:code]
"""FairScale OSS and torch's ZeroRedundancyOptimizer: different partitions, same parameters."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from fairscale.optim import OSS
from torch.distributed.optim import ZeroRedundancyOptimizer
from torch.nn.parallel import DistributedDataParallel as DDP

WORLD, STEPS = 2, 5


def make_model():  # tensors 0..7 = weight, bias of 4 x Linear(32, 32)
    torch.manual_seed(0)
    return torch.nn.Sequential(*[torch.nn.Linear(32, 32) for _ in range(4)])


def train(model, opt, rank=0, world=1):
    for step in range(STEPS):
        g = torch.Generator().manual_seed(step)
        x, y = torch.randn(8, 32, generator=g), torch.randn(8, 32, generator=g)
        F.mse_loss(model(x[rank::world]), y[rank::world]).backward()
        opt.step()
        opt.zero_grad()


def worker(rank, reference):
    dist.init_process_group("gloo", rank=rank, world_size=WORLD)
    a, b = DDP(make_model()), DDP(make_model())
    oss = OSS(a.parameters(), optim=torch.optim.Adam, lr=1e-2)
    zero = ZeroRedundancyOptimizer(b.parameters(), optimizer_class=torch.optim.Adam, lr=1e-2)
    train(a, oss, rank, WORLD)
    train(b, zero, rank, WORLD)

    def owned(model, opt):  # both keep the real optimizer in .optim, with only my tensors
        index = {p: i for i, p in enumerate(model.parameters())}
        return sorted(index[p] for p in opt.optim.state)

    for r in range(WORLD):
        if r == rank:
            print(f"rank {rank}/{WORLD}: OSS owns tensors {owned(a, oss)}, "
                  f"ZeroRedundancyOptimizer owns {owned(b, zero)}", flush=True)
        dist.barrier()
    diff = max((p - q).abs().max().item() for p, q in zip(a.parameters(), b.parameters()))
    to_ref = max((p - q).abs().max().item() for p, q in zip(b.parameters(), reference))
    assert diff < 1e-6 and to_ref < 1e-6
    if rank == 0:
        print(f"rank 0/{WORLD}: max |OSS - ZeroRedundancyOptimizer| = {diff:.1e}\n"
              f"rank 0/{WORLD}: max |ZeroRedundancyOptimizer - single-process Adam| < 1e-6: "
              f"{to_ref < 1e-6}", flush=True)  # float rounding: its digits vary by CPU
    dist.destroy_process_group()


if __name__ == "__main__":
    model = make_model()  # the reference: one process, whole batch, plain Adam
    train(model, torch.optim.Adam(model.parameters(), lr=1e-2))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free_port = s.getsockname()[1]
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", str(free_port))
    # fork: the workers reuse the parent's imports (fine on CPU; use spawn with CUDA)
    mp.start_processes(worker, args=(list(model.parameters()),), nprocs=WORLD, start_method="fork")
# --8<-- [end:code]
