# pytest: distributed
# --8<-- [start:code]
"""DeepSpeed 0.19 clips gradients to norm 1.0 unless the config says otherwise."""
import os
import socket

import deepspeed
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

torch.manual_seed(0)
X, Y = torch.randn(8, 16), 10 * torch.randn(8, 1)  # large targets: a gradient norm well above 1


def new_model():
    torch.manual_seed(0)
    return torch.nn.Linear(16, 1)


def plain_step(clip=float("inf")):
    """One SGD step in one process on all 8 rows: the step we expect DeepSpeed to take."""
    model = new_model()
    torch.nn.functional.mse_loss(model(X), Y).backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip)  # inf: measure, do not clip
    torch.optim.SGD(model.parameters(), lr=0.1).step()
    return model.weight.detach(), norm.item()


def deepspeed_step(rank, extra_config):
    model = new_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    config = {"train_micro_batch_size_per_gpu": 4, **extra_config}
    engine, *_ = deepspeed.initialize(model=model, optimizer=optimizer, config=config)
    rows = slice(4 * rank, 4 * rank + 4)  # each of the 2 ranks takes half of the rows
    engine.backward(torch.nn.functional.mse_loss(engine(X[rows]), Y[rows]))
    engine.step()
    return engine.module.weight.detach(), engine.gradient_clipping()


def worker(rank, world):
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
    deepspeed.init_distributed(dist_backend="gloo")
    expected, norm = plain_step()
    # WRONG: assume that a config without "gradient_clipping" does not clip.
    weight, clip = deepspeed_step(rank, {})
    gap = (weight - expected).abs().max().item()
    assert clip == 1.0 and gap > 0.1
    # RIGHT: say what you want: 0.0 turns clipping off ...
    weight, _ = deepspeed_step(rank, {"gradient_clipping": 0.0})
    assert torch.allclose(weight, expected, atol=1e-6)
    # ... or keep 1.0 and expect the clipped step.
    weight, _ = deepspeed_step(rank, {"gradient_clipping": 1.0})
    assert torch.allclose(weight, plain_step(clip=1.0)[0], atol=1e-6)
    if rank == 0:
        print(f"gradient norm {norm:.1f}; gradient_clipping when the config is silent: {clip}; "
              f"max |weight - unclipped step| = {gap:.2f}", flush=True)
    for r in range(world):  # one rank at a time, so the lines come out in rank order
        if r == rank:
            print(f"rank {rank}/{world}: steps match once clipping is stated", flush=True)
        dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free_port = s.getsockname()[1]
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", str(free_port))
    mp.start_processes(worker, args=(2,), nprocs=2, start_method="fork")
# --8<-- [end:code]
