# pytest: distributed
# --8<-- [start:code]
"""OSS + DDP on 2 gloo processes: each rank keeps Adam state for half the model, yet the
parameters end up equal to one process running plain Adam on the whole batch."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from fairscale.optim import OSS
from torch.nn.parallel import DistributedDataParallel as DDP

WORLD, STEPS = 2, 5


def make_model():  # 4 x Linear(32, 32): 4,224 parameters in 8 tensors
    torch.manual_seed(0)
    return torch.nn.Sequential(*[torch.nn.Linear(32, 32) for _ in range(4)])


def train(model, opt, rank=0, world=1):  # the same 8 rows per step; rank r takes rows r::world
    for step in range(STEPS):
        g = torch.Generator().manual_seed(step)
        x, y = torch.randn(8, 32, generator=g), torch.randn(8, 32, generator=g)
        F.mse_loss(model(x[rank::world]), y[rank::world]).backward()
        opt.step()  # OSS: Adam on my shard only, then every shard is broadcast to all ranks
        opt.zero_grad()


def worker(rank, reference):
    dist.init_process_group("gloo", rank=rank, world_size=WORLD)
    model = DDP(make_model())  # DDP all-reduces (averages) the gradients
    opt = OSS(model.parameters(), optim=torch.optim.Adam, lr=1e-2)  # Adam, sharded
    train(model, opt, rank, WORLD)

    # The real Adam lives in opt.optim and only knows this rank's parameters.
    state = opt.optim.state.values()
    floats = sum(s["exp_avg"].numel() + s["exp_avg_sq"].numel() for s in state)
    total = sum(p.numel() for p in model.parameters())
    for r in range(WORLD):  # print in rank order so the output is stable
        if r == rank:
            print(f"rank {rank}/{WORLD}: Adam state for {len(state)} of 8 tensors, "
                  f"{floats:,} floats (plain Adam: {2 * total:,})", flush=True)
        dist.barrier()
    diff = max((p - q).abs().max().item() for p, q in zip(model.parameters(), reference))
    assert floats == total and diff < 1e-6  # exactly half the state, same parameters
    if rank == 0:
        print(f"rank 0/{WORLD}: max |OSS+DDP - single-process Adam| < 1e-6: {diff < 1e-6}",
              flush=True)  # the difference is float rounding, whose digits vary by CPU
    dist.destroy_process_group()


if __name__ == "__main__":
    model = make_model()  # the reference, computed once: one process, whole batch, plain Adam
    train(model, torch.optim.Adam(model.parameters(), lr=1e-2))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free_port = s.getsockname()[1]
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", str(free_port))
    # fork: the workers reuse the parent's imports and its reference model (CPU only; with
    # CUDA use spawn)
    mp.start_processes(worker, args=(list(model.parameters()),), nprocs=WORLD, start_method="fork")
# --8<-- [end:code]
