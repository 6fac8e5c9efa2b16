# pytest: distributed
# --8<-- [start:code]
"""train_batch_size must equal micro batch x accumulation steps x ranks, so it depends on W."""
import os
import socket

import deepspeed
import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def engine_for(config):
    model = torch.nn.Linear(64, 8)
    optimizer = torch.optim.AdamW(model.parameters())
    return deepspeed.initialize(model=model, optimizer=optimizer, config=config)[0]


def worker(rank, world):
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
    deepspeed.init_distributed(dist_backend="gloo")

    # WRONG: all three sizes spelled out, as they were when this config ran on 1 process.
    single_process = {"train_batch_size": 8, "train_micro_batch_size_per_gpu": 8,
                      "gradient_accumulation_steps": 1}
    try:
        engine_for(single_process)
        raise RuntimeError("expected DeepSpeed to reject the config")
    except AssertionError as error:
        message = str(error)
    assert message.endswith("8 != 8 * 1 * 2")

    # RIGHT: give two of the three; DeepSpeed derives the third for this world size.
    per_rank = engine_for({"train_micro_batch_size_per_gpu": 8, "gradient_accumulation_steps": 1})
    global_batch = engine_for({"train_batch_size": 8, "gradient_accumulation_steps": 1})
    assert per_rank.train_batch_size() == 16  # 8 per rank x 2 ranks: twice the old global batch
    assert global_batch.train_micro_batch_size_per_gpu() == 4  # the old global batch, halved
    if rank == 0:
        micro = global_batch.train_micro_batch_size_per_gpu()
        print(f"all three given: {message}", flush=True)
        print(f"micro batch 8 given: train_batch_size {per_rank.train_batch_size()}; "
              f"train_batch_size 8 given: micro batch {micro}", flush=True)
    for r in range(world):  # one rank at a time, so the lines come out in rank order
        if r == rank:
            print(f"rank {rank}/{world}: DeepSpeed derived the missing batch size", flush=True)
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
