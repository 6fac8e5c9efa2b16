# pytest: distributed
# --8<-- [start:code]
"""Initialising each shard on its own: duplicate shards, or the wrong scale. Slice one full init."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def gather(t):  # every rank's tensor, in rank order
    parts = [torch.empty_like(t) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, t.contiguous())
    return parts


def print_in_rank_order(text):  # one rank at a time, so lines neither interleave nor reorder
    for r in range(dist.get_world_size()):
        if r == dist.get_rank():
            print(text, flush=True)
        dist.barrier()


def worker(rank, world):
    dist.init_process_group("gloo", rank=rank, world_size=world)
    # WRONG 1: same seed on every rank, each builds only its own fc1 shard -> identical shards,
    # so the 256 hidden units are 128 pairs of twins that get identical gradients forever.
    torch.manual_seed(0)
    w1_shards = gather(torch.nn.Linear(64, 256 // world).weight.detach())
    twins = all(torch.equal(w, w1_shards[0]) for w in w1_shards)

    # WRONG 2: a different seed per rank fixes that, but an fc2 shard built as its own
    # nn.Linear(128, 64) draws from U(-1/sqrt(128), 1/sqrt(128)); the full fc2 has fan-in 256.
    torch.manual_seed(rank)
    w2_shard = torch.nn.Linear(256 // world, 64).weight.detach()

    # RIGHT: same seed everywhere, build the full layers, keep this rank's slice.
    torch.manual_seed(0)
    full1, full2 = torch.nn.Linear(64, 256), torch.nn.Linear(256, 64)
    w1 = full1.weight.detach().chunk(world, dim=0)[rank]
    w2 = full2.weight.detach().chunk(world, dim=1)[rank]
    rebuilt = torch.equal(torch.cat(gather(w1), dim=0), full1.weight)
    scale = (w2_shard.std() / w2.std()).item()
    print_in_rank_order(f"rank {rank}/{world}: own-shard init: fc1 shards identical {twins}, "
                        f"fc2 std x{scale:.2f}; sliced init: shards rebuild fc1 {rebuilt}")
    assert twins and abs(scale - 2 ** 0.5) < 0.1 and rebuilt
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:  # a free port, unless the caller (e.g. a test harness) set one
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    mp.start_processes(worker, args=(2,), nprocs=2, start_method="fork")
# --8<-- [end:code]
