# pytest: distributed
# --8<-- [start:code]
"""Drop the all-reduce from f's backward: weight grads stay right, the input grad is partial."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F


class ReduceFromTP(torch.autograd.Function):  # g: all-reduce forward, identity backward
    @staticmethod
    def forward(ctx, partial):
        total = partial.clone()
        dist.all_reduce(total)
        return total

    @staticmethod
    def backward(ctx, grad):
        return grad


class CopyToTP(torch.autograd.Function):  # f: identity forward, all-reduce backward
    @staticmethod
    def forward(ctx, x):
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        grad = grad.clone()
        dist.all_reduce(grad)
        return grad


def tp_mlp_grads(x, fc1, fc2, rank, world, f):  # the TP MLP with input operator f: dx, dW1
    x = x.detach().clone().requires_grad_()
    w1 = fc1.weight.detach().chunk(world, dim=0)[rank].clone().requires_grad_()
    w2 = fc2.weight.detach().chunk(world, dim=1)[rank]
    ReduceFromTP.apply(F.linear(F.gelu(F.linear(f(x), w1)), w2)).pow(2).sum().backward()
    return x.grad, w1.grad


def print_in_rank_order(text):  # one rank at a time, so lines neither interleave nor reorder
    for r in range(dist.get_world_size()):
        if r == dist.get_rank():
            print(text, flush=True)
        dist.barrier()


def worker(rank, world):
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(0)
    fc1, fc2 = torch.nn.Linear(64, 256, bias=False), torch.nn.Linear(256, 64, bias=False)
    x = torch.randn(8, 64, requires_grad=True)
    fc2(F.gelu(fc1(x))).pow(2).sum().backward()  # full-model reference grads
    dw1_ref = fc1.weight.grad.chunk(world, dim=0)[rank]

    dx_wrong, dw1_wrong = tp_mlp_grads(x, fc1, fc2, rank, world, f=lambda t: t)  # WRONG
    dx_right, dw1_right = tp_mlp_grads(x, fc1, fc2, rank, world, f=CopyToTP.apply)  # RIGHT
    summed = dx_wrong.clone()
    dist.all_reduce(summed)  # the missing all-reduce, done by hand
    ok = {"dW1 (no f)": torch.allclose(dw1_wrong, dw1_ref, atol=1e-5),  # weights still learn
          "dx (no f)": torch.allclose(dx_wrong, x.grad, atol=1e-5),  # but dx is one share
          "dx (no f, summed by hand)": torch.allclose(summed, x.grad, atol=1e-5),
          "dx (with f)": torch.allclose(dx_right, x.grad, atol=1e-5)}
    print_in_rank_order(f"rank {rank}/{world}: == full-model grads: {ok}")
    assert not torch.allclose(dx_wrong, x.grad, atol=1e-3)
    assert ok["dW1 (no f)"] and ok["dx (no f, summed by hand)"] and ok["dx (with f)"]
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:  # a free port, unless the caller (e.g. a test harness) set one
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    mp.start_processes(worker, args=(2,), nprocs=2, start_method="fork")
# --8<-- [end:code]
