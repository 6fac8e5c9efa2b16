# pytest: distributed
# --8<-- [start:code]
"""ZeRO-Offload: ZeRO-2 with offload_optimizer=cpu runs DeepSpeedCPUAdam on host-side states."""
import os
import socket
import sys
import warnings

import deepspeed
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

warnings.filterwarnings("ignore", r"`torch\.distributed\.(all_gather_into|reduce_scatter)_tensor`",
                        FutureWarning)  # torch 2.13 deprecates two collectives ZeRO still calls


def run(offload, rank):
    """Three ZeRO-2 AdamW steps; returns losses, the optimizer's class, state bytes by device."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(*[torch.nn.Linear(64, 64) for _ in range(4)])
    zero = {"stage": 2}
    if offload:  # pin_memory speeds up copies to a GPU; there is no GPU here
        zero["offload_optimizer"] = {"device": "cpu", "pin_memory": False}
    config = {"train_micro_batch_size_per_gpu": 4, "gradient_clipping": 0.0,
              "zero_optimization": zero,
              # a config optimizer: with offload DeepSpeed builds its C++ CPU Adam for it
              "optimizer": {"type": "AdamW", "params": {"lr": 1e-3, "weight_decay": 0.0,
                                                      "torch_adam": not offload}}}
    engine, optimizer, *_ = deepspeed.initialize(model=model, config=config,
                                                 model_parameters=model.parameters())
    losses = []
    for step in range(3):
        x = torch.randn(4, 64, generator=torch.Generator().manual_seed(10 * step + rank))
        loss = engine(x).square().mean()
        engine.backward(loss)
        engine.step()
        losses.append(loss.item())
    # ZeRO-2 keeps this rank's slice of the fp32 master weights and of Adam's two moments.
    held = {}
    masters = optimizer.single_partition_of_fp32_groups
    for t in masters + [s for m in masters for s in optimizer.optimizer.state[m].values()]:
        if torch.is_tensor(t) and t.dim():  # skip the step counter (int or scalar)
            held[t.device.type] = held.get(t.device.type, 0) + t.numel() * t.element_size()
    n = sum(p.numel() for p in engine.module.parameters())
    return losses, type(optimizer.optimizer).__name__, held, n


def worker(rank, world):
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
    deepspeed.init_distributed(dist_backend="gloo")
    sys.stdout.flush()  # DeepSpeed's "built" line now, on both ranks: a fixed output order
    dist.barrier()
    plain, plain_opt, plain_held, n = run(offload=False, rank=rank)
    offl, offl_opt, offl_held, _ = run(offload=True, rank=rank)
    gap = max(abs(a - b) for a, b in zip(plain, offl))
    assert sum(offl_held.values()) == 12 * n // world and gap < 1e-6
    for r in range(world):
        if r == rank:
            print(f"rank {rank}/{world}: {plain_opt} -> {offl_opt}; master+moments {offl_held} "
                  f"bytes = 12 x {n} / {world}; max loss gap < 1e-6: {gap < 1e-6}", flush=True)
        dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    mp.start_processes(worker, args=(2,), nprocs=2, start_method="fork")
# --8<-- [end:code]
