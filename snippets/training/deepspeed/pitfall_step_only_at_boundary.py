# pytest: distributed
# --8<-- [start:code]
"""With gradient_accumulation_steps in the config, call engine.step() after EVERY micro-batch."""
import os
import socket
import sys
import warnings

import deepspeed
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

warnings.filterwarnings("ignore", r"`torch\.distributed\.(all_gather_into|reduce_scatter)_tensor`",
                        FutureWarning)  # torch 2.13 deprecates two collectives ZeRO still calls
GAS, MICRO = 2, 8  # accumulate 2 micro-batches per optimizer step; 8 micro-batches per rank


def batch(i, rank):
    g = torch.Generator().manual_seed(10 * i + rank)
    return torch.randn(2, 8, generator=g), torch.randn(2, 1, generator=g)


def new_model():
    torch.manual_seed(0)
    return torch.nn.Linear(8, 1)


def reference(world):
    """Plain PyTorch, one process: the mean gradient of GAS micro-batches x world ranks, SGD."""
    model = new_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for start in range(0, MICRO, GAS):
        for i in range(start, start + GAS):
            for rank in range(world):
                x, y = batch(i, rank)
                (torch.nn.functional.mse_loss(model(x), y) / (GAS * world)).backward()
        optimizer.step()
        optimizer.zero_grad()
    return model.weight.detach()


def run(rank, step_every_micro_batch):
    model = new_model()
    config = {"train_micro_batch_size_per_gpu": 2, "gradient_accumulation_steps": GAS,
              "gradient_clipping": 0.0, "zero_optimization": {"stage": 1},
              "zero_allow_untested_optimizer": True}
    engine, *_ = deepspeed.initialize(model=model, config=config,
                                      optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    for i in range(MICRO):
        x, y = batch(i, rank)
        engine.backward(torch.nn.functional.mse_loss(engine(x), y))  # scaled by 1/GAS inside
        if step_every_micro_batch or (i + 1) % GAS == 0:
            engine.step()  # the engine decides whether this micro-step is a boundary
    return engine.global_steps, engine.module.weight.detach()


def worker(rank, world):
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
    deepspeed.init_distributed(dist_backend="gloo")
    sys.stdout.flush()  # DeepSpeed's "built" line now, on both ranks: a fixed output order
    dist.barrier()
    expected = reference(world)
    wrong_steps, wrong = run(rank, step_every_micro_batch=False)  # WRONG: the PyTorch habit
    right_steps, right = run(rank, step_every_micro_batch=True)  # RIGHT
    wrong_ok = torch.allclose(wrong, expected, atol=1e-6)
    right_ok = torch.allclose(right, expected, atol=1e-6)
    assert wrong_steps == MICRO // GAS // 2 and not wrong_ok
    assert right_steps == MICRO // GAS and right_ok
    for r in range(world):
        if r == rank:
            print(f"rank {rank}/{world}: step() at our boundaries: {wrong_steps} optimizer steps, "
                  f"matches PyTorch: {wrong_ok} | step() every micro-batch: {right_steps}, "
                  f"matches: {right_ok}", flush=True)
        dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    mp.start_processes(worker, args=(2,), nprocs=2, start_method="fork")
# --8<-- [end:code]
