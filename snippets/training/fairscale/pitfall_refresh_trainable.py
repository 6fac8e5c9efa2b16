# pytest: distributed
# --8<-- [start:code]
"""Unfreezing a layer mid-training: ShardedDDP and OSS must be told (refresh_trainable)."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from fairscale.nn.data_parallel import ShardedDataParallel
from fairscale.optim import OSS

WORLD, STEPS, UNFREEZE_AT = 2, 5, 2


def make_model():  # layer 0 starts frozen, as in fine-tuning that unfreezes it later
    torch.manual_seed(0)
    model = torch.nn.Sequential(*[torch.nn.Linear(32, 32) for _ in range(4)])
    model[0].requires_grad_(False)
    return model


def train(model, opt, forward, rank=0, world=1, refresh=None):
    for step in range(STEPS):
        if step == UNFREEZE_AT:
            model[0].requires_grad_(True)
            if refresh is not None:
                refresh()  # RIGHT: re-plans reduce hooks, buckets and OSS broadcasts
        g = torch.Generator().manual_seed(step)
        x, y = torch.randn(8, 32, generator=g), torch.randn(8, 32, generator=g)
        F.mse_loss(forward(x[rank::world]), y[rank::world]).backward()
        opt.step()
        opt.zero_grad(set_to_none=False)  # keep SDP's bucket views (see the pitfall above)


def worker(rank, reference):
    dist.init_process_group("gloo", rank=rank, world_size=WORLD)
    for fix in (False, True):
        model = make_model()
        opt = OSS(model.parameters(), optim=torch.optim.Adam, lr=1e-2)
        # auto_refresh_trainable=False skips a check on every forward; the default (True)
        # would notice the change, log a warning and refresh by itself.
        sdp = ShardedDataParallel(model, opt, auto_refresh_trainable=False)
        train(model, opt, sdp, rank, WORLD, sdp.refresh_trainable if fix else None)
        w = model[0].weight.detach().clone()
        dist.broadcast(w, src=0)  # rank 0's copy of the unfrozen weight
        across = (model[0].weight - w).abs().max().item()
        vs_ref = max((p - q).abs().max().item() for p, q in zip(model.parameters(), reference))
        for r in range(WORLD):
            if r == rank:
                print(f"rank {rank}/{WORLD}: refresh_trainable={fix}: layer 0 vs rank 0 "
                      f"{across:.2f}, model vs reference {vs_ref:.2f}", flush=True)
            dist.barrier()
        if fix:
            assert across == 0 and vs_ref < 1e-6
        else:  # rank 1's copy of layer 0 has drifted away from rank 0's
            assert vs_ref > 1e-3 and (rank == 0 or across > 1e-3)
    dist.destroy_process_group()


if __name__ == "__main__":
    model = make_model()  # the reference: one process, whole batch, plain Adam, same unfreezing
    train(model, torch.optim.Adam(model.parameters(), lr=1e-2), model)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free_port = s.getsockname()[1]
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", str(free_port))
    # fork: the workers reuse the parent's imports (fine on CPU; use spawn with CUDA)
    mp.start_processes(worker, args=(list(model.parameters()),), nprocs=WORLD, start_method="fork")
# --8<-- [end:code]
