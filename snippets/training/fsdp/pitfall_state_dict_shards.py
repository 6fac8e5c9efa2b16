# pytest: distributed
# --8<-- [start:code]
"""model.state_dict() of an FSDP2 model holds DTensor slices, not weights you can load elsewhere."""
import os
import socket
import tempfile
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from safetensors.torch import load_file, save_file
from torch import nn
from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict
from torch.distributed.fsdp import fully_shard


def make_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))


def worker(rank, world, tmp):
    dist.init_process_group("gloo", rank=rank, world_size=world)
    model = fully_shard(make_model())
    wrong = model.state_dict()  # WRONG for export: DTensors, each rank holding only its rows
    # RIGHT: a collective, so EVERY rank calls it; with cpu_offload only rank 0 gets the tensors
    right = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True,
                                                                 cpu_offload=True))
    if rank == 0:
        torch.save(wrong, Path(tmp, "wrong.pt"))  # trusted: the DTensor file this pitfall shows
        save_file(right, Path(tmp, "right.safetensors"))
    w = wrong["0.weight"]
    for r in range(world):  # one rank at a time, so that the lines do not interleave
        if r == rank:
            print(f"rank {rank}/{world}: state_dict()['0.weight'] is a {type(w).__name__}, "
                  f"shape {tuple(w.shape)}, local {tuple(w.to_local().shape)}", flush=True)
        dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    with tempfile.TemporaryDirectory() as tmp:
        mp.start_processes(worker, args=(2, tmp), nprocs=2, start_method="fork")
        plain = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))  # e.g. for inference
        wrong = torch.load(Path(tmp, "wrong.pt"))  # trusted: written by worker() above
        local = {k: v.to_local() for k, v in wrong.items()}  # a tempting "fix": rank 0's rows
        for attempt, state, expected in (("as saved", wrong, "mixed torch.Tensor and DTensor"),
                                         (".to_local()", local, "size mismatch")):
            try:
                plain.load_state_dict(state)
                raise AssertionError("expected loading the DTensor slices to fail")
            except RuntimeError as err:
                assert expected in str(err)
                print(f"wrong, {attempt}: load_state_dict fails with '{expected}'")
        plain.load_state_dict(load_file(Path(tmp, "right.safetensors")))
        same = all(torch.equal(a, b) for a, b in zip(plain.parameters(), make_model().parameters()))
        print("right: loads, weights equal the original model:", same)
        assert same
# --8<-- [end:code]
