# pytest: distributed
# --8<-- [start:code]
"""ShardedDDP with reduce buckets (the default): torch 2's zero_grad() silently breaks training."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from fairscale.nn.data_parallel import ShardedDataParallel
from fairscale.optim import OSS

WORLD, STEPS = 2, 5


def make_model():
    torch.manual_seed(0)
    return torch.nn.Sequential(*[torch.nn.Linear(32, 32) for _ in range(4)])


def train(forward, opt, zero_grad, rank=0, world=1):
    for step in range(STEPS):
        g = torch.Generator().manual_seed(step)
        x, y = torch.randn(8, 32, generator=g), torch.randn(8, 32, generator=g)
        F.mse_loss(forward(x[rank::world]), y[rank::world]).backward()
        opt.step()
        zero_grad()


def worker(rank, reference):
    dist.init_process_group("gloo", rank=rank, world_size=WORLD)
    diffs = []
    for how in ("opt", "sdp"):
        model = make_model()
        opt = OSS(model.parameters(), optim=torch.optim.Adam, lr=1e-2)
        sdp = ShardedDataParallel(model, opt)  # default reduce_buffer_size=2**23: grad buckets
        # WRONG: opt.zero_grad() uses set_to_none=True (the default since torch 2.0), so each
        # .grad stops being a view of the bucket that SDP reduces.
        # RIGHT: sdp.zero_grad() zeroes in place (set_to_none=False) and keeps the views.
        train(sdp, opt, opt.zero_grad if how == "opt" else sdp.zero_grad, rank, WORLD)
        diffs.append(max((p - q).abs().max().item() for p, q in zip(model.parameters(), reference)))
    for r in range(WORLD):
        if r == rank:
            print(f"rank {rank}/{WORLD}: with opt.zero_grad(): max |params - reference| = "
                  f"{diffs[0]:.2f}\nrank {rank}/{WORLD}: with sdp.zero_grad(): max |params - "
                  f"reference| < 1e-6: {diffs[1] < 1e-6}", flush=True)
        dist.barrier()
    assert diffs[0] > 1e-3 and diffs[1] < 1e-6
    dist.destroy_process_group()


if __name__ == "__main__":
    model = make_model()  # the reference: one process, whole batch, plain Adam
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    train(model, opt, opt.zero_grad)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free_port = s.getsockname()[1]
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", str(free_port))
    # fork: the workers reuse the parent's imports (fine on CPU; use spawn with CUDA)
    mp.start_processes(worker, args=(list(model.parameters()),), nprocs=WORLD, start_method="fork")
# --8<-- [end:code]
