# pytest: distributed
# --8<-- [start:code]
"""parallel_state splits 4 processes into tensor-parallel pairs and data-parallel pairs."""
import os
import socket

import torch.distributed as dist
import torch.multiprocessing as mp
from megatron.core import parallel_state as ps


def print_in_rank_order(text):  # one rank at a time, so lines neither interleave nor reorder
    for r in range(dist.get_world_size()):
        if r == dist.get_rank():
            print(text, flush=True)
        dist.barrier()


def worker(rank, world):
    dist.init_process_group("gloo", rank=rank, world_size=world)
    ps.initialize_model_parallel(tensor_model_parallel_size=2)  # DP size = world / (TP * PP)
    tp_group = dist.get_process_group_ranks(ps.get_tensor_model_parallel_group())
    dp_group = dist.get_process_group_ranks(ps.get_data_parallel_group())
    print_in_rank_order(f"rank {rank}/{world}: TP rank {ps.get_tensor_model_parallel_rank()} "
                        f"of {tp_group}, DP rank {ps.get_data_parallel_rank()} of {dp_group}")
    # Neighbouring ranks share a TP group (on a real cluster: the same node and its fast links);
    # ranks that hold the same shard (same TP rank) form a DP group and all-reduce gradients.
    assert tp_group == [rank - rank % 2, rank - rank % 2 + 1]
    assert dp_group == [rank % 2, rank % 2 + 2]
    if rank == 0:
        print(f"TP size {ps.get_tensor_model_parallel_world_size()}, "
              f"DP size {ps.get_data_parallel_world_size()}")
    ps.destroy_model_parallel()
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:  # a free port, unless the caller (e.g. a test harness) set one
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    mp.start_processes(worker, args=(4,), nprocs=4, start_method="fork")
# --8<-- [end:code]
