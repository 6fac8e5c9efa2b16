# pytest: distributed
# --8<-- [start:code]
"""Megatron-style sequence parallelism vs plain tensor parallelism on 2 ranks: one MLP block,
LayerNorm -> column-parallel -> GeLU -> row-parallel -> dropout -> residual. Same output and
gradients, same bytes on the wire, half the LayerNorm/dropout activations per rank."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

S, B, H, F, P_DROP = 8, 2, 16, 64, 0.1  # sequence, batch, hidden, MLP width; layout (s, b, h)
SENT = {}  # bytes one rank sends, per collective, as a ring algorithm does


def count(op, tensor_bytes, world):
    """Add what a ring collective over a tensor of ``tensor_bytes`` sends from one rank."""
    share = (world - 1) / world * tensor_bytes  # reduce-scatter and all-gather: (n-1)/n of it
    SENT[op] = SENT.get(op, 0) + (2 * share if op == "all-reduce" else share)


def all_reduce(x):
    count("all-reduce", x.nbytes, dist.get_world_size())
    x = x.clone()
    dist.all_reduce(x)
    return x


def all_gather_seq(x):  # (s/n, b, h) on each rank -> (s, b, h) on every rank
    world = dist.get_world_size()
    out = x.new_empty(x.shape[0] * world, *x.shape[1:])
    count("all-gather", out.nbytes, world)
    dist.all_gather_single(out, x.contiguous())
    return out


def reduce_scatter_seq(x):  # (s, b, h) partial sums -> (s/n, b, h) of the total on each rank
    world = dist.get_world_size()
    out = x.new_empty(x.shape[0] // world, *x.shape[1:])
    count("reduce-scatter", x.nbytes, world)
    dist.reduce_scatter_single(out, x.contiguous())
    return out


# --8<-- [start:key]
class Comm(torch.autograd.Function):
    """A collective in the forward pass and its conjugate in the backward pass (Megatron's f, g)."""

    @staticmethod
    def forward(ctx, x, forward, backward):
        ctx.backward_fn = backward
        return forward(x)

    @staticmethod
    def backward(ctx, grad):
        return ctx.backward_fn(grad), None, None


def identity(x):
    return x


def block(x, ln, w1, w2, mask, mode, saved):
    """mode "full": one process; "tp": x (s, b, h) on every rank; "sp": x (s/n, b, h) per rank.
    Adds to ``saved[0]`` the bytes the LayerNorm and the dropout save for the backward pass."""
    h = saved_bytes(lambda: ln(x), saved)  # LayerNorm: a region outside tensor parallelism
    if mode == "tp":  # f: identity forward, all-reduce backward
        h = Comm.apply(h, identity, all_reduce)
    if mode == "sp":  # g-bar: all-gather the sequence forward, reduce-scatter backward
        h = Comm.apply(h, all_gather_seq, reduce_scatter_seq)
    h = nn.functional.gelu(h @ w1.T) @ w2.T  # column- then row-parallel: partial sums if split
    if mode == "tp":  # g: all-reduce forward, identity backward
        h = Comm.apply(h, all_reduce, identity)
    if mode == "sp":  # the conjugate: reduce-scatter forward, all-gather backward
        h = Comm.apply(h, reduce_scatter_seq, all_gather_seq)
    return x + saved_bytes(lambda: h * mask / (1 - P_DROP), saved)  # dropout, residual
# --8<-- [end:key]


def saved_bytes(fn, saved):
    """Run ``fn``, add the bytes of activations autograd saved while it ran to ``saved[0]``."""
    seen = {}

    def pack(t):
        if not isinstance(t, nn.Parameter):  # weights are model state, not activations
            seen[(t.data_ptr(), t.dtype, tuple(t.shape))] = t.nbytes
        return t
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn()
    saved[0] += sum(seen.values())
    return out


def worker(rank, world):
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(0)  # the same full weights, input and dropout mask on every rank
    ln, w1, w2 = nn.LayerNorm(H), torch.randn(F, H) / H**0.5, torch.randn(H, F) / F**0.5
    x, mask = torch.randn(S, B, H), torch.rand(S, B, H) > P_DROP
    cols, rows = slice(rank * F // world, (rank + 1) * F // world), slice(rank * S // world,
                                                                         (rank + 1) * S // world)
    results = {}
    for mode in ("full", "tp", "sp"):
        layer = nn.LayerNorm(H)
        layer.load_state_dict(ln.state_dict())
        a = nn.Parameter(w1 if mode == "full" else w1[cols].clone())  # column-parallel: rows of W1
        b = nn.Parameter(w2 if mode == "full" else w2[:, cols].clone())  # row-parallel: cols of W2
        inp = (x[rows] if mode == "sp" else x).clone().requires_grad_()
        m = mask[rows] if mode == "sp" else mask
        SENT.clear()
        saved = [0]
        out = block(inp, layer, a, b, m, mode, saved)
        forward_sent = dict(SENT)
        out.backward(torch.ones_like(out))
        both_ways = sum(SENT.values())
        if mode == "sp":  # each rank saw half the tokens: its LayerNorm grads are partial sums
            for p in layer.parameters():
                p.grad = all_reduce(p.grad)
        results[mode] = (out, inp.grad, layer.weight.grad, forward_sent, both_ways, saved[0])

    full, tp, sp = results["full"], results["tp"], results["sp"]
    assert torch.allclose(tp[0], full[0], atol=1e-6) and torch.allclose(sp[0], full[0][rows],
                                                                         atol=1e-6)
    assert torch.allclose(sp[1], full[1][rows], atol=1e-6) and torch.allclose(tp[1], full[1],
                                                                              atol=1e-6)
    assert torch.allclose(sp[2], full[2], atol=1e-5) and torch.allclose(tp[2], full[2], atol=1e-5)
    assert sum(tp[3].values()) == sum(sp[3].values()) and tp[4] == sp[4] and sp[5] * 2 == tp[5]
    if rank == 0:
        print("output, input grad, LayerNorm grad equal to one process (< 1e-5): True")
        for name, r in (("TP", tp), ("SP", sp)):
            sends = ", ".join(f"{op} {n:.0f} B" for op, n in r[3].items())
            print(f"{name}: forward sends {sends}; forward + backward {r[4]:.0f} B;")
            print(f"    LayerNorm + dropout save {r[5]} B of activations")
    for r in range(world):
        if r == rank:
            print(f"rank {rank}/{world}: holds sequence rows {rows.start}-{rows.stop - 1} in SP",
                  flush=True)
        dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    mp.start_processes(worker, args=(2,), nprocs=2, start_method="fork")
# --8<-- [end:code]
