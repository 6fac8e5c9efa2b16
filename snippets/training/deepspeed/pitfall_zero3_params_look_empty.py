# pytest: distributed
# --8<-- [start:code]
"""Under ZeRO-3 a module's own parameters are empty: gather them before you read or save them."""
import os
import socket
import tempfile
import warnings

import deepspeed
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

warnings.filterwarnings("ignore", r"`torch\.distributed\.(all_gather_into|reduce_scatter)_tensor`",
                        FutureWarning)  # torch 2.13 deprecates two collectives ZeRO still calls


def new_model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 8))


def worker(rank, world, out_dir):
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
    deepspeed.init_distributed(dist_backend="gloo")
    config = {"train_micro_batch_size_per_gpu": 2,
              "zero_optimization": {"stage": 3, "stage3_param_persistence_threshold": 0,
                                    "stage3_gather_16bit_weights_on_model_save": True}}
    model = new_model()
    engine, *_ = deepspeed.initialize(model=model, config=config,
                                      optimizer=torch.optim.AdamW(model.parameters()))
    weight = engine.module[0].weight

    # WRONG: read or save the parameter as if it were an ordinary tensor.
    copied = weight.detach().clone()
    saved = engine.module.state_dict()["0.weight"]
    assert copied.numel() == 0 and saved.numel() == 0  # shape (0,): the data lives in shards
    shard = weight.ds_tensor.numel()  # this rank's 1/world of the 64 x 64 = 4096 numbers

    # RIGHT: gather to read it; let the engine gather when it saves.
    with deepspeed.zero.GatheredParameters(weight):
        full = weight.detach().clone()
    assert full.shape == (64, 64) and torch.equal(full, new_model()[0].weight.detach())
    assert engine.save_16bit_model(out_dir)  # every rank must call it; rank 0 writes the file
    dist.barrier()
    plain = new_model()
    plain.load_state_dict(torch.load(  # trusted: saved above; strict
        os.path.join(out_dir, "pytorch_model.bin")))
    assert torch.equal(plain[0].weight.detach(), full)  # full tensors were saved, not shards
    if rank == 0:
        print(f"outside GatheredParameters: shape {tuple(copied.shape)}, state_dict shape "
              f"{tuple(saved.shape)}; inside: shape {tuple(full.shape)}", flush=True)
    for r in range(world):  # one rank at a time, so the lines come out in rank order
        if r == rank:
            print(f"rank {rank}/{world}: holds {shard} of the weight's {full.numel()} numbers; "
                  f"the saved file loads into a plain model", flush=True)
        dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free_port = s.getsockname()[1]
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", str(free_port))
    with tempfile.TemporaryDirectory() as out_dir:
        mp.start_processes(worker, args=(2, out_dir), nprocs=2, start_method="fork")
# --8<-- [end:code]
