# pytest: distributed
# --8<-- [start:code]
"""PyTorch-native tensor parallelism on 2 gloo ranks: parallelize_module with ColwiseParallel,
RowwiseParallel and SequenceParallel on a small transformer block, equal to the unsharded block."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.tensor import DTensor, Replicate, Shard
from torch.distributed.tensor.debug import CommDebugMode
from torch.distributed.tensor.parallel import (ColwiseParallel, PrepareModuleInput,
                                               RowwiseParallel, SequenceParallel,
                                               parallelize_module)

B, S, H, HEADS = 2, 8, 16, 4  # batch, sequence, hidden, heads; activations are (b, s, h)


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.wq, self.wk, self.wv, self.wo = (nn.Linear(H, H, bias=False) for _ in range(4))

    def forward(self, x):
        b, s, _ = x.shape
        # -1, not HEADS: after ColwiseParallel each rank holds HEADS / 2 heads (see Pitfalls)
        q, k, v = (w(x).view(b, s, -1, H // HEADS).transpose(1, 2) for w in (self.wq, self.wk,
                                                                             self.wv))
        out = nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.wo(out.transpose(1, 2).reshape(b, s, -1))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm1, self.attn, self.norm2 = nn.LayerNorm(H), Attention(), nn.LayerNorm(H)
        self.mlp = nn.Sequential(nn.Linear(H, 4 * H), nn.GELU(), nn.Linear(4 * H, H))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


def make_block():
    torch.manual_seed(0)
    return Block()


# --8<-- [start:key]
TP_PLAN = {  # Megatron's split: Q/K/V and the first MLP layer by columns, the others by rows
    "attn.wq": ColwiseParallel(), "attn.wk": ColwiseParallel(), "attn.wv": ColwiseParallel(),
    "attn.wo": RowwiseParallel(), "mlp.0": ColwiseParallel(), "mlp.2": RowwiseParallel(),
}
SP_PLAN = {  # the same, with the norms (and the residual stream) sharded along the sequence
    "norm1": SequenceParallel(), "norm2": SequenceParallel(),
    "attn": PrepareModuleInput(input_layouts=Shard(1), desired_input_layouts=Replicate()),
    "mlp": PrepareModuleInput(input_layouts=Shard(1), desired_input_layouts=Replicate()),
    **TP_PLAN,
    "attn.wo": RowwiseParallel(output_layouts=Shard(1)),  # reduce-scatter, not all-reduce
    "mlp.2": RowwiseParallel(output_layouts=Shard(1)),
}
# --8<-- [end:key]


def worker(rank, world):
    dist.init_process_group("gloo", rank=rank, world_size=world)
    mesh = init_device_mesh("cpu", (world,), mesh_dim_names=("tp",))
    torch.manual_seed(1)
    x = torch.randn(B, S, H)
    ref = make_block()  # reference: the whole block in one process
    ref_out = ref(x)
    ref_out.sum().backward()
    ref_grads = {n: p.grad for n, p in ref.named_parameters()}
    rows = slice(rank * S // world, (rank + 1) * S // world)

    for name, plan in (("TP", TP_PLAN), ("TP + SP", SP_PLAN)):
        block = parallelize_module(make_block(), mesh, plan)
        inp = x[:, rows] if name == "TP + SP" else x  # SP: this rank's part of the sequence
        inp = inp.clone().requires_grad_()  # as inside a model (and quiets a hook warning)
        with CommDebugMode() as comm:
            out = block(inp)
        out.sum().backward()
        expected = ref_out[:, rows] if name == "TP + SP" else ref_out
        error = (out - expected).abs().max().item()
        for n, p in block.named_parameters():  # DTensor grads: gather the shards to compare
            g = p.grad.full_tensor() if isinstance(p.grad, DTensor) else p.grad
            error = max(error, (g - ref_grads[n]).abs().max().item())
        counts = {str(op).split(".")[-1]: c for op, c in comm.get_comm_counts().items()}
        wq = block.attn.wq.weight
        if rank == 0:
            print(f"{name:<8} forward collectives {dict(sorted(counts.items()))}")
            print(f"{'':<8} wq local {tuple(wq.to_local().shape)} of {tuple(wq.shape)}, "
                  f"output {tuple(out.shape)}; output and grads equal (< 1e-5): {error < 1e-5}")
        assert error < 1e-5
    for r in range(world):
        if r == rank:
            print(f"rank {rank}/{world}: holds heads {rank * HEADS // world}-"
                  f"{(rank + 1) * HEADS // world - 1} and sequence rows {rows.start}-"
                  f"{rows.stop - 1} (with SP)", flush=True)
        dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    mp.start_processes(worker, args=(2,), nprocs=2, start_method="fork")
# --8<-- [end:code]
