# pytest: gpu, distributed
# --8<-- [start:code]
"""Pipeline parallelism on GPUs: one stage per GPU over NCCL, Schedule1F1B with 8 micro-batches
(or one per stage);
the loss and the gradients equal one GPU running the whole model."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.distributed.pipelining import PipelineStage, Schedule1F1B


def make_model(stages):
    """Two Linear + GELU blocks per stage, then a head: the same weights in every process."""
    torch.manual_seed(0)
    blocks = [nn.Sequential(nn.Linear(256, 256), nn.GELU()) for _ in range(2 * stages)]
    return nn.Sequential(*blocks, nn.Linear(256, 1)).cuda()


def worker(rank, world):
    torch.cuda.set_device(rank)
    dist.init_process_group("nccl", rank=rank, world_size=world,
                            device_id=torch.device("cuda", rank))
    torch.manual_seed(1)
    m = max(8, world)  # 1F1B needs at least as many micro-batches as stages
    x, y = torch.randn(8 * m, 256, device="cuda"), torch.randn(8 * m, 1, device="cuda")
    ref = make_model(world)  # reference: one GPU, the whole model and batch
    ref_loss = nn.functional.mse_loss(ref(x), y)
    ref_loss.backward()

    model = make_model(world)
    last = 2 * world + 1 if rank == world - 1 else 2 * rank + 2  # the last stage has the head
    stage = PipelineStage(model[2 * rank:last], rank, world, torch.device("cuda", rank))
    schedule = Schedule1F1B(stage, n_microbatches=m, loss_fn=nn.functional.mse_loss)
    losses = []
    if rank == 0:
        schedule.step(x)
    elif rank == world - 1:
        schedule.step(target=y, losses=losses)
    else:
        schedule.step()
    error = max((p.grad - q.grad).abs().max().item()
                for p, q in zip(model.parameters(), ref.parameters()) if p.grad is not None)
    loss = ""
    if losses:  # only the last stage computes the loss
        loss = f", loss {torch.stack(losses).mean().item():.4f} (one GPU {ref_loss.item():.4f})"
    print(f"rank {rank}/{world}: stage {rank}, grads equal to one GPU (< 1e-5): {error < 1e-5}"
          f"{loss}", flush=True)
    assert error < 1e-5
    dist.destroy_process_group()


if __name__ == "__main__":
    world = torch.cuda.device_count()
    assert world >= 2, "needs at least 2 GPUs (NCCL does not let two ranks share one GPU)"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    mp.spawn(worker, args=(world,), nprocs=world)  # spawn, not fork: CUDA must not be forked
# --8<-- [end:code]
