# pytest: distributed
# --8<-- [start:code]
"""initialize_model_parallel needs a world size that TP x PP x CP divides."""
import os
import socket

import torch.distributed as dist
import torch.multiprocessing as mp
from megatron.core import parallel_state as ps

WORLD = 2  # the processes the launcher started (torchrun --nproc-per-node=2, say)


def print_in_rank_order(text):
    for r in range(dist.get_world_size()):
        if r == dist.get_rank():
            print(text, flush=True)
        dist.barrier()


def worker(rank):
    dist.init_process_group("gloo", rank=rank, world_size=WORLD)
    # WRONG: a recipe written for 4 GPUs per model copy, launched on 2 processes
    try:
        ps.initialize_model_parallel(tensor_model_parallel_size=4)
        raise AssertionError("expected a RuntimeError")
    except RuntimeError as err:
        assert str(err) == f"world_size ({WORLD}) is not divisible by 4"
        print_in_rank_order(f"rank {rank}/{WORLD}: TP=4 -> RuntimeError: {err}")
    assert not ps.model_parallel_is_initialized()  # it raised before building any group
    # RIGHT: TP x PP x CP must divide the world size; what is left over becomes DP
    ps.initialize_model_parallel(tensor_model_parallel_size=2)
    print_in_rank_order(f"rank {rank}/{WORLD}: TP=2 -> TP size "
                        f"{ps.get_tensor_model_parallel_world_size()}, "
                        f"DP size {ps.get_data_parallel_world_size()}")
    ps.destroy_model_parallel()
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:  # a free port, unless the caller (e.g. a test harness) set one
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    mp.start_processes(worker, nprocs=WORLD, start_method="fork")
# --8<-- [end:code]
