# pytest: distributed
# --8<-- [start:code]
"""OSS.state_dict() works only after consolidate_state_dict(), and only on the recipient rank."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from fairscale.optim import OSS
from torch.nn.parallel import DistributedDataParallel as DDP

WORLD = 2


def full_state_or_error(opt):
    try:
        return f"state for {len(opt.state_dict()['state'])} tensors"
    except RuntimeError as err:
        return f"RuntimeError: {str(err).split('.')[0]}"


def worker(rank):
    dist.init_process_group("gloo", rank=rank, world_size=WORLD)
    torch.manual_seed(0)
    model = DDP(torch.nn.Sequential(*[torch.nn.Linear(32, 32) for _ in range(4)]))
    opt = OSS(model.parameters(), optim=torch.optim.Adam, lr=1e-2)
    F.mse_loss(model(torch.randn(4, 32)), torch.randn(4, 32)).backward()
    opt.step()

    wrong = full_state_or_error(opt)  # WRONG: nothing consolidated yet, on any rank
    shard = len(opt.optim.state_dict()["state"])  # WRONG too: this rank's shard, local indices
    opt.consolidate_state_dict(recipient_rank=0)  # RIGHT: a collective, call it on every rank
    right = full_state_or_error(opt)  # ... then read it on the recipient (rank 0) only
    for r in range(WORLD):
        if r == rank:
            print(f"rank {rank}/{WORLD}: state_dict() before consolidate -> {wrong}\n"
                  f"rank {rank}/{WORLD}: optim.state_dict() -> {shard} of 8 tensors (my shard)\n"
                  f"rank {rank}/{WORLD}: state_dict() after consolidate  -> {right}", flush=True)
        dist.barrier()
    assert wrong.startswith("RuntimeError") and shard == 4
    # An unguarded torch.save(opt.state_dict(), ...) on every rank crashes rank 1:
    assert right == "state for 8 tensors" if rank == 0 else right.startswith("RuntimeError")
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free_port = s.getsockname()[1]
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", str(free_port))
    # fork: the workers reuse the parent's imports (fine on CPU; use spawn with CUDA)
    mp.start_processes(worker, nprocs=WORLD, start_method="fork")
# --8<-- [end:code]
