# pytest: distributed
# --8<-- [start:code]
"""torch.compile each block, then fully_shard it: same losses, one graph per block, no breaks."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch._dynamo.utils import counters
from torch.distributed.fsdp import fully_shard

# "aot_eager" traces forward and backward like the default "inductor" backend but runs the
# graphs with eager kernels: no C++ build on this CPU, and bit-identical numbers.
BACKEND = "aot_eager"


class Block(nn.Module):
    """A pre-norm MLP block with a residual: the unit that is compiled and sharded."""

    def __init__(self, dim=32):
        super().__init__()
        self.norm, self.up, self.down = nn.LayerNorm(dim), nn.Linear(dim, 4 * dim), nn.Linear(
            4 * dim, dim)

    def forward(self, x):
        return x + self.down(nn.functional.gelu(self.up(self.norm(x))))


def build(compiled):
    torch.manual_seed(0)
    model = nn.Sequential(*[Block() for _ in range(3)])
    for block in model:
        if compiled:  # compile first: the block's own math becomes one graph ...
            block.compile(backend=BACKEND, fullgraph=True)  # fullgraph: a break is an error
        fully_shard(block)  # ... and FSDP2's all-gather/reduce-scatter hooks stay outside it
    fully_shard(model)
    return model


def losses(model, rank):
    optim = torch.optim.AdamW(model.parameters(), lr=1e-2)
    out = []
    for step in range(3):
        x = torch.randn(4, 8, 32, generator=torch.Generator().manual_seed(10 * step + rank))
        loss = model(x).square().mean()
        loss.backward()
        optim.step()
        optim.zero_grad()
        out.append(loss.item())
    return out


class BranchyBlock(Block):
    """The same block with a Python `if` on a tensor's value: Dynamo must break the graph."""

    def forward(self, x):
        if x.mean() > 0:  # data-dependent control flow
            x = x * 2
        return super().forward(x)


def worker(rank, world):
    dist.init_process_group("gloo", rank=rank, world_size=world)
    eager = losses(build(compiled=False), rank)
    counters.clear()
    compiled = losses(build(compiled=True), rank)
    graphs, breaks = counters["stats"]["unique_graphs"], sum(counters["graph_break"].values())
    # 3 blocks, 2 graphs: block 0's input does not require grad, blocks 1-2's does (one
    # recompile); blocks 1 and 2 then share a graph, their parameters being graph inputs.
    assert compiled == eager and graphs == 2 and breaks == 0
    report = torch._dynamo.explain(BranchyBlock())(torch.randn(2, 32))
    if rank == 0:
        print(f"eager and compiled losses equal: {compiled == eager}; 3 blocks, "
              f"{graphs} graphs, {breaks} graph breaks")
        print(f"BranchyBlock: {report.graph_count} graphs, {report.graph_break_count} break")
    for r in range(world):
        if r == rank:
            print(f"rank {rank}/{world}: losses {[round(v, 4) for v in compiled]}", flush=True)
        dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    mp.start_processes(worker, args=(2,), nprocs=2, start_method="fork")
# --8<-- [end:code]
