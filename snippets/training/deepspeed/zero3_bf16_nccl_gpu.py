# pytest: gpu, distributed, needs-transformers, needs-deepspeed
# --8<-- [start:code]
"""ZeRO-3 with bf16 weights over NCCL, one process per GPU (needs at least 2 GPUs)."""
import os
import socket
import warnings

import deepspeed
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from transformers import LlamaConfig, LlamaForCausalLM

warnings.filterwarnings("ignore", r"`torch\.distributed\.(all_gather_into|reduce_scatter)_tensor`",
                        FutureWarning)  # torch 2.13 deprecates two collectives ZeRO still calls


def worker(rank, world):
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
    torch.cuda.set_device(rank)  # one GPU per process, before NCCL starts
    deepspeed.init_distributed(dist_backend="nccl")
    config = {"train_micro_batch_size_per_gpu": 4, "gradient_clipping": 1.0,
              "bf16": {"enabled": True},  # bf16 weights and grads, fp32 master copy in the shards
              "zero_optimization": {"stage": 3, "stage3_param_persistence_threshold": 0}}
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(vocab_size=1024, hidden_size=256, intermediate_size=512,
                                         num_hidden_layers=4, num_attention_heads=8,
                                         num_key_value_heads=4))
    engine, *_ = deepspeed.initialize(model=model, config=config,
                                      optimizer=torch.optim.AdamW(model.parameters(), lr=1e-3))
    generator = torch.Generator().manual_seed(rank)  # each rank draws its own data
    batch = torch.randint(0, 1024, (4, 64), generator=generator).to(engine.device)
    losses = []
    for _ in range(10):
        loss = engine(input_ids=batch, labels=batch).loss
        engine.backward(loss)
        engine.step()
        losses.append(loss.item())
    weight = engine.module.model.embed_tokens.weight
    with deepspeed.zero.GatheredParameters(weight):
        full = weight.detach().float().sum().reshape(1)
    sums = [torch.zeros_like(full) for _ in range(world)]
    dist.all_gather(sums, full)
    assert losses[-1] < losses[0] and all(torch.equal(sums[0], s) for s in sums)
    for r in range(world):  # one rank at a time, so the lines come out in rank order
        if r == rank:
            shard = weight.ds_tensor
            print(f"rank {rank}/{world}: {shard.dtype} shard of {shard.numel()} of "
                  f"{weight.ds_numel} embedding numbers on {engine.device}; "
                  f"loss {losses[0]:.2f} -> {losses[-1]:.2f}", flush=True)
        dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free_port = s.getsockname()[1]
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", str(free_port))
    assert torch.cuda.device_count() >= 2, "NCCL needs a GPU per process: run on 2+ GPUs"
    # spawn, not fork: a CUDA context cannot cross a fork
    mp.start_processes(worker, args=(torch.cuda.device_count(),), nprocs=torch.cuda.device_count(),
                       start_method="spawn")
# --8<-- [end:code]
