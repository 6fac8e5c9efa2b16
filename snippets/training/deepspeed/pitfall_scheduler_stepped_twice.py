# pytest: distributed
# --8<-- [start:code]
"""A scheduler passed to deepspeed.initialize is stepped by engine.step(): do not step it again."""
import os
import socket
import sys
import warnings

import deepspeed
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.optim.lr_scheduler import LambdaLR

warnings.filterwarnings("ignore", r"`torch\.distributed\.(all_gather_into|reduce_scatter)_tensor`",
                        FutureWarning)  # torch 2.13 deprecates two collectives ZeRO still calls


def learning_rates(step_it_ourselves):
    """LRs seen by 4 optimizer steps with a schedule that decays linearly to 0 over 4 steps."""
    torch.manual_seed(0)
    model = torch.nn.Linear(8, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    scheduler = LambdaLR(optimizer, lambda step: max(0.0, 1 - step / 4))
    config = {"train_micro_batch_size_per_gpu": 2, "zero_optimization": {"stage": 1},
              "zero_allow_untested_optimizer": True}
    engine, _, _, scheduler = deepspeed.initialize(model=model, optimizer=optimizer,
                                                   lr_scheduler=scheduler, config=config)
    seen = []
    for _ in range(4):
        seen.append(round(engine.get_lr()[0], 2))
        engine.backward(engine(torch.randn(2, 8)).square().mean())
        engine.step()  # steps the optimizer AND the scheduler it was given
        if step_it_ourselves:
            scheduler.step()  # WRONG: a second step per optimizer step
    return seen


def worker(rank, world):
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
    deepspeed.init_distributed(dist_backend="gloo")
    sys.stdout.flush()  # DeepSpeed's "built" line now, on both ranks: a fixed output order
    dist.barrier()
    wrong, right = learning_rates(True), learning_rates(False)
    assert wrong == [1.0, 0.5, 0.0, 0.0] and right == [1.0, 0.75, 0.5, 0.25]
    for r in range(world):
        if r == rank:
            print(f"rank {rank}/{world}: stepped by engine and by us: lr {wrong} | by the engine "
                  f"only: lr {right}", flush=True)
        dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    mp.start_processes(worker, args=(2,), nprocs=2, start_method="fork")
# --8<-- [end:code]
