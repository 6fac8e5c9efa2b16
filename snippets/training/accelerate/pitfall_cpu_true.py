# pytest: distributed
# --8<-- [start:code]
"""On a machine without a GPU, Accelerator() under a multi-process launcher
runs each process alone."""
import os
import socket

os.environ["CUDA_VISIBLE_DEVICES"] = ""  # behave like a CPU-only machine even where a GPU exists

import torch.distributed as dist  # noqa: E402  (imported after hiding the GPUs)
from accelerate import Accelerator, notebook_launcher  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return str(s.getsockname()[1])


def check(cpu):
    accelerator = Accelerator(cpu=cpu)
    rank, world = dist.get_rank(), dist.get_world_size()  # torch.distributed does see 2 processes
    for turn in range(world):  # take turns, so that the lines come out in rank order
        if turn == rank:
            print(f"rank {rank}/{world}: Accelerator(cpu={cpu}): {accelerator.distributed_type}, "
                  f"num_processes={accelerator.num_processes}, "
                  f"is_main_process={accelerator.is_main_process}", flush=True)
        # not accelerator.wait_for_everyone(): with cpu=False it believes it is alone
        dist.barrier()
    if cpu:
        # RIGHT: one job of 2 processes; prepare() will wrap the model in DDP and shard the data
        assert accelerator.num_processes == 2 and accelerator.process_index == rank
    else:
        # WRONG: 2 single-process jobs, both "main"; prepare() will neither wrap nor shard
        assert accelerator.num_processes == 1 and accelerator.is_main_process
    accelerator.end_training()


if __name__ == "__main__":
    port = os.environ.get("MASTER_PORT", free_port())
    notebook_launcher(check, args=(False,), num_processes=2, use_port=port)
    notebook_launcher(check, args=(True,), num_processes=2, use_port=free_port())
# --8<-- [end:code]
