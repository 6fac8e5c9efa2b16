# pytest: distributed
# --8<-- [start:code]
"""megatron-core's ColumnParallelLinear + RowParallelLinear equal two full nn.Linear layers."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from megatron.core import ModelParallelConfig, parallel_state
from megatron.core.tensor_parallel import ColumnParallelLinear, RowParallelLinear


def print_in_rank_order(text):  # one rank at a time, so lines neither interleave nor reorder
    for r in range(dist.get_world_size()):
        if r == dist.get_rank():
            print(text, flush=True)
        dist.barrier()


def worker(rank, world):
    dist.init_process_group("gloo", rank=rank, world_size=world)
    parallel_state.initialize_model_parallel(tensor_model_parallel_size=world)
    tp_group = parallel_state.get_tensor_model_parallel_group()
    tp_rank = parallel_state.get_tensor_model_parallel_rank()
    # use_cpu_initialization: allocate on CPU (the default allocates on the current CUDA device).
    # init_method fills the weights; here they are overwritten below with slices of full layers.
    config = ModelParallelConfig(tensor_model_parallel_size=world, use_cpu_initialization=True)
    fc1 = ColumnParallelLinear(64, 256, config=config, init_method=torch.nn.init.normal_,
                               bias=True, gather_output=False, tp_group=tp_group)
    fc2 = RowParallelLinear(256, 64, config=config, init_method=torch.nn.init.normal_, bias=True,
                            input_is_parallel=True, skip_bias_add=False, tp_group=tp_group)

    torch.manual_seed(0)  # the full reference layers, identical on every rank
    full1, full2 = torch.nn.Linear(64, 256), torch.nn.Linear(256, 64)
    with torch.no_grad():  # copy this rank's shards of the full weights in
        fc1.weight.copy_(full1.weight.chunk(world, dim=0)[tp_rank])  # [256/tp, 64]
        fc1.bias.copy_(full1.bias.chunk(world, dim=0)[tp_rank])
        fc2.weight.copy_(full2.weight.chunk(world, dim=1)[tp_rank])  # [64, 256/tp]
        fc2.bias.copy_(full2.bias)  # fc2's bias is whole on every rank, added after the all-reduce

    x = torch.randn(8, 2, 64, requires_grad=True)  # Megatron's layout: [sequence, batch, hidden]
    xr = x.detach().clone().requires_grad_()
    hidden, _ = fc1(xr)  # each layer returns (output, bias); bias is None unless skip_bias_add
    y, _ = fc2(F.gelu(hidden))
    y.sum().backward()
    ref = full2(F.gelu(full1(x)))
    ref.sum().backward()

    ok = (torch.allclose(y, ref, atol=1e-5) and torch.allclose(xr.grad, x.grad, atol=1e-5)
          and torch.allclose(fc1.weight.grad, full1.weight.grad.chunk(world, 0)[tp_rank],
                             atol=1e-5)
          and torch.allclose(fc2.weight.grad, full2.weight.grad.chunk(world, 1)[tp_rank],
                             atol=1e-5))
    print_in_rank_order(f"rank {rank}/{world}: tp_rank={tp_rank} fc1.weight "
                        f"{tuple(fc1.weight.shape)} fc2.weight {tuple(fc2.weight.shape)} "
                        f"output and grads == full layers: {ok}")
    assert ok
    parallel_state.destroy_model_parallel()
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:  # a free port, unless the caller (e.g. a test harness) set one
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    # fork: the workers inherit the (slow) megatron.core import instead of repeating it
    mp.start_processes(worker, args=(2,), nprocs=2, start_method="fork")
# --8<-- [end:code]
