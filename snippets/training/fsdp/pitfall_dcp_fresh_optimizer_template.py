# pytest: distributed
# --8<-- [start:code]
"""dcp.load into a fresh optimizer's state_dict() restores no Adam moments, without an error."""
import os
import socket
import tempfile

import torch
import torch.distributed as dist
import torch.distributed.checkpoint as dcp
import torch.multiprocessing as mp
from torch import nn
from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict
from torch.distributed.fsdp import fully_shard


def setup():
    torch.manual_seed(0)
    model = fully_shard(nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 1)))
    return model, torch.optim.AdamW(model.parameters(), lr=1e-2)


def step(model, optim, i, rank):
    g = torch.Generator().manual_seed(100 * i + rank)
    loss = nn.functional.mse_loss(model(torch.randn(4, 8, generator=g)),
                                  torch.randn(4, 1, generator=g))
    loss.backward()
    optim.step()
    optim.zero_grad()
    return loss.item()


def worker(rank, world, ckpt):
    dist.init_process_group("gloo", rank=rank, world_size=world)
    model, optim = setup()
    losses = [step(model, optim, i, rank) for i in range(5)]  # uninterrupted: 5 steps
    model, optim = setup()
    for i in range(3):
        step(model, optim, i, rank)
    model_sd, optim_sd = get_state_dict(model, optim)
    dcp.save({"model": model_sd, "optim": optim_sd}, checkpoint_id=ckpt)

    # WRONG: templates from the new run's own state_dict(). AdamW creates its moments at the
    # first step, so the fresh optimizer's state is {} and dcp.load has nothing to fill.
    model, optim = setup()
    state = {"model": model.state_dict(), "optim": optim.state_dict()}
    dcp.load(state, checkpoint_id=ckpt)
    model.load_state_dict(state["model"])
    optim.load_state_dict(state["optim"])
    moments = len(optim.state)
    wrong = [step(model, optim, i, rank) for i in (3, 4)]  # step 4's loss shows step 3's update

    # RIGHT: get_state_dict builds the optimizer's state (a zero-gradient step) before loading.
    model, optim = setup()
    model_sd, optim_sd = get_state_dict(model, optim)
    state = {"model": model_sd, "optim": optim_sd}
    dcp.load(state, checkpoint_id=ckpt)
    set_state_dict(model, optim, model_state_dict=state["model"], optim_state_dict=state["optim"])
    right = [step(model, optim, i, rank) for i in (3, 4)]
    assert moments == 0 and wrong != losses[3:] and right == losses[3:]
    for r in range(world):
        if r == rank:
            print(f"rank {rank}/{world}: wrong: {moments} parameters with Adam state after load, "
                  f"losses equal: {wrong == losses[3:]} | right: {len(optim.state)} "
                  f"parameters, losses equal: {right == losses[3:]}", flush=True)
        dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    with tempfile.TemporaryDirectory() as tmp:
        mp.start_processes(worker, args=(2, tmp), nprocs=2, start_method="fork")
# --8<-- [end:code]
