# pytest: distributed
# --8<-- [start:code]
"""Split fc1 along its input features and GeLU sees partial sums: the MLP output is wrong."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F


def print_in_rank_order(text):  # one rank at a time, so lines neither interleave nor reorder
    for r in range(dist.get_world_size()):
        if r == dist.get_rank():
            print(text, flush=True)
        dist.barrier()


def worker(rank, world):
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(0)
    fc1, fc2 = torch.nn.Linear(64, 256, bias=False), torch.nn.Linear(256, 64, bias=False)
    x = torch.randn(8, 64)
    with torch.no_grad():
        ref = fc2(F.gelu(fc1(x)))
        w2 = fc2.weight.chunk(world, dim=1)[rank]  # row-parallel fc2 in both versions

        # WRONG: fc1 split along its input features (rows of A in Y = XA). Each rank gets the
        # full 256 pre-activations, but only a partial sum over its 32 input features.
        partial = F.linear(x.chunk(world, dim=1)[rank], fc1.weight.chunk(world, dim=1)[rank])
        hidden = F.gelu(partial).chunk(world, dim=1)[rank]  # GeLU(a) + GeLU(b) != GeLU(a + b)
        wrong = F.linear(hidden, w2)
        dist.all_reduce(wrong)
        # The repair sums the pre-activations before GeLU: a second all-reduce, of 8 x 256 values.
        dist.all_reduce(partial)
        repaired = F.linear(F.gelu(partial).chunk(world, dim=1)[rank], w2)
        dist.all_reduce(repaired)

        # RIGHT: fc1 split along its output features (columns of A): each rank owns whole
        # hidden units, GeLU is exact, and the only all-reduce is the one after fc2.
        hidden = F.gelu(F.linear(x, fc1.weight.chunk(world, dim=0)[rank]))
        right = F.linear(hidden, w2)
        dist.all_reduce(right)

    versions = [("rows", wrong), ("rows+extra all-reduce", repaired), ("columns", right)]
    same = {name: torch.allclose(y, ref, atol=1e-5) for name, y in versions}
    print_in_rank_order(f"rank {rank}/{world}: == full MLP: {same}")
    assert not torch.allclose(wrong, ref, atol=1e-3)
    assert same["columns"] and same["rows+extra all-reduce"]
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:  # a free port, unless the caller (e.g. a test harness) set one
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    mp.start_processes(worker, args=(2,), nprocs=2, start_method="fork")
# --8<-- [end:code]
