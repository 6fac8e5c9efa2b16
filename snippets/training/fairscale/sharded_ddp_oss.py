# pytest: distributed
# --8<-- [start:code]
"""ShardedDataParallel + OSS: gradients are reduced only to the rank that owns them."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from fairscale.nn.data_parallel import ShardedDataParallel
from fairscale.optim import OSS

WORLD, STEPS = 2, 5


def make_model():  # 4 x Linear(32, 32): 8 parameter tensors
    torch.manual_seed(0)
    return torch.nn.Sequential(*[torch.nn.Linear(32, 32) for _ in range(4)])


def train(model, opt, forward, rank=0, world=1):
    for step in range(STEPS):
        g = torch.Generator().manual_seed(step)
        x, y = torch.randn(8, 32, generator=g), torch.randn(8, 32, generator=g)
        F.mse_loss(forward(x[rank::world]), y[rank::world]).backward()
        if step == 0:
            have_grad = sum(p.grad is not None for p in model.parameters())
        opt.step()
        opt.zero_grad()  # safe without buckets; with them, see the zero_grad pitfall
    return have_grad


def worker(rank, reference):
    dist.init_process_group("gloo", rank=rank, world_size=WORLD)
    model = make_model()
    opt = OSS(model.parameters(), optim=torch.optim.Adam, lr=1e-2)  # build OSS first:
    # ShardedDataParallel reads OSS's partition to know where each gradient must go.
    # reduce_buffer_size=0: reduce tensor by tensor, so non-owned grads are freed.
    sdp = ShardedDataParallel(model, opt, reduce_buffer_size=0)
    have_grad = train(model, opt, sdp, rank, WORLD)
    for r in range(WORLD):  # print in rank order so the output is stable
        if r == rank:
            print(f"rank {rank}/{WORLD}: after backward, grads kept for {have_grad} of 8 tensors",
                  flush=True)
        dist.barrier()
    diff = max((p - q).abs().max().item() for p, q in zip(model.parameters(), reference))
    assert have_grad == 4 and diff < 1e-6
    if rank == 0:
        print(f"rank 0/{WORLD}: max |ShardedDDP+OSS - single-process Adam| < 1e-6: {diff < 1e-6}",
              flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    model = make_model()  # the reference: one process, whole batch, plain Adam
    train(model, torch.optim.Adam(model.parameters(), lr=1e-2), model)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free_port = s.getsockname()[1]
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", str(free_port))
    # fork: the workers reuse the parent's imports (fine on CPU; use spawn with CUDA)
    mp.start_processes(worker, args=(list(model.parameters()),), nprocs=WORLD, start_method="fork")
# --8<-- [end:code]
