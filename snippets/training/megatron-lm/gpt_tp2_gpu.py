# pytest: gpu, distributed, needs-megatron-core
# --8<-- [start:code]
"""A megatron-core GPTModel with tensor parallelism 2 on 2 GPUs; vocab-parallel loss checked."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from megatron.core import parallel_state
from megatron.core.models.gpt import GPTModel
from megatron.core.models.gpt.gpt_layer_specs import get_gpt_layer_local_spec
from megatron.core.tensor_parallel import model_parallel_cuda_manual_seed
from megatron.core.transformer.transformer_config import TransformerConfig

VOCAB, SEQ = 128, 32


def print_in_rank_order(text):  # one rank at a time, so lines neither interleave nor reorder
    for r in range(dist.get_world_size()):
        if r == dist.get_rank():
            print(text, flush=True)
        dist.barrier()


def worker(rank, world):
    torch.cuda.set_device(rank)
    dist.init_process_group("nccl", rank=rank, world_size=world,
                            device_id=torch.device("cuda", rank))
    parallel_state.initialize_model_parallel(tensor_model_parallel_size=world)
    # Registers the RNG streams Megatron forks into: one per TP rank for sharded weights and
    # dropout inside TP regions. Without it, building or running the model raises.
    model_parallel_cuda_manual_seed(1234)
    config = TransformerConfig(num_layers=2, hidden_size=64, num_attention_heads=4,
                               tensor_model_parallel_size=world, hidden_dropout=0.0,
                               attention_dropout=0.0)
    model = GPTModel(config, transformer_layer_spec=get_gpt_layer_local_spec(),
                     vocab_size=VOCAB, max_sequence_length=SEQ).cuda()

    torch.manual_seed(0)  # the same batch on both TP ranks
    tokens = torch.randint(0, VOCAB, (2, SEQ)).cuda()
    positions = torch.arange(SEQ).expand(2, -1).cuda()
    with torch.no_grad():
        logits = model(tokens, positions, attention_mask=None)  # causal mask built inside
        loss = model(tokens, positions, attention_mask=None, labels=tokens)  # [b, s] per token
    parts = [torch.empty_like(logits) for _ in range(world)]
    dist.all_gather(parts, logits)  # this rank holds VOCAB / TP logits of every token
    full = torch.cat(parts, dim=-1)
    ref = F.cross_entropy(full.flatten(0, 1), tokens.flatten(), reduction="none").view_as(loss)
    ok = torch.allclose(loss, ref, atol=1e-4)
    print_in_rank_order(f"rank {rank}/{world}: logits {tuple(logits.shape)}, loss "
                        f"{tuple(loss.shape)}, vocab-parallel loss == CE of gathered logits: {ok}")
    assert logits.shape == (2, SEQ, VOCAB // world) and ok
    parallel_state.destroy_model_parallel()
    dist.destroy_process_group()


if __name__ == "__main__":
    assert torch.cuda.device_count() >= 2, "needs 2 GPUs"
    with socket.socket() as s:  # a free port, unless the caller (e.g. a test harness) set one
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    mp.spawn(worker, args=(2,), nprocs=2)  # spawn, not fork: each child initialises CUDA itself
# --8<-- [end:code]
