# pytest: distributed
# --8<-- [start:code]
"""GPipe, 1F1B and interleaved 1F1B over 2 ranks: the same loss and gradients as one process."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.distributed.pipelining import (PipelineStage, Schedule1F1B, ScheduleGPipe,
                                          ScheduleInterleaved1F1B)


def make_model():
    """Four blocks of Linear(16, 16) + Tanh and a head: the same weights in every process."""
    torch.manual_seed(0)
    blocks = [nn.Sequential(nn.Linear(16, 16), nn.Tanh()) for _ in range(4)]
    return nn.Sequential(*blocks, nn.Linear(16, 1))


def chunks(model, n):
    """Cut the model into n consecutive pieces (n = 2 or 4): the pipeline's stages."""
    cuts = {2: [(0, 2), (2, 5)], 4: [(0, 1), (1, 2), (2, 3), (3, 5)]}[n]
    return [model[a:b] for a, b in cuts]


def loss_fn(output, target):  # the mean over ONE micro-batch; scale_grads=True divides by m
    return nn.functional.mse_loss(output, target)


# --8<-- [start:key]
def run(rank, world, schedule_cls, m, x, y):
    """One training step with a schedule; returns (mean loss or None, {name: grad}) of this rank."""
    model = make_model()
    if schedule_cls is ScheduleInterleaved1F1B:  # 2 stages per rank: rank 0 holds 0 and 2
        pieces, ids = chunks(model, 4), [rank, rank + world]
        stages = [PipelineStage(pieces[i], i, 4, torch.device("cpu")) for i in ids]
        schedule = schedule_cls(stages, n_microbatches=m, loss_fn=loss_fn)
    else:  # 1 stage per rank
        stage = PipelineStage(chunks(model, 2)[rank], rank, world, torch.device("cpu"))
        schedule = schedule_cls(stage, n_microbatches=m, loss_fn=loss_fn)
    losses = []
    if rank == 0:
        schedule.step(x)  # the first stage feeds the input, split into m micro-batches
    else:
        schedule.step(target=y, losses=losses)  # the last stage computes the loss
    grads = {n: p.grad for n, p in model.named_parameters() if p.grad is not None}
    return (torch.stack(losses).mean() if losses else None), grads
# --8<-- [end:key]


def worker(rank, world):
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(1)
    x, y = torch.randn(8, 16), torch.randn(8, 1)  # one batch of 8 rows

    ref = make_model()  # reference: one process, the whole batch at once
    ref_loss = nn.functional.mse_loss(ref(x), y)
    ref_loss.backward()
    ref_grads = dict(ref.named_parameters())

    for schedule_cls, m in [(ScheduleGPipe, 4), (Schedule1F1B, 4), (ScheduleInterleaved1F1B, 4)]:
        loss, grads = run(rank, world, schedule_cls, m, x, y)
        diff = max((g - ref_grads[n].grad).abs().max().item() for n, g in grads.items())
        ok = diff < 1e-6 and (loss is None or abs(loss - ref_loss).item() < 1e-6)
        every = [None] * world
        dist.all_gather_object(every, (len(grads), ok))  # every rank checked its own layers
        if rank == 1:  # the last stage holds the loss
            print(f"{schedule_cls.__name__:<24} m={m}: loss {loss.item():.4f} "
                  f"(one process {ref_loss.item():.4f}); grads equal < 1e-6 on "
                  f"{sum(n for n, _ in every)}/10 tensors: {all(o for _, o in every)}", flush=True)
        assert all(o for _, o in every) and sum(n for n, _ in every) == 10
        dist.barrier()
    for r in range(world):  # one rank at a time, so that the lines do not interleave
        if r == rank:
            print(f"rank {rank}/{world}: ran all three schedules", flush=True)
        dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:  # a free port for the rendezvous, unless a launcher set one
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    mp.start_processes(worker, args=(2,), nprocs=2, start_method="fork")
# --8<-- [end:code]
