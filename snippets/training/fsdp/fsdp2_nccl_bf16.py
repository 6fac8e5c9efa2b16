# pytest: gpu, distributed, needs-transformers
# --8<-- [start:code]
"""FSDP2 on GPUs: NCCL, one process per GPU, bf16 compute with fp32 shards and fp32 reductions."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard
from transformers import LlamaConfig, LlamaForCausalLM


def worker(rank, world):
    torch.cuda.set_device(rank)  # one GPU per process
    dist.init_process_group("nccl", rank=rank, world_size=world,
                            device_id=torch.device("cuda", rank))
    mesh = init_device_mesh("cuda", (world,))  # 1-D mesh: shard over all GPUs
    torch.manual_seed(0)  # same full model on every rank, built on the CPU ...
    model = LlamaForCausalLM(LlamaConfig(vocab_size=1024, hidden_size=256, intermediate_size=512,
                                         num_hidden_layers=4, num_attention_heads=8,
                                         num_key_value_heads=4))
    policy = MixedPrecisionPolicy(param_dtype=torch.bfloat16, reduce_dtype=torch.float32)
    for layer in model.model.layers:  # ... and fully_shard moves each rank's slices to its GPU
        fully_shard(layer, mesh=mesh, mp_policy=policy)
    fully_shard(model, mesh=mesh, mp_policy=policy)
    seen = {}
    up_proj = model.model.layers[0].mlp.up_proj
    up_proj.register_forward_pre_hook(lambda m, args: seen.update(dtype=m.weight.dtype))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    torch.manual_seed(1)
    # 2 sequences per rank, for any number of GPUs (a fixed batch of 8 leaves ranks 8+ without rows)
    batch = torch.randint(0, 1024, (2 * world, 128), device="cuda")[2 * rank:2 * rank + 2]
    losses = []
    for _ in range(10):
        loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.detach())
    losses = torch.stack(losses)
    dist.all_reduce(losses)  # NCCL reduces on the GPU
    losses /= world
    shard = up_proj.weight.to_local()
    print(f"rank {rank}/{world}: loss {losses[0]:.3f} -> {losses[-1]:.3f}, shard {shard.dtype} "
          f"{tuple(shard.shape)} on {shard.device}, compute {seen['dtype']}, "
          f"peak {torch.cuda.max_memory_allocated() / 2**20:.0f} MiB", flush=True)
    assert shard.dtype == torch.float32 and seen["dtype"] == torch.bfloat16
    assert losses[-1] < losses[0]
    dist.destroy_process_group()


if __name__ == "__main__":
    world = torch.cuda.device_count()
    assert world >= 2, "needs at least 2 GPUs (NCCL does not let two ranks share one GPU)"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    mp.spawn(worker, args=(world,), nprocs=world)  # spawn, not fork: CUDA must not be forked
# --8<-- [end:code]
