# pytest: gpu, needs-transformers, needs-vllm
# --8<-- [start:code]
import os

os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")  # engine in this process, as on CPU
os.environ.setdefault("VLLM_NO_USAGE_STATS", "1")
os.environ.setdefault("VLLM_LOGGING_STREAM", "ext://sys.stderr")

import sys
import tempfile
from pathlib import Path

import torch
from vllm import LLM, SamplingParams

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tiny_llama.py lives one folder up
from tiny_llama import prompts, save_tiny_llama

with tempfile.TemporaryDirectory() as folder:
    # ~85M parameters, head_dim 128: a shape the GPU attention kernels are built for.
    save_tiny_llama(folder, hidden_size=1024, num_heads=8, num_layers=8)
    # gpu_memory_utilization: the share of the GPU's memory this engine may take for weights,
    # activations and the KV cache (default 0.92).
    # Whatever is left after the weights becomes KV blocks.
    llm = LLM(model=folder, dtype="bfloat16", gpu_memory_utilization=0.3, seed=0)
    cache = llm.llm_engine.vllm_config.cache_config
    free, total = (bytes_ / 2**30 for bytes_ in torch.cuda.mem_get_info())
    print(f"{torch.cuda.get_device_name()}: {total - free:.1f} of {total:.0f} GiB in use")
    print(f"KV cache: {cache.num_gpu_blocks} blocks x {cache.block_size} tokens")

    outputs = llm.generate(prompts(64),
                           SamplingParams(temperature=0, max_tokens=64, ignore_eos=True))
    assert all(len(o.outputs[0].token_ids) == 64 for o in outputs)
    print(f"{len(outputs)} prompts x 64 new tokens, bfloat16 on {torch.cuda.get_device_name()}")
    # room for every prompt at full length
    assert cache.num_gpu_blocks * cache.block_size >= 64 * 256
# --8<-- [end:code]
