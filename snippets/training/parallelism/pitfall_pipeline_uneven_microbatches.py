# pytest: distributed
# --8<-- [start:code]
"""A batch that n_microbatches does not divide: the last stage fails with a size mismatch
(pytorch/pytorch#126600). Make the batch a multiple of n_microbatches."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.distributed.pipelining import PipelineStage, ScheduleGPipe


def worker(rank, world, rows, port, results):
    os.environ["MASTER_PORT"] = port
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 1))
    stage = PipelineStage(model[rank:rank + 1], rank, world, torch.device("cpu"))
    schedule = ScheduleGPipe(stage, n_microbatches=4, loss_fn=nn.functional.mse_loss)
    x, y = torch.randn(rows, 4), torch.randn(rows, 1)
    try:
        schedule.step(x) if rank == 0 else schedule.step(target=y)
        result = "step done"
    except RuntimeError as error:  # the last stage fails first; the first then loses its peer
        text = str(error)
        if rank == 1:
            result = "RuntimeError: " + text.split(" at non-singleton")[0]
        else:  # gloo reports the peer's exit ("Connection closed by peer")
            result = "RuntimeError from gloo, its peer is gone" if "gloo" in text else text
    results.put((rank, result))
    dist.destroy_process_group()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return str(s.getsockname()[1])


def run(rows):
    """Start 2 stages on a batch of ``rows`` rows; print each rank's result in rank order."""
    results = mp.get_context("fork").SimpleQueue()  # ranks may fail, so no barrier to order them
    mp.start_processes(worker, args=(2, rows, free_port(), results), nprocs=2,
                       start_method="fork")
    found = dict(results.get() for _ in range(2))
    for rank in sorted(found):
        print(f"rank {rank}/2: batch of {rows} rows in 4 micro-batches: {found[rank]}")
    return found


if __name__ == "__main__":
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    # WRONG: 10 rows -> micro-batches of 3, 3, 2, 2; the stages size their buffers for 3
    wrong = run(10)
    assert wrong[1].startswith("RuntimeError: The size of tensor a (3) must match")
    # RIGHT: 8 rows -> four micro-batches of 2 (or drop_last=True in the DataLoader)
    right = run(8)
    assert right == {0: "step done", 1: "step done"}
# --8<-- [end:code]
