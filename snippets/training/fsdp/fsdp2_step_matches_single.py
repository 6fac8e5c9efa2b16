# pytest: distributed
# --8<-- [start:code]
"""One FSDP2 SGD step on 2 ranks (half the batch each) == one single-process step on all of it."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.distributed.fsdp import fully_shard


def make_model():
    torch.manual_seed(0)  # identical starting weights in the reference and on every rank
    return nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(),
                         nn.Linear(32, 1))


def worker(rank, world):
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(1)
    x, y = torch.randn(16, 8), torch.randn(16, 1)  # the global batch (every rank builds it)

    ref = make_model()  # reference: one process, all 16 rows
    ref_loss = nn.functional.mse_loss(ref(x), y)
    ref_loss.backward()
    torch.optim.SGD(ref.parameters(), lr=0.1).step()

    model = make_model()
    for layer in model[::2]:  # the three Linear layers: one FSDP unit each, then the root
        fully_shard(layer)
    fully_shard(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)  # after fully_shard: sees the shards
    rows = slice(rank * 8, rank * 8 + 8)  # this rank's half of the batch
    loss = nn.functional.mse_loss(model(x[rows]), y[rows])
    loss.backward()  # reduce-scatter: each rank receives the AVERAGE gradient, for its slice only
    optimizer.step()  # updates only the local slices

    mean_loss = loss.detach().clone()
    dist.all_reduce(mean_loss)  # sum of the two half-batch losses
    mean_loss /= world
    diff = max((p.full_tensor() - r).abs().max().item()
               for p, r in zip(model.parameters(), ref.parameters()))
    if rank == 0:
        print(f"single process, 16 rows: loss {ref_loss.item():.4f}")
        print(f"FSDP2, 2 x 8 rows:       loss {mean_loss.item():.4f} (mean of the ranks)")
        # diff is float rounding (~1e-8), whose digits vary by CPU: print the bound it must meet
        print(f"max |FSDP2 - single| over all weights after the step < 1e-6: {diff < 1e-6}")
    for r in range(world):  # one rank at a time, so that the lines do not interleave
        if r == rank:
            print(f"rank {rank}/{world}: loss on its own 8 rows {loss.item():.4f}", flush=True)
        dist.barrier()
    assert abs(mean_loss.item() - ref_loss.item()) < 1e-6 and diff < 1e-6
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:  # a free port for the rendezvous, unless a launcher set one
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    mp.start_processes(worker, args=(2,), nprocs=2, start_method="fork")
# --8<-- [end:code]
