# pytest: distributed
# --8<-- [start:code]
"""ZeRO-3: save_checkpoint, resume in a new engine bit-exactly, and rebuild fp32 weights offline."""
import contextlib
import io
import os
import socket
import sys
import tempfile
import warnings
from pathlib import Path

import deepspeed
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from deepspeed.utils.zero_to_fp32 import get_fp32_state_dict_from_zero_checkpoint

warnings.filterwarnings("ignore", r"`torch\.distributed\.(all_gather_into|reduce_scatter)_tensor`",
                        FutureWarning)  # torch 2.13 deprecates two collectives ZeRO still calls
CONFIG = {"train_micro_batch_size_per_gpu": 4, "gradient_clipping": 0.0,
          "zero_optimization": {"stage": 3, "stage3_param_persistence_threshold": 0}}


def engine_for(seed):
    """A fresh ZeRO-3 engine around a small MLP and torch's AdamW (fp32 throughout)."""
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    return deepspeed.initialize(model=model, optimizer=optimizer, config=CONFIG)[0]


def train(engine, steps, rank):
    """One step per batch; each batch is fixed by (step, rank). Returns this rank's losses."""
    losses = []
    for step in steps:
        g = torch.Generator().manual_seed(1000 * step + rank)
        x, y = torch.randn(4, 8, generator=g), torch.randn(4, 1, generator=g)
        loss = torch.nn.functional.mse_loss(engine(x), y)
        engine.backward(loss)
        engine.step()
        losses.append(loss.item())
    return losses


def worker(rank, world, ckpt):
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
    deepspeed.init_distributed(dist_backend="gloo")
    sys.stdout.flush()  # DeepSpeed's "built" line now, on both ranks: a fixed output order
    dist.barrier()
    full = train(engine_for(seed=0), range(6), rank)  # uninterrupted reference

    engine = engine_for(seed=0)
    before = train(engine, range(3), rank)
    engine.save_checkpoint(ckpt, tag="step3")  # every rank: each writes its own shards
    resumed = engine_for(seed=7)  # another initialisation, as in a new job
    path, _ = resumed.load_checkpoint(ckpt)  # reads the "latest" tag; optimizer states too
    after = train(resumed, range(3, 6), rank)
    assert before + after == full, "resume is not bit-exact"

    # Full weights from the shards, as zero_to_fp32.py does after training, on rank 0 only.
    with deepspeed.zero.GatheredParameters(list(resumed.module.parameters())):
        live = {k: v.detach().clone() for k, v in resumed.module.state_dict().items()}
    dist.barrier()
    resumed.save_checkpoint(ckpt, tag="step6")
    if rank == 0:
        with contextlib.redirect_stdout(io.StringIO()):  # it prints progress with the tmp path
            merged = get_fp32_state_dict_from_zero_checkpoint(ckpt)  # "latest" is now step6
        same = all(torch.equal(merged[k], live[k]) for k in live)
        print("files in step3/:", sorted(p.name for p in Path(ckpt, "step3").iterdir()))
        print(f"merged fp32 state dict: {list(merged)}, equal to the engine's: {same}")
        assert same
    for r in range(world):
        if r == rank:
            print(f"rank {rank}/{world}: loaded {Path(path).parent.name}/, losses of steps 3-5 "
                  f"bit-exactly equal to the uninterrupted run: True", flush=True)
        dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    with tempfile.TemporaryDirectory() as tmp:
        mp.start_processes(worker, args=(2, tmp), nprocs=2, start_method="fork")
# --8<-- [end:code]
