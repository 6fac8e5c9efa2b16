# pytest: distributed
# --8<-- [start:code]
"""After ColwiseParallel each rank holds HEADS / tp heads: a view() with the global head count
goes wrong (huggingface/transformers#45109, pytorch/PiPPy#922). Let -1 be the head dimension."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.tensor.parallel import ColwiseParallel, RowwiseParallel, parallelize_module

B, S, H, HEADS = 2, 8, 16, 4


class Attention(nn.Module):
    def __init__(self, heads_in_view):
        super().__init__()
        torch.manual_seed(0)
        self.wq, self.wk, self.wv, self.wo = (nn.Linear(H, H, bias=False) for _ in range(4))
        self.heads_in_view = heads_in_view

    def forward(self, x):
        b, s, _ = x.shape
        if self.heads_in_view == "global":  # WRONG: the config's count, as in T5Attention
            split = lambda t: t.view(b, -1, HEADS, H // HEADS)  # -1 on the sequence
        else:  # RIGHT: -1 on the heads, whatever this rank holds
            split = lambda t: t.view(b, s, -1, H // HEADS)
        q, k, v = (split(w(x)).transpose(1, 2) for w in (self.wq, self.wk, self.wv))
        self.q_shape = tuple(q.shape)
        out = nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.wo(out.transpose(1, 2).reshape(b, s, -1))


def worker(rank, world):
    dist.init_process_group("gloo", rank=rank, world_size=world)
    mesh = init_device_mesh("cpu", (world,))
    torch.manual_seed(1)
    x = torch.randn(B, S, H)
    ref = Attention("local")(x)  # one process: both views agree when nothing is sharded
    plan = {"wq": ColwiseParallel(), "wk": ColwiseParallel(), "wv": ColwiseParallel(),
            "wo": RowwiseParallel()}
    lines = []
    for kind in ("global", "local"):
        attn = parallelize_module(Attention(kind), mesh, plan)
        equal = (attn(x) - ref).abs().max().item() < 1e-5
        lines.append(f"{kind} heads in view: q {attn.q_shape} (b, heads, s, d); "
                     f"equal to one process: {equal}")
    # the wrong view silently reads 4 heads of 4 positions: no error, other numbers
    assert "q (2, 4, 4, 4)" in lines[0] and lines[0].endswith("equal to one process: False")
    assert lines[1].endswith("equal to one process: True")
    for r in range(world):
        if r == rank:
            print(f"rank {rank}/{world}:\n  " + "\n  ".join(lines), flush=True)
        dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    mp.start_processes(worker, args=(2,), nprocs=2, start_method="fork")
# --8<-- [end:code]
