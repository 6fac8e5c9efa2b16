# pytest: distributed
# --8<-- [start:code]
"""load_checkpoint(dir) without a `latest` file loads nothing and returns (None, None)."""
import os
import socket
import sys
import tempfile
import warnings

import deepspeed
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

warnings.filterwarnings("ignore", r"`torch\.distributed\.(all_gather_into|reduce_scatter)_tensor`",
                        FutureWarning)  # torch 2.13 deprecates two collectives ZeRO still calls


def engine_for(seed):
    torch.manual_seed(seed)
    model = torch.nn.Linear(8, 1)
    config = {"train_micro_batch_size_per_gpu": 2, "zero_optimization": {"stage": 2}}
    return deepspeed.initialize(model=model, config=config,
                                optimizer=torch.optim.AdamW(model.parameters(), lr=0.1))[0]


def worker(rank, world, ckpt):
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
    deepspeed.init_distributed(dist_backend="gloo")
    sys.stdout.flush()  # DeepSpeed's "built" line now, on both ranks: a fixed output order
    dist.barrier()
    engine = engine_for(seed=0)
    engine.backward(engine(torch.randn(2, 8)).square().mean())
    engine.step()
    trained = engine.module.weight.detach().clone()
    # A run killed before it wrote `latest` (or saved with save_latest=False) leaves only tags.
    engine.save_checkpoint(ckpt, tag="global_step1", save_latest=False)

    # WRONG: load the "latest" checkpoint and carry on, whatever load_checkpoint returned.
    wrong = engine_for(seed=1)
    path, client_state = wrong.load_checkpoint(ckpt)  # logs a warning, returns (None, None)
    fresh = torch.equal(wrong.module.weight, engine_for(seed=1).module.weight)
    assert path is None and client_state is None and fresh

    # RIGHT: name the tag (or read it from your own bookkeeping) and check what came back.
    right = engine_for(seed=1)
    path, _ = right.load_checkpoint(ckpt, tag="global_step1")
    if path is None:
        raise RuntimeError(f"no checkpoint loaded from {ckpt}")
    assert torch.equal(right.module.weight, trained)
    for r in range(world):
        if r == rank:
            print(f"rank {rank}/{world}: wrong: returned path {None}, weights still the fresh "
                  f"initialisation: {fresh} | right: loaded global_step1, weights restored: True",
                  flush=True)
        dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    with tempfile.TemporaryDirectory() as tmp:
        mp.start_processes(worker, args=(2, tmp), nprocs=2, start_method="fork")
# --8<-- [end:code]
