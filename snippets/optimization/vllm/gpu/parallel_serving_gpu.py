# pytest: gpu, distributed, needs-transformers, needs-vllm
# --8<-- [start:code]
"""The same tiny Llama served on 1 GPU, with tensor parallelism 2 and with pipeline parallelism
2: what each GPU holds (weights, KV-cache blocks) and whether the greedy tokens change."""
import os

os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")  # engine core in this process
os.environ.setdefault("VLLM_NO_USAGE_STATS", "1")
os.environ.setdefault("VLLM_LOGGING_STREAM", "ext://sys.stderr")

import gc
import sys
import tempfile
from pathlib import Path

import torch
from vllm import LLM, SamplingParams
from vllm.distributed import get_pp_group, get_tp_group
from vllm.distributed.parallel_state import cleanup_dist_env_and_memory

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tiny_llama.py lives one folder up
from tiny_llama import prompts, save_tiny_llama

KV_BYTES = 2**29  # 512 MiB of KV cache on every GPU, so the block counts compare


def what_this_gpu_holds(worker):
    """Run inside each worker by `collective_rpc`: its ranks, weight MiB and KV-cache blocks."""
    model = worker.model_runner.get_model()  # this GPU's shard of the model
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    return (worker.rank, get_tp_group().rank_in_group, get_pp_group().rank_in_group,
            weights / 2**20, worker.cache_config.num_gpu_blocks)


def serve(folder, tp, pp):
    """Greedy token ids for 64 prompts, and one `what_this_gpu_holds` tuple per GPU."""
    llm = LLM(model=folder, dtype="bfloat16", seed=0, kv_cache_memory_bytes=KV_BYTES,
              enforce_eager=True, tensor_parallel_size=tp, pipeline_parallel_size=pp)
    per_gpu = llm.collective_rpc(what_this_gpu_holds)
    params = SamplingParams(temperature=0, max_tokens=32, ignore_eos=True)
    ids = [o.outputs[0].token_ids for o in llm.generate(prompts(64), params, use_tqdm=False)]
    llm.llm_engine.engine_core.shutdown()  # stop the workers and free the GPUs
    del llm
    gc.collect()
    cleanup_dist_env_and_memory()
    return ids, per_gpu


def main():
    gpus = torch.cuda.device_count()
    assert gpus >= 2, f"this example needs at least 2 GPUs, found {gpus}"
    with tempfile.TemporaryDirectory() as folder:
        save_tiny_llama(folder, hidden_size=1024, num_heads=8, num_layers=8)
        runs = {(tp, pp): serve(folder, tp, pp) for tp, pp in [(2, 1), (1, 2), (1, 1)]}
    reference, ((_, _, _, mib, one_gpu_blocks),) = runs[1, 1]
    print(f"1 GPU: {mib:.0f} MiB of weights, {one_gpu_blocks} KV blocks")
    for (tp, pp), (ids, per_gpu) in runs.items():
        if (tp, pp) == (1, 1):
            continue
        same = sum(a == b for a, b in zip(ids, reference)) / len(ids)
        first = sum(a[0] == b[0] for a, b in zip(ids, reference)) / len(ids)
        for rank, tp_rank, pp_rank, mib, blocks in per_gpu:
            print(f"rank {rank}/{len(per_gpu)}: tp={tp} pp={pp} (tp rank {tp_rank}, pp stage "
                  f"{pp_rank}): {mib:.0f} MiB of weights, {blocks} KV blocks")
        print(f"tp={tp} pp={pp}: outputs equal to 1 GPU {same:.2f}, first tokens {first:.2f}")
        # Each GPU keeps half of the heads (TP) or half of the layers (PP) of every cached
        # token, so the same bytes per GPU hold about twice the blocks.
        assert all(blocks >= 1.9 * one_gpu_blocks for *_, blocks in per_gpu)
        # PP runs the same arithmetic in the same order. TP sums partial products across GPUs
        # (all-reduce), a different bf16 rounding, which can flip a near-tied greedy choice.
        assert first >= (0.95 if tp == 1 else 0.75)


if __name__ == "__main__":  # vLLM may start its workers with `spawn`, which imports this file
    main()
# --8<-- [end:code]
