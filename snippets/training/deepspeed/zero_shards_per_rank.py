# pytest: distributed
# --8<-- [start:code]
"""Measure the model states one rank keeps under each ZeRO stage (bf16 weights, 2 ranks)."""
import os
import socket
import warnings

import deepspeed
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

warnings.filterwarnings("ignore", r"`torch\.distributed\.(all_gather_into|reduce_scatter)_tensor`",
                        FutureWarning)  # torch 2.13 deprecates two collectives ZeRO still calls


def nbytes(tensors):
    return sum(t.numel() * t.element_size() for t in tensors)


def worker(rank, world):
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
    deepspeed.init_distributed(dist_backend="gloo")
    expected = {0: (2, 12), 1: (2, 12 / world), 2: (2, 12 / world), 3: (2 / world, 12 / world)}
    for stage in (0, 1, 2, 3):
        torch.manual_seed(0)
        model = torch.nn.Sequential(*[torch.nn.Linear(64, 64, bias=False) for _ in range(4)])
        psi = sum(p.numel() for p in model.parameters())  # 16,384 parameters
        config = {"train_micro_batch_size_per_gpu": 2, "bf16": {"enabled": True},
                  "zero_optimization": {"stage": stage, "stage3_param_persistence_threshold": 0}}
        engine, optimizer, *_ = deepspeed.initialize(
            model=model, config=config, optimizer=torch.optim.AdamW(model.parameters()))
        engine.backward(engine(torch.randn(2, 64, dtype=torch.bfloat16)).float().pow(2).mean())
        engine.step()  # Adam creates its moments on the first step
        # The bf16 weights this rank holds: all of them, or only its shard (ds_tensor) at stage 3.
        weights = [getattr(p, "ds_tensor", p) for p in engine.module.parameters()]
        # DeepSpeed wraps our AdamW; the wrapped one keeps state for fp32 master copies
        # (the whole model, or this rank's slice), plus exp_avg and exp_avg_sq for each.
        adam = optimizer.optimizer
        states = [t for master, s in adam.state.items() for t in (master, *s.values()) if t.dim()]
        measured = (nbytes(weights) / psi, nbytes(states) / psi)
        assert measured == expected[stage], (stage, measured)
        if rank == 0:
            print(f"stage {stage}: bytes per parameter on one rank: weights {measured[0]:g}, "
                  f"optimizer {measured[1]:g}  ({type(optimizer).__name__})", flush=True)
        dist.barrier()
    for r in range(world):  # one rank at a time, so the lines come out in rank order
        if r == rank:
            print(f"rank {rank}/{world}: measured bytes match the ZeRO formulas: True", flush=True)
        dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free_port = s.getsockname()[1]
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", str(free_port))
    mp.start_processes(worker, args=(2,), nprocs=2, start_method="fork")
# --8<-- [end:code]
