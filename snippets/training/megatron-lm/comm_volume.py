# pytest: distributed
# --8<-- [start:code]
"""Count the all-reduces of one tensor-parallel transformer layer made of megatron-core layers."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from megatron.core import ModelParallelConfig, parallel_state
from megatron.core.tensor_parallel import ColumnParallelLinear, RowParallelLinear

S, B, H, HEADS = 16, 2, 64, 4  # sequence, batch, hidden, attention heads
calls = []  # bytes handed to each all-reduce on this rank
_all_reduce = dist.all_reduce


def counting_all_reduce(tensor, *args, **kwargs):
    calls.append(tensor.numel() * tensor.element_size())
    return _all_reduce(tensor, *args, **kwargs)


def print_in_rank_order(text):  # one rank at a time, so lines neither interleave nor reorder
    for r in range(dist.get_world_size()):
        if r == dist.get_rank():
            print(text, flush=True)
        dist.barrier()


def worker(rank, world):
    dist.init_process_group("gloo", rank=rank, world_size=world)
    parallel_state.initialize_model_parallel(tensor_model_parallel_size=world)
    kw = dict(config=ModelParallelConfig(tensor_model_parallel_size=world,
                                         use_cpu_initialization=True),
              init_method=torch.nn.init.normal_, bias=False,
              tp_group=parallel_state.get_tensor_model_parallel_group())
    qkv = ColumnParallelLinear(H, 3 * H, gather_output=False, **kw)  # whole heads per rank
    proj = RowParallelLinear(H, H, input_is_parallel=True, skip_bias_add=False, **kw)
    fc1 = ColumnParallelLinear(H, 4 * H, gather_output=False, **kw)
    fc2 = RowParallelLinear(4 * H, H, input_is_parallel=True, skip_bias_add=False, **kw)
    dist.all_reduce = counting_all_reduce  # megatron calls torch.distributed.all_reduce

    x = torch.randn(S, B, H, requires_grad=True)  # as if it came from the layer below
    # Megatron's fused QKV output holds [q | k | v] for each of this rank's heads, in turn.
    q, k, v = qkv(F.layer_norm(x, (H,)))[0].view(S, B, HEADS // world, -1).chunk(3, dim=-1)
    a = F.scaled_dot_product_attention(*(t.permute(1, 2, 0, 3) for t in (q, k, v)), is_causal=True)
    x = x + proj(a.permute(2, 0, 1, 3).reshape(S, B, -1))[0]  # all-reduce no. 1
    y = x + fc2(F.gelu(fc1(F.layer_norm(x, (H,)))[0]))[0]  # all-reduce no. 2
    n_forward = len(calls)
    y.sum().backward()
    per_call = S * B * H * 4  # one b*s*h activation in float32
    ring = 2 * (world - 1) / world * sum(calls)  # bytes each rank sends in a ring all-reduce
    print_in_rank_order(f"rank {rank}/{world}: all-reduces forward {n_forward}, "
                        f"backward {len(calls) - n_forward}, each {set(calls)} bytes")
    assert n_forward == 2 and len(calls) == 4 and set(calls) == {per_call}
    assert ring == 8 * S * B * H * (world - 1) / world * 4  # 8bsh(t-1)/t values per layer
    if rank == 0:
        print(f"b*s*h*4 = {per_call} bytes; ring traffic per rank per layer: {ring:.0f} bytes")
    parallel_state.destroy_model_parallel()
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:  # a free port, unless the caller (e.g. a test harness) set one
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    mp.start_processes(worker, args=(2,), nprocs=2, start_method="fork")
# --8<-- [end:code]
