# pytest: distributed
# --8<-- [start:code]
"""mixed_precision="bf16" on CPU: bf16 matmuls inside forward, float32 weights and gradients."""
import copy
import os
import socket

import torch
import torch.distributed as dist
from accelerate import Accelerator, notebook_launcher


def train():
    accelerator = Accelerator(cpu=True, mixed_precision="bf16")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.GELU(), torch.nn.Linear(64, 1))
    fp32_model = copy.deepcopy(model)  # the same weights, run without autocast
    model = accelerator.prepare(model)

    seen = {}

    def record_dtype(module, inputs, output):  # a forward hook: look, return None, change nothing
        seen["hidden"] = output.dtype

    model.module[0].register_forward_hook(record_dtype)
    x, y = torch.randn(16, 64), torch.randn(16, 1)
    x, y = x[accelerator.process_index::2], y[accelerator.process_index::2]  # this rank's half
    out = model(x)  # (1)!
    loss = torch.nn.functional.mse_loss(out, y)
    accelerator.backward(loss)  # DDP averages the (float32) gradients of the two ranks
    ref_loss = torch.nn.functional.mse_loss(fp32_model(x), y)
    rel = abs(loss.item() - ref_loss.item()) / ref_loss.item()
    grad = model.module[0].weight.grad
    grads = accelerator.gather(grad.flatten()[None])

    rank, world = dist.get_rank(), dist.get_world_size()
    for turn in range(world):  # take turns, so that the lines come out in rank order
        if turn == rank:
            print(f"rank {rank}/{world}: hidden {seen['hidden']}, output {out.dtype}, weights "
                  f"{model.module[0].weight.dtype}, grads {grad.dtype}, equal across ranks "
                  f"{torch.equal(grads[0], grads[1])}, loss vs fp32 differs {rel > 0}, "
                  f"within 1% {rel < 0.01}", flush=True)
        accelerator.wait_for_everyone()
    assert seen["hidden"] == torch.bfloat16 and out.dtype == grad.dtype == torch.float32
    assert torch.equal(grads[0], grads[1]) and 0 < rel < 0.01
    accelerator.end_training()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    notebook_launcher(train, num_processes=2, use_port=port)
# --8<-- [end:code]
