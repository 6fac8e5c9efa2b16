# pytest: distributed
# --8<-- [start:code]
"""A tensor-parallel MLP in plain torch.distributed: column-parallel fc1, GeLU, row-parallel fc2."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F


class CopyToTP(torch.autograd.Function):  # the paper's f: identity forward, all-reduce backward
    @staticmethod
    def forward(ctx, x):
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        grad = grad.clone()
        dist.all_reduce(grad)  # each rank only has its own hidden units' share of dL/dx
        return grad


class ReduceFromTP(torch.autograd.Function):  # the paper's g: all-reduce forward, identity backward
    @staticmethod
    def forward(ctx, partial):
        total = partial.clone()
        dist.all_reduce(total)  # sum the partial outputs of fc2
        return total

    @staticmethod
    def backward(ctx, grad):
        return grad  # every rank needs the full dL/dy, and it already has it


def print_in_rank_order(text):  # one rank at a time, so lines neither interleave nor reorder
    for r in range(dist.get_world_size()):
        if r == dist.get_rank():
            print(text, flush=True)
        dist.barrier()


def worker(rank, world):
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(0)  # same seed everywhere: the same full MLP and input on every rank
    fc1, fc2 = torch.nn.Linear(64, 256), torch.nn.Linear(256, 64)
    x = torch.randn(8, 64, requires_grad=True)
    fc2(F.gelu(fc1(x))).pow(2).sum().backward()  # reference: the whole MLP on one rank

    def shard(t, dim):  # this rank's slice, as a fresh leaf tensor with its own .grad
        return t.detach().chunk(world, dim=dim)[rank].clone().requires_grad_()

    w1, b1 = shard(fc1.weight, 0), shard(fc1.bias, 0)  # output features of fc1 ("columns of A")
    w2 = shard(fc2.weight, 1)  # input features of fc2 ("rows of B")
    b2 = fc2.bias.detach().clone().requires_grad_()  # not split: added once, after the sum
    xr = x.detach().clone().requires_grad_()

    hidden = F.gelu(F.linear(CopyToTP.apply(xr), w1, b1))  # 128 whole hidden units per rank
    y = ReduceFromTP.apply(F.linear(hidden, w2)) + b2
    y.pow(2).sum().backward()

    out_ok = torch.allclose(y, fc2(F.gelu(fc1(x))), atol=1e-5)
    grads_ok = (torch.allclose(xr.grad, x.grad, atol=1e-5)
                and torch.allclose(w1.grad, fc1.weight.grad.chunk(world, 0)[rank], atol=1e-5)
                and torch.allclose(w2.grad, fc2.weight.grad.chunk(world, 1)[rank], atol=1e-5)
                and torch.allclose(b1.grad, fc1.bias.grad.chunk(world, 0)[rank], atol=1e-5))
    print_in_rank_order(f"rank {rank}/{world}: W1 shard {tuple(w1.shape)}, W2 shard "
                        f"{tuple(w2.shape)}, output == full MLP: {out_ok}, "
                        f"dx and dW == full grads (sliced): {grads_ok}")
    assert out_ok and grads_ok
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:  # a free port, unless the caller (e.g. a test harness) set one
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    # fork: the workers inherit the imported torch instead of importing it again (spawn would)
    mp.start_processes(worker, args=(2,), nprocs=2, start_method="fork")
# --8<-- [end:code]
