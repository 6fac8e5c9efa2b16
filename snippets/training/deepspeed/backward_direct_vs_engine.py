# pytest: distributed
# --8<-- [start:code]
"""engine.backward(loss) and a plain loss.backward(): the same step at ZeRO 1-3, not at stage 0."""
import os
import socket
import warnings

import deepspeed
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.functional import mse_loss

warnings.filterwarnings("ignore", r"`torch\.distributed\.(all_gather_into|reduce_scatter)_tensor`",
                        FutureWarning)  # torch 2.13 deprecates two collectives ZeRO still calls
torch.manual_seed(0)
X, Y = torch.randn(8, 16), torch.randn(8, 1)  # 2 ranks x 2 micro-batches x 2 rows


def new_model():
    torch.manual_seed(0)
    return torch.nn.Linear(16, 1)


def plain_step():
    """One SGD step in one process on the mean loss of all 8 rows."""
    model = new_model()
    mse_loss(model(X), Y).backward()
    torch.optim.SGD(model.parameters(), lr=0.1).step()
    return model.weight.detach()


def deepspeed_step(rank, stage, backward):
    """Two accumulated micro-batches per rank, then one step; ``backward(engine, loss)``."""
    model = new_model()
    config = {"train_micro_batch_size_per_gpu": 2, "gradient_accumulation_steps": 2,
              "gradient_clipping": 0.0, "zero_optimization": {"stage": stage},
              "zero_allow_untested_optimizer": True}  # plain SGD: its step shows the scaling
    engine, *_ = deepspeed.initialize(model=model, config=config,
                                      optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    for micro in range(2):
        rows = slice(4 * rank + 2 * micro, 4 * rank + 2 * micro + 2)
        backward(engine, mse_loss(engine(X[rows]), Y[rows]))
        engine.step()  # steps the optimizer only at the accumulation boundary
    with deepspeed.zero.GatheredParameters(engine.module.weight):  # no-op below stage 3
        return engine.module.weight.detach().clone()


def worker(rank, world):
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
    deepspeed.init_distributed(dist_backend="gloo")
    start, expected = new_model().weight.detach(), plain_step()
    lines = []
    for stage in (0, 1, 2, 3):
        engine_way = deepspeed_step(rank, stage, lambda engine, loss: engine.backward(loss))
        same = torch.allclose(engine_way, expected, atol=1e-6)
        try:  # the PyTorch-style call: hooks on the forward output do the engine's work
            direct = deepspeed_step(rank, stage, lambda engine, loss: loss.backward())
            direct_same = torch.allclose(direct, expected, atol=1e-6)
        except RuntimeError as error:
            direct_same = "RuntimeError: " + str(error).split(" in this configuration")[0]
        lines.append(f"stage {stage}: engine.backward = one big step: {same}; "
                     f"loss.backward(): {direct_same}")
    # Both ways divide each micro-batch's gradient by gradient_accumulation_steps (the direct
    # call through a hook on the forward output); without it, the step doubles.
    unscaled = deepspeed_step(rank, 1, lambda eng, loss: eng.backward(loss, scale_wrt_gas=False))
    ratio = ((unscaled - start).norm() / (expected - start).norm()).item()
    lines.append(f"scale_wrt_gas=False: update {ratio:.2f}x the full-batch step")
    if rank == 0:
        print("\n".join(lines), flush=True)
    for r in range(world):  # one rank at a time, so the lines come out in rank order
        if r == rank:
            print(f"rank {rank}/{world}: done", flush=True)
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
