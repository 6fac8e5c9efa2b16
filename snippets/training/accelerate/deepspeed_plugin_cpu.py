# pytest: distributed
# --8<-- [start:code]
"""Accelerate's DeepSpeed plugin on 2 CPU processes: a ZeRO-2 engine, same steps as 1 process."""
import os
import socket
import sys
import warnings

import torch
import torch.distributed as dist
from accelerate import Accelerator, notebook_launcher
from accelerate.utils import DeepSpeedPlugin
from torch.nn.functional import mse_loss
from torch.utils.data import DataLoader, TensorDataset

PER_RANK, WORLD = 4, 2
warnings.filterwarnings("ignore", r"`torch\.distributed\.all_gather_into_tensor`",
                        FutureWarning)  # torch 2.13 deprecates a collective ZeRO still calls


def build():
    torch.manual_seed(0)  # every process builds the same weights and the same data
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.GELU(), torch.nn.Linear(16, 1))
    data = TensorDataset(torch.randn(4 * PER_RANK * WORLD, 8), torch.randn(4 * PER_RANK * WORLD, 1))
    return model, torch.optim.AdamW(model.parameters(), lr=1e-2), data


def train():
    plugin = DeepSpeedPlugin(zero_stage=2)
    accelerator = Accelerator(deepspeed_plugin=plugin)  # no cpu=True: it would drop the plugin
    rank, world = dist.get_rank(), dist.get_world_size()  # DeepSpeed's process group: 2 ranks
    sys.stdout.flush()  # DeepSpeed's start-up lines first, then ours
    dist.barrier()
    model, optimizer, data = build()
    try:  # batch sizes left "auto" are filled from Accelerate's count of processes: 1
        accelerator.prepare(model, optimizer, DataLoader(data, batch_size=PER_RANK))
        refused = False
    except AssertionError as error:
        refused = "train_batch_size is not equal" in str(error)
    # Right: give DeepSpeed the batch sizes itself (and no clipping, like the reference).
    plugin.deepspeed_config.update(train_micro_batch_size_per_gpu=PER_RANK,
                                   train_batch_size=PER_RANK * world, gradient_clipping=0.0)
    model, optimizer = accelerator.prepare(model, optimizer)
    losses = []
    for x, y in DataLoader(data, batch_size=PER_RANK * world):
        mine = slice(rank * PER_RANK, (rank + 1) * PER_RANK)  # shard the batch by hand
        loss = mse_loss(model(x[mine]), y[mine])
        accelerator.backward(loss)  # engine.backward: ZeRO-2 reduce-scatters the gradients
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.detach())
    losses = torch.stack(losses)
    dist.all_reduce(losses)  # the mean of the ranks' losses is the loss on the whole batch

    reference, ref_optimizer, data = build()  # one process, plain PyTorch, batches of 8
    ref_losses = []
    for x, y in DataLoader(data, batch_size=PER_RANK * world):
        loss = mse_loss(reference(x), y)
        loss.backward()
        ref_optimizer.step()
        ref_optimizer.zero_grad()
        ref_losses.append(loss.detach())
    loss_gap = (losses / world - torch.stack(ref_losses)).abs().max().item()
    gap = max((p - q).abs().max().item()
              for p, q in zip(model.parameters(), reference.parameters()))
    if rank == 0:
        print(f"'auto' batch sizes refused: {refused}; Accelerate counts "
              f"{accelerator.num_processes} process, DeepSpeed {world}", flush=True)
    for turn in range(world):  # take turns, so that the lines come out in rank order
        if turn == rank:
            print(f"rank {rank}/{world}: {type(model).__name__}, ZeRO stage "
                  f"{model.zero_optimization_stage()}, {len(ref_losses)} steps, loss gap < 1e-6: "
                  f"{loss_gap < 1e-6}, max |param - single process| < 1e-6: {gap < 1e-6}",
                  flush=True)
        dist.barrier()
    assert refused and model.zero_optimization_stage() == 2
    assert loss_gap < 1e-6 and gap < 1e-6, (loss_gap, gap)
    accelerator.end_training()  # destroys the process group


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    notebook_launcher(train, num_processes=WORLD, use_port=port)
# --8<-- [end:code]
