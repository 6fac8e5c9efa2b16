# pytest: distributed
# --8<-- [start:code]
"""A prepared LR scheduler steps once per process: sized by the prepared loader, it ends early."""
import os
import socket

import torch
from accelerate import Accelerator, notebook_launcher
from accelerate.state import AcceleratorState
from torch.optim.lr_scheduler import LambdaLR
from torch.utils.data import DataLoader, TensorDataset


def lrs(total_steps_from):
    """Learning rates over one epoch with a linear decay to 0 over `total` scheduler steps."""
    accelerator = Accelerator(cpu=True)
    model = torch.nn.Linear(4, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    loader = DataLoader(TensorDataset(torch.randn(16, 4)), batch_size=2)  # 8 batches in all
    unprepared = len(loader)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)  # 4 per rank
    total = {"prepared": len(loader), "unprepared": unprepared}[total_steps_from]
    scheduler = accelerator.prepare(LambdaLR(optimizer, lambda s: max(0.0, 1 - s / total)))
    seen = []
    for (x,) in loader:
        seen.append(round(scheduler.get_last_lr()[0], 2))
        accelerator.backward(model(x).square().mean())
        optimizer.step()
        scheduler.step()  # steps the wrapped scheduler num_processes times
        optimizer.zero_grad()
    return seen, total


def train():
    wrong, wrong_total = lrs("prepared")  # WRONG: the per-process step count
    right, right_total = lrs("unprepared")  # RIGHT: the count the schedule was meant for
    state = AcceleratorState()
    assert wrong[-1] == 0.0 and right[-1] > 0.0
    for turn in range(state.num_processes):
        if turn == state.process_index:
            print(f"rank {turn}/{state.num_processes}: wrong, total {wrong_total}: lr {wrong} | "
                  f"right, total {right_total}: lr {right}", flush=True)
        state.wait_for_everyone()
    state.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    notebook_launcher(train, num_processes=2, use_port=port)
# --8<-- [end:code]
