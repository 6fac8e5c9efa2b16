# pytest: distributed
# --8<-- [start:code]
"""Save a full optimizer state from sharded OSS: consolidate on every rank, save on rank 0."""
import os
import socket
import tempfile

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from fairscale.optim import OSS
from torch.nn.parallel import DistributedDataParallel as DDP

WORLD, STEPS = 2, 3


def make_model():
    torch.manual_seed(0)
    return torch.nn.Sequential(*[torch.nn.Linear(32, 32) for _ in range(4)])


def train(model, opt, rank=0, world=1):  # the same 8 rows per step, split across ranks
    for step in range(STEPS):
        g = torch.Generator().manual_seed(step)
        x, y = torch.randn(8, 32, generator=g), torch.randn(8, 32, generator=g)
        F.mse_loss(model(x[rank::world]), y[rank::world]).backward()
        opt.step()
        opt.zero_grad()


def worker(rank, folder):
    dist.init_process_group("gloo", rank=rank, world_size=WORLD)
    model = DDP(make_model())
    opt = OSS(model.parameters(), optim=torch.optim.Adam, lr=1e-2)
    train(model, opt, rank, WORLD)
    for r in range(WORLD):  # print in rank order so the output is stable
        if r == rank:
            print(f"rank {rank}/{WORLD}: my shard: Adam state for {len(opt.optim.state)} tensors",
                  flush=True)
        dist.barrier()
    opt.consolidate_state_dict(recipient_rank=0)  # a collective: every rank must call it
    path = os.path.join(folder, "optim.pt")
    if rank == 0:  # only the recipient has the full state, so only it saves
        torch.save(opt.state_dict(), path)  # trusted: optimizer state, read back only below
    dist.barrier()  # the file is complete before anyone reads it
    resumed = OSS(make_model().parameters(), optim=torch.optim.Adam, lr=1e-2)
    resumed.load_state_dict(torch.load(path))  # trusted: rank 0 wrote it; each rank loads all ...
    assert len(resumed.optim.state) == 4  # ... and keeps only the state of its own shard
    dist.destroy_process_group()


if __name__ == "__main__":
    model = make_model()  # reference first: one process, whole batch, plain Adam
    ref = torch.optim.Adam(model.parameters(), lr=1e-2)
    train(model, ref)
    expected = ref.state_dict()["state"]

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free_port = s.getsockname()[1]
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", str(free_port))
    with tempfile.TemporaryDirectory() as folder:
        # fork: the workers reuse the parent's imports (fine on CPU; use spawn with CUDA)
        mp.start_processes(worker, args=(folder,), nprocs=WORLD, start_method="fork")
        saved = torch.load(os.path.join(folder, "optim.pt"))  # trusted: the workers wrote it

    # The file is an ordinary torch.optim.Adam state dict, with all 8 tensors in global order:
    print("saved state for tensors", sorted(saved["state"]))
    diff = max((saved["state"][i][k] - expected[i][k]).abs().max().item()
               for i in expected for k in ("exp_avg", "exp_avg_sq"))
    # The difference is float rounding (~1e-9), whose digits vary by CPU: print the bound instead.
    print(f"max |saved - single-process Adam state| < 1e-8: {diff < 1e-8}")
    assert sorted(saved["state"]) == list(range(8)) and diff < 1e-8
    torch.optim.Adam(model.parameters(), lr=1e-2).load_state_dict(saved)  # loads without OSS
# --8<-- [end:code]
