# pytest: distributed
# --8<-- [start:code]
"""Full (pretrained) weights into an FSDP2 model: use set_model_state_dict, not load_state_dict."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.distributed.checkpoint.state_dict import StateDictOptions, set_model_state_dict
from torch.distributed.fsdp import fully_shard


def make_model(seed):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))


def worker(rank, world):
    dist.init_process_group("gloo", rank=rank, world_size=world)
    pretrained = make_model(seed=0).state_dict()  # e.g. read from a safetensors file
    model = fully_shard(make_model(seed=1))  # other random weights, now DTensor shards
    try:  # WRONG: plain tensors cannot be copied into DTensor parameters
        model.load_state_dict(pretrained)
        error = "none"
    except RuntimeError as err:
        error = "mixed torch.Tensor and DTensor" if "mixed torch.Tensor and DTensor" in str(
            err) else str(err)
    # RIGHT: each rank keeps its slice of every full tensor. With broadcast_from_rank0 only
    # rank 0 needs the file in memory; the others pass an empty dict and receive the tensors.
    # (It may replace the dict's values in place: pass a copy if you still need the original.)
    set_model_state_dict(model, dict(pretrained) if rank == 0 else {},
                         options=StateDictOptions(full_state_dict=True, broadcast_from_rank0=True))
    same = all(torch.equal(p.full_tensor(), pretrained[name])
               for name, p in model.named_parameters())
    assert error == "mixed torch.Tensor and DTensor" and same
    for r in range(world):
        if r == rank:
            print(f"rank {rank}/{world}: load_state_dict: '{error}' | set_model_state_dict: "
                  f"weights equal the pretrained ones: {same}", flush=True)
        dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    mp.start_processes(worker, args=(2,), nprocs=2, start_method="fork")
# --8<-- [end:code]
