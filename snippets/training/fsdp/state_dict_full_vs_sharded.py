# pytest: distributed
# --8<-- [start:code]
"""Two ways to save an FSDP2 model: one full state dict from rank 0, or sharded files via DCP."""
import os
import socket
import tempfile
from pathlib import Path

import torch
import torch.distributed as dist
import torch.distributed.checkpoint as dcp
import torch.multiprocessing as mp
from safetensors.torch import load_file, save_file
from torch import nn
from torch.distributed.checkpoint.format_utils import dcp_to_torch_save
from torch.distributed.checkpoint.state_dict import (StateDictOptions, get_model_state_dict,
                                                     set_model_state_dict)
from torch.distributed.fsdp import fully_shard

FULL = StateDictOptions(full_state_dict=True, cpu_offload=True)  # gathered, kept on rank 0 only


def sharded_model(seed):
    torch.manual_seed(seed)
    return fully_shard(nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64)))


def worker(rank, world, tmp):
    dist.init_process_group("gloo", rank=rank, world_size=world)
    model = sharded_model(seed=0)
    full = get_model_state_dict(model, options=FULL)  # plain tensors on rank 0, {} elsewhere
    if rank == 0:
        save_file(full, Path(tmp, "full.safetensors"))
    # sharded: each rank writes only its own slices, all ranks at once, plus one metadata file
    dcp.save(get_model_state_dict(model), checkpoint_id=Path(tmp, "sharded"))

    resumed = sharded_model(seed=1)  # different weights, same sharding
    state = get_model_state_dict(resumed)
    dcp.load(state, checkpoint_id=Path(tmp, "sharded"))  # fills each rank's slices in place
    set_model_state_dict(resumed, state)
    again = get_model_state_dict(resumed, options=FULL)
    assert all(torch.equal(again[k], full[k]) for k in full)  # empty loop on rank 1
    for r in range(world):  # one rank at a time, so that the lines do not interleave
        if r == rank:
            print(f"rank {rank}/{world}: full state dict has {len(full)} tensors", flush=True)
        dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    with tempfile.TemporaryDirectory() as tmp:
        mp.start_processes(worker, args=(2, tmp), nprocs=2, start_method="fork")
        ckpt = Path(tmp, "sharded")
        print("files:", sorted(f.name for f in ckpt.iterdir()))
        metadata = dcp.FileSystemReader(ckpt).read_metadata()  # what .metadata records
        for piece in metadata.state_dict_metadata["0.weight"].chunks:
            print(f"0.weight piece: offsets {tuple(piece.offsets)}, sizes {tuple(piece.sizes)}")
        dcp_to_torch_save(ckpt, Path(tmp, "merged.pt"))  # no process group needed
        full = load_file(Path(tmp, "full.safetensors"))
        merged = torch.load(Path(tmp, "merged.pt"))  # trusted: dcp_to_torch_save wrote it above
        assert full.keys() == merged.keys() and all(torch.equal(full[k], merged[k]) for k in full)
        print("merged shards == full state dict:", {k: tuple(v.shape) for k, v in merged.items()})
# --8<-- [end:code]
