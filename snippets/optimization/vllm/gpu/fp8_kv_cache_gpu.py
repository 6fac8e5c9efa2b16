# pytest: gpu, needs-transformers, needs-vllm
# --8<-- [start:code]
import os

os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")  # engine in this process, as on CPU
os.environ.setdefault("VLLM_NO_USAGE_STATS", "1")
os.environ.setdefault("VLLM_LOGGING_STREAM", "ext://sys.stderr")

import gc
import sys
import tempfile
from pathlib import Path

import torch
from vllm import LLM, SamplingParams
from vllm.distributed.parallel_state import cleanup_dist_env_and_memory

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tiny_llama.py lives one folder up
from tiny_llama import prompts, save_tiny_llama

KV_BYTES = 2**29  # the same 512 MiB of KV cache for every engine, so block counts compare
PARAMS = SamplingParams(temperature=0, max_tokens=32, ignore_eos=True)


def serve(folder, **options):
    """Greedy token ids for 64 prompts, and the KV cache's (blocks, tokens per block)."""
    llm = LLM(model=folder, dtype="bfloat16", seed=0, kv_cache_memory_bytes=KV_BYTES,
              enforce_eager=True, **options)
    cache = llm.llm_engine.vllm_config.cache_config
    blocks = (cache.num_gpu_blocks, cache.block_size)
    ids = [o.outputs[0].token_ids for o in llm.generate(prompts(64), PARAMS, use_tqdm=False)]
    llm.llm_engine.engine_core.shutdown()  # free the GPU before the next engine starts
    del llm
    gc.collect()
    cleanup_dist_env_and_memory()
    return ids, blocks


def agreement(ids, reference):
    """Share of prompts whose first new token matches, and of all new tokens that match.

    Greedy decoding diverges for good once one token differs, so the second figure is lower.
    """
    first = sum(a[0] == b[0] for a, b in zip(ids, reference)) / len(ids)
    same = sum(x == y for a, b in zip(ids, reference) for x, y in zip(a, b))
    return first, same / sum(len(b) for b in reference)


with tempfile.TemporaryDirectory() as folder:
    save_tiny_llama(folder, hidden_size=1024, num_heads=8, num_layers=8)
    runs = {"bf16 cache": serve(folder, kv_cache_dtype="auto"),
            "fp8 cache": serve(folder, kv_cache_dtype="fp8"),
            "fp8 weights + cache": serve(folder, kv_cache_dtype="fp8", quantization="fp8")}

print(f"{torch.cuda.get_device_name()}; {KV_BYTES / 2**20:.0f} MiB of KV cache per engine")
(reference, (blocks, size)) = runs["bf16 cache"]
for name, (ids, (n, b)) in runs.items():
    first, tokens = agreement(ids, reference)
    print(f"{name:>19}: {n:5d} blocks x {b} = {n * b:6d} tokens ({n * b / (blocks * size):.2f}x);"
          f" first token same {first:.2f}, all tokens same {tokens:.2f}")
# An FP8 cache stores one byte per element instead of two: twice the tokens in the same memory.
fp8_blocks, fp8_size = runs["fp8 cache"][1]
assert fp8_blocks * fp8_size >= 1.9 * blocks * size
# Rounding keys and values (and weights) to FP8 moves the logits a little: a random tiny model
# has near-tied logits, so some greedy choices flip. The thresholds are a first guess.
assert agreement(runs["fp8 cache"][0], reference)[0] >= 0.75
assert agreement(runs["fp8 weights + cache"][0], reference)[0] >= 0.5
# --8<-- [end:code]
