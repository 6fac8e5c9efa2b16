# pytest: distributed
# --8<-- [start:code]
"""Without a DistributedSampler every rank reads the same batches: no bigger global batch at all."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.distributed.fsdp import fully_shard
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset


def make_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 1))


def single_process_step(x, y):  # reference: one process, one step on the rows given
    model = make_model()
    nn.functional.mse_loss(model(x), y).backward()
    torch.optim.SGD(model.parameters(), lr=0.1).step()
    return list(model.parameters())


def max_diff(params, reference):
    return max((p - q).abs().max().item() for p, q in zip(params, reference))


def first_step(rank, world, loader):
    model = fully_shard(make_model())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = next(iter(loader))
    nn.functional.mse_loss(model(x[:, 1:]), y).backward()
    optimizer.step()
    seen = [None] * world
    dist.all_gather_object(seen, x[:, 0].int().tolist())  # column 0 holds the row number
    return seen, [p.full_tensor() for p in model.parameters()]


def worker(rank, world):
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(1)
    data = torch.cat([torch.arange(16.0)[:, None], torch.randn(16, 4)], dim=1)
    dataset = TensorDataset(data, torch.randn(16, 1))
    full = single_process_step(data[:8, 1:], dataset.tensors[1][:8])  # the global batch: rows 0-7
    four = single_process_step(data[:4, 1:], dataset.tensors[1][:4])  # only rows 0-3

    # WRONG: a plain DataLoader -> both ranks read rows 0-3
    seen, params = first_step(rank, world, DataLoader(dataset, batch_size=4))
    wrong, as_four = max_diff(params, full), max_diff(params, four)
    # RIGHT: the sampler gives each rank its own rows (shuffle=True: call set_epoch every epoch)
    sampler = DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=False)
    seen_ok, params = first_step(rank, world, DataLoader(dataset, batch_size=4, sampler=sampler))
    right = max_diff(params, full)
    if rank == 0:
        print("wrong: rows per rank", seen, f"| max diff from the 8-row step {wrong:.3f}, "
              f"identical to the 4-row step: {as_four == 0}")
        print("right: rows per rank", seen_ok,
              f"| max diff from the 8-row step < 1e-6: {right < 1e-6}")
    for r in range(world):  # one rank at a time, so that the lines do not interleave
        if r == rank:
            print(f"rank {rank}/{world}: with the sampler reads rows {seen_ok[rank]}", flush=True)
        dist.barrier()
    assert seen[0] == seen[1] and wrong > 1e-3 and as_four < 1e-6  # 2 ranks, 4 rows' worth
    assert sorted(seen_ok[0] + seen_ok[1]) == list(range(8)) and right < 1e-6
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    mp.start_processes(worker, args=(2,), nprocs=2, start_method="fork")
# --8<-- [end:code]
