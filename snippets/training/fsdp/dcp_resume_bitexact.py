# pytest: distributed
# --8<-- [start:code]
"""Save model AND optimizer state with Distributed Checkpoint; a new run resumes bit-exactly."""
import json
import os
import socket
import tempfile
from pathlib import Path

import torch
import torch.distributed as dist
import torch.distributed.checkpoint as dcp
import torch.multiprocessing as mp
from torch import nn
from torch.distributed.checkpoint.state_dict import (get_model_state_dict, get_state_dict,
                                                     set_model_state_dict, set_state_dict)
from torch.distributed.fsdp import fully_shard

STEPS, SAVE_AT = 6, 3


def batch(step, rank):
    """This rank's rows of the batch of `step`: the same in every run, like a seeded loader."""
    g = torch.Generator().manual_seed(1000 * step + rank)
    return torch.randn(4, 8, generator=g), torch.randn(4, 1, generator=g)


def setup(seed):
    """A sharded MLP and its AdamW; `seed` differs between runs, so a resume must load weights."""
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 1))
    for layer in model:
        if isinstance(layer, nn.Linear):
            fully_shard(layer)
    fully_shard(model)
    return model, torch.optim.AdamW(model.parameters(), lr=1e-2)


def train(model, optim, steps, rank):
    """Train over `steps`; return the global loss of each step, averaged over ranks."""
    losses = []
    for step in steps:
        x, y = batch(step, rank)
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        optim.step()
        optim.zero_grad()
        total = loss.detach().clone()
        dist.all_reduce(total)
        losses.append((total / dist.get_world_size()).item())
    return losses


def first_run(rank, world, ckpt, out):
    dist.init_process_group("gloo", rank=rank, world_size=world)
    model, optim = setup(seed=0)
    full = train(model, optim, range(STEPS), rank)  # the uninterrupted reference
    model, optim = setup(seed=0)
    before = train(model, optim, range(SAVE_AT), rank)
    # Each rank writes only its shards of weights AND AdamW's exp_avg/exp_avg_sq/step.
    model_sd, optim_sd = get_state_dict(model, optim)
    dcp.save({"model": model_sd, "optim": optim_sd}, checkpoint_id=ckpt)
    if rank == 0:
        Path(out).write_text(json.dumps({"full": full, "before": before}))
    dist.destroy_process_group()


def resumed_run(rank, world, ckpt, out):
    dist.init_process_group("gloo", rank=rank, world_size=world)
    model, optim = setup(seed=123)  # new processes, other initial weights, empty AdamW state
    model_sd, optim_sd = get_state_dict(model, optim)  # templates: shapes and sharding to fill
    state = {"model": model_sd, "optim": optim_sd}
    dcp.load(state, checkpoint_id=ckpt)  # in place, each rank reads the shards it owns
    set_state_dict(model, optim, model_state_dict=state["model"],
                   optim_state_dict=state["optim"])
    after = train(model, optim, range(SAVE_AT, STEPS), rank)
    # What a resume that skips the optimizer would do: weights only, fresh AdamW moments.
    weights_only, fresh_optim = setup(seed=123)
    sd = {"model": get_model_state_dict(weights_only)}
    dcp.load(sd, checkpoint_id=ckpt)  # loads only the keys asked for
    set_model_state_dict(weights_only, sd["model"])
    no_optim = train(weights_only, fresh_optim, range(SAVE_AT, STEPS), rank)
    files = sorted(p.name for p in Path(ckpt).iterdir())
    for r in range(world):  # one rank at a time, so that the lines come out in rank order
        if r == rank:
            print(f"rank {rank}/{world}: resumed {len(after)} steps", flush=True)
        dist.barrier()
    if rank == 0:
        Path(out).write_text(json.dumps({"after": after, "no_optim": no_optim, "files": files}))
    dist.destroy_process_group()


def launch(fn, *args):
    with socket.socket() as s:  # a free port per launch: each launch is a new job
        s.bind(("127.0.0.1", 0))
        os.environ["MASTER_PORT"] = str(s.getsockname()[1])
    mp.start_processes(fn, args=(2, *args), nprocs=2, start_method="fork")


if __name__ == "__main__":
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    with tempfile.TemporaryDirectory() as tmp:
        ckpt, first, second = f"{tmp}/step3", f"{tmp}/first.json", f"{tmp}/second.json"
        launch(first_run, ckpt, first)
        launch(resumed_run, ckpt, second)
        a, b = json.loads(Path(first).read_text()), json.loads(Path(second).read_text())
    print("checkpoint files:", b["files"])
    print("uninterrupted :", [round(v, 3) for v in a["full"]])
    print("save + resume :", [round(v, 3) for v in a["before"] + b["after"]])
    exact = a["before"] + b["after"] == a["full"]  # float equality: bit for bit
    drift = max(abs(u - v) for u, v in zip(b["no_optim"], a["full"][SAVE_AT:]))
    print("resumed losses bit-exactly equal:", exact)
    print(f"weights only, fresh AdamW: losses differ by up to {drift:.2f}")
    assert exact and drift > 1e-4
# --8<-- [end:code]
