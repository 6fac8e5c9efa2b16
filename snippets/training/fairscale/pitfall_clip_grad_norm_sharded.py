# pytest: distributed
# --8<-- [start:code]
"""ShardedDDP + OSS: torch's clip_grad_norm_ sees only this rank's gradients; use OSS's."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from fairscale.nn.data_parallel import ShardedDataParallel
from fairscale.optim import OSS

WORLD, MAX_NORM = 2, 0.5
torch.manual_seed(1)
X, Y = torch.randn(8, 32), 5 * torch.randn(8, 32)  # the global batch; big targets, big grads


def make_model():
    torch.manual_seed(0)
    return torch.nn.Sequential(*[torch.nn.Linear(32, 32) for _ in range(4)])


def reference():
    """One process, the whole batch: the global gradient norm and the clipped SGD step."""
    model = make_model()
    F.mse_loss(model(X), Y).backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), MAX_NORM)
    torch.optim.SGD(model.parameters(), lr=0.1).step()
    return norm.item(), [p.detach() for p in model.parameters()]


def sharded_step(rank, clip):
    model = make_model()
    opt = OSS(model.parameters(), optim=torch.optim.SGD, lr=0.1)
    sdp = ShardedDataParallel(model, opt, reduce_buffer_size=0)  # grads reduced to their owner
    F.mse_loss(sdp(X[rank::WORLD]), Y[rank::WORLD]).backward()
    norm = clip(model, opt)
    opt.step()
    return norm.item(), [p.detach() for p in model.parameters()]


def worker(rank):
    dist.init_process_group("gloo", rank=rank, world_size=WORLD)
    true_norm, expected = reference()
    # WRONG: the torch utility over the gradients this rank holds (its own shard only)
    local, wrong = sharded_step(rank, lambda m, o: torch.nn.utils.clip_grad_norm_(
        [p for p in m.parameters() if p.grad is not None], MAX_NORM))
    # RIGHT: OSS computes the norm over all shards (a collective: call it on every rank)
    total, right = sharded_step(rank, lambda m, o: o.clip_grad_norm(MAX_NORM))
    gap = lambda ws: max((a - b).abs().max().item() for a, b in zip(ws, expected))
    assert abs(total - true_norm) < 1e-4 and abs(local - true_norm) > 1e-2
    assert gap(right) < 1e-6 and gap(wrong) > 1e-4
    for r in range(WORLD):
        if r == rank:
            print(f"rank {rank}/{WORLD}: global norm {true_norm:.2f} | torch util here "
                  f"{local:.2f}, step off by {gap(wrong):.4f} | OSS.clip_grad_norm {total:.2f}, "
                  f"step off by < 1e-6: {gap(right) < 1e-6}", flush=True)
        dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    mp.start_processes(worker, nprocs=WORLD, start_method="fork")
# --8<-- [end:code]
