# pytest: distributed
# --8<-- [start:code]
"""FSDP2 with CPUOffloadPolicy: count which bytes each rank holds, and where they live."""
import os
import socket
from collections import Counter

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.distributed.fsdp import CPUOffloadPolicy, OffloadPolicy, fully_shard


def bytes_by_place(model, optim):
    """Bytes of this rank's parameter shards, gradient shards and optimizer states.

    Returns a Counter keyed by (kind, device type). For a DTensor only the local shard counts:
    that is what occupies this rank's memory.
    """
    held = Counter()
    def add(kind, t):
        local = t.to_local() if hasattr(t, "to_local") else t
        held[kind, local.device.type] += local.numel() * local.element_size()
    for p in model.parameters():
        add("param", p)
        if p.grad is not None:
            add("grad", p.grad)
    for state in optim.state.values():
        for name, t in state.items():
            if name != "step":  # AdamW's step counter is a scalar, not a per-element state
                add("optim", t)
    return held


def run(policy, rank):
    torch.manual_seed(0)
    model = nn.Sequential(*[nn.Linear(256, 256) for _ in range(4)])
    n_params = sum(p.numel() for p in model.parameters())
    for layer in model:
        fully_shard(layer, offload_policy=policy)
    fully_shard(model, offload_policy=policy)
    optim = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = torch.randn(8, 256, generator=torch.Generator().manual_seed(rank))
    model(x).square().mean().backward()
    optim.step()
    return n_params, bytes_by_place(model, optim), model[0].weight.full_tensor()


def worker(rank, world):
    dist.init_process_group("gloo", rank=rank, world_size=world)
    n, on_device, w_device = run(OffloadPolicy(), rank)  # the default: no offload
    # pin_memory=True (the default) needs an accelerator; page-locked memory speeds up H2D copies
    _, offloaded, w_offload = run(CPUOffloadPolicy(pin_memory=False), rank)
    expected = 16 * n // world  # fp32: 4 (param) + 4 (grad) + 8 (AdamW moments) bytes, sharded
    assert sum(on_device.values()) == sum(offloaded.values()) == expected
    assert torch.equal(w_device, w_offload)  # offload moves bytes, it does not change the math
    for r in range(world):
        if r == rank:
            if rank == 0:
                print(f"{n} parameters; 16 bytes x {n} / {world} ranks = {expected} bytes per rank")
            print(f"rank {rank}/{world}: " + ", ".join(
                f"{kind} {b} B on {dev}" for (kind, dev), b in sorted(offloaded.items())),
                flush=True)
        dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    mp.start_processes(worker, args=(2,), nprocs=2, start_method="fork")
# --8<-- [end:code]
