# pytest: distributed
# --8<-- [start:code]
"""DeepSpeed activation checkpointing on 2 CPU processes: same gradients, fewer bytes kept."""
import os
import socket
import sys
import warnings
from pathlib import Path

import deepspeed
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.autograd.graph import saved_tensors_hooks

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the layer of the snippet beside this
from activation_bytes_per_layer import GPTLayer  # noqa: E402

s, b, h, a = 64, 2, 128, 4
warnings.filterwarnings("ignore", r"`torch\.distributed\.all_gather_into_tensor`",
                        FutureWarning)  # torch 2.13 deprecates a collective DeepSpeed still calls


class TensorParallelGroup:
    """The ``mpu`` DeepSpeed asks for: here both ranks form one tensor-parallel group."""

    def get_model_parallel_rank(self):
        return dist.get_rank()

    def get_model_parallel_world_size(self):
        return dist.get_world_size()

    def get_model_parallel_group(self):
        return dist.group.WORLD

    def get_data_parallel_world_size(self):
        return 1  # no data parallelism in this demo

    def get_data_parallel_rank(self):
        return 0


def kept_bytes(run, layer, x):
    """(bytes kept for backward, output) of ``run(layer, x)``: the distinct storages autograd
    saves (parameters left out) plus the inputs a DeepSpeed checkpoint keeps on its own context
    (``saved_data`` is this rank's partition when activations are partitioned)."""
    params = {p.untyped_storage().data_ptr() for p in layer.parameters()}
    seen = {}

    def pack(t):
        storage = t.untyped_storage()
        if storage.data_ptr() not in params:
            seen[storage.data_ptr()] = storage.nbytes()  # views of one storage count once
        return t

    with saved_tensors_hooks(pack, lambda t: t):
        out = run(layer, x)
    for t in getattr(out.grad_fn, "deepspeed_saved_tensors", ()):  # what the checkpoint kept
        if torch.is_floating_point(t):
            pack(getattr(t, "saved_data", t))
    return sum(seen.values()), out


def gradients(run):
    """Bytes kept and the gradients (input, then parameters) of one forward/backward."""
    torch.manual_seed(0)  # same weights and the same dropout masks for every variant
    layer = GPTLayer(h, a).to(torch.bfloat16)
    x = torch.randn(s, b, h, dtype=torch.bfloat16, requires_grad=True)
    kept, out = kept_bytes(run, layer, x * 1)  # x * 1: an activation, as between real layers
    out.float().sum().backward()
    return kept, [x.grad] + [p.grad for p in layer.parameters()]


def worker(rank, world):
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
    deepspeed.init_distributed(dist_backend="gloo")
    sys.stdout.flush()  # DeepSpeed's start-up lines first, then ours
    dist.barrier()
    checkpointing = deepspeed.checkpointing
    results = {"none": gradients(lambda layer, x: layer(x))}
    checkpointing.configure(None)  # defaults: keep the whole input, like torch's checkpoint
    results["checkpoint"] = gradients(checkpointing.checkpoint)
    checkpointing.configure(TensorParallelGroup(), partition_activations=True)
    results["partitioned"] = gradients(checkpointing.checkpoint)
    config = {"train_micro_batch_size_per_gpu": 1,  # the same switches as a config section
              "activation_checkpointing": {"partition_activations": True,
                                           "cpu_checkpointing": True,
                                           "contiguous_memory_optimization": True,
                                           "number_checkpoints": 1}}
    checkpointing.configure(TensorParallelGroup(), deepspeed_config=config)
    results["partitioned+cpu+contiguous"] = gradients(checkpointing.checkpoint)
    sbh, reference = s * b * h, results["none"][1]
    for turn in range(world):  # take turns, so that the lines come out in rank order
        if turn == rank:
            for name, (kept, grads) in results.items():
                gap = max((g - r).abs().max().item() for g, r in zip(grads, reference))
                print(f"rank {rank}/{world}: {name:26} kept {kept / sbh:5.2f} sbh bytes, "
                      f"gradients equal to no checkpointing: {gap == 0}", flush=True)
                assert gap == 0, (name, gap)
        dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free_port = sock.getsockname()[1]
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", str(free_port))
    mp.start_processes(worker, args=(2,), nprocs=2, start_method="fork")
# --8<-- [end:code]
