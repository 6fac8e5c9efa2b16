# pytest: distributed
# --8<-- [start:code]
"""Two CPU processes with DDP end up exactly where one process on the full batch ends up."""
import os
import socket

import torch
import torch.distributed as dist
from accelerate import Accelerator, notebook_launcher
from torch.utils.data import DataLoader, TensorDataset
from transformers import LlamaConfig, LlamaForCausalLM

PER_RANK, WORLD, STEPS = 4, 2, 5  # 4 sequences per process and step: 8 per step in all


def build():
    torch.manual_seed(0)  # every process builds the same weights and the same data
    model = LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64,
                                         num_hidden_layers=1, num_attention_heads=2))
    data = TensorDataset(torch.randint(0, 64, (PER_RANK * WORLD * STEPS, 12)))
    return model, torch.optim.AdamW(model.parameters(), lr=1e-2), data


def train():
    accelerator = Accelerator(cpu=True)  # (1)!
    model, optimizer, data = build()
    loader = DataLoader(data, batch_size=PER_RANK)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    for (ids,) in loader:  # (2)!
        loss = model(input_ids=ids, labels=ids).loss
        accelerator.backward(loss)  # DDP all-reduces (averages) the gradients here
        optimizer.step()
        optimizer.zero_grad()
    mine = torch.cat([p.detach().flatten() for p in model.parameters()])
    every_rank = accelerator.gather(mine[None])  # (WORLD, n_params): one row per process

    # the reference: one process, plain PyTorch, batches of 8
    reference, ref_optimizer, data = build()
    for (ids,) in DataLoader(data, batch_size=PER_RANK * WORLD):
        reference(input_ids=ids, labels=ids).loss.backward()
        ref_optimizer.step()
        ref_optimizer.zero_grad()
    gap = (mine - torch.cat([p.detach().flatten()
                             for p in reference.parameters()])).abs().max().item()
    same = all(torch.equal(row, every_rank[0]) for row in every_rank)

    rank, world = dist.get_rank(), dist.get_world_size()
    for turn in range(world):  # take turns, so that the lines come out in rank order
        if turn == rank:
            print(f"rank {rank}/{world}: {type(model).__name__}, {len(loader)} steps of {PER_RANK} "
                  f"sequences, params equal across ranks: {same}, matches 1-process full batch: "
                  f"{gap < 1e-5}", flush=True)
        accelerator.wait_for_everyone()
    assert same and gap < 1e-5, gap
    accelerator.end_training()  # destroys the process group


if __name__ == "__main__":
    with socket.socket() as s:  # a free port, unless the caller chose one
        s.bind(("127.0.0.1", 0))
        port = os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    notebook_launcher(train, num_processes=WORLD, use_port=port)
# --8<-- [end:code]
