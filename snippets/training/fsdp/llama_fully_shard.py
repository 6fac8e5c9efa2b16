# pytest: distributed
# --8<-- [start:code]
"""FSDP2 on a transformers Llama: each decoder layer, then the root; same losses as 1 process."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.distributed.fsdp import fully_shard
from transformers import LlamaConfig, LlamaForCausalLM

CFG = LlamaConfig(vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2)


def make_model():
    torch.manual_seed(0)
    return LlamaForCausalLM(CFG)


def train(model, batch, steps=3):
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)  # built after any sharding
    losses = []
    for _ in range(steps):
        loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.detach())
    return torch.stack(losses)


def worker(rank, world):
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(1)
    batch = torch.randint(0, 128, (4, 16))  # no padding: each rank gets 2 rows x 15 targets
    ref_losses = train(make_model(), batch)

    model = make_model()
    for layer in model.model.layers:  # one FSDP unit per LlamaDecoderLayer ...
        fully_shard(layer)
    fully_shard(model)  # ... and the root takes what is left: embeddings, final norm, lm_head
    losses = train(model, batch.chunk(world)[rank])
    dist.all_reduce(losses)
    losses /= world  # equal token counts per rank, so the mean of the ranks = full-batch loss
    diff = (losses - ref_losses).abs().max().item()
    if rank == 0:
        print("single process:", [round(v, 4) for v in ref_losses.tolist()])
        print("FSDP2, 2 ranks:", [round(v, 4) for v in losses.tolist()])
        print(f"{type(model).__name__}, layer 0 is {type(model.model.layers[0]).__name__}")
    for r in range(world):  # one rank at a time, so that the lines do not interleave
        if r == rank:
            print(f"rank {rank}/{world}: max loss difference < 1e-5: {diff < 1e-5}", flush=True)
        dist.barrier()
    assert diff < 1e-5 and isinstance(model, LlamaForCausalLM)  # the FSDP class is a subclass
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    mp.start_processes(worker, args=(2,), nprocs=2, start_method="fork")
# --8<-- [end:code]
