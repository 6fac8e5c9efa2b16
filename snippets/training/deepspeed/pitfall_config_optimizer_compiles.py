# pytest: distributed
# --8<-- [start:code]
"""An Adam(W) declared in the DeepSpeed config is FusedAdam: a C++ op compiled on first use."""
import os
import socket

import deepspeed
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from deepspeed.accelerator import get_accelerator
from deepspeed.git_version_info import installed_ops

BASE = {"train_micro_batch_size_per_gpu": 2}


def refuse_build(builder, verbose=True):
    """Stands in for the JIT build (minutes on a CPU): report the request and stop there."""
    raise RuntimeError(f"DeepSpeed asked to compile the {builder.name} op")


def worker(rank, world):
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
    deepspeed.init_distributed(dist_backend="gloo")
    # The class that builds FusedAdam's C++ op for this accelerator; this install has it unbuilt.
    get_accelerator().get_op_builder("FusedAdamBuilder").jit_load = refuse_build
    assert installed_ops["fused_adam"] is False

    # WRONG (on a machine where you do not want to wait): the optimizer comes from the config.
    model = torch.nn.Linear(64, 8)
    config = {**BASE, "optimizer": {"type": "AdamW", "params": {"lr": 1e-3}}}
    try:
        deepspeed.initialize(model=model, model_parameters=model.parameters(), config=config)
        raise AssertionError("expected a build request")
    except RuntimeError as error:
        wrong = str(error)
    assert "fused_adam" in wrong

    # RIGHT: hand DeepSpeed a torch optimizer ...
    model = torch.nn.Linear(64, 8)
    engine, optimizer, *_ = deepspeed.initialize(
        model=model, config=BASE, optimizer=torch.optim.AdamW(model.parameters(), lr=1e-3))
    assert type(optimizer) is torch.optim.AdamW
    # ... or keep it in the config and ask for torch's implementation.
    config["optimizer"]["params"]["torch_adam"] = True
    model = torch.nn.Linear(64, 8)
    engine, optimizer, *_ = deepspeed.initialize(model=model, model_parameters=model.parameters(),
                                                 config=config)
    assert type(optimizer) is torch.optim.AdamW  # no build was requested: we got this far
    if rank == 0:
        print(f"config optimizer: {wrong}; torch optimizer / torch_adam: "
              f"{type(optimizer).__name__}, nothing compiled", flush=True)
    for r in range(world):  # one rank at a time, so the lines come out in rank order
        if r == rank:
            print(f"rank {rank}/{world}: the engine runs torch's AdamW", flush=True)
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
