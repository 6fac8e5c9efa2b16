# pytest: distributed
# --8<-- [start:code]
"""10 samples, 2 ranks, batches of 4: gather() counts the padding, gather_for_metrics() does not."""
import os
import socket

import torch
import torch.distributed as dist
from accelerate import Accelerator, notebook_launcher
from torch.utils.data import DataLoader, TensorDataset

N = 10


def evaluate():
    accelerator = Accelerator(cpu=True)
    loader = accelerator.prepare(DataLoader(TensorDataset(torch.arange(N)), batch_size=4))
    wrong, right = [], []
    for (ids,) in loader:  # stand-in for predictions: the sample ids themselves
        wrong.append(accelerator.gather(ids))  # WRONG: includes the padding of the last batch
        right.append(accelerator.gather_for_metrics(ids))  # RIGHT: padding dropped
    wrong, right = torch.cat(wrong), torch.cat(right)
    # Pretend the model is right on samples 0-5 and wrong on 6-9: the true accuracy is 0.6.
    wrong_acc, right_acc = ((wrong < 6).sum().item() / len(wrong),
                            (right < 6).sum().item() / len(right))

    rank, world = dist.get_rank(), dist.get_world_size()
    for turn in range(world):  # take turns, so that the lines come out in rank order
        if turn == rank:
            print(f"rank {rank}/{world}: gather: {len(wrong)} ids {sorted(wrong.tolist())}, "
                  f"accuracy {wrong_acc:.2f}; gather_for_metrics: {len(right)} ids, "
                  f"accuracy {right_acc:.2f}", flush=True)
        accelerator.wait_for_everyone()
    assert len(wrong) > N and wrong_acc != 0.6  # some samples counted twice
    assert sorted(right.tolist()) == list(range(N)) and right_acc == 0.6  # each sample exactly once
    accelerator.end_training()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    notebook_launcher(evaluate, num_processes=2, use_port=port)
# --8<-- [end:code]
