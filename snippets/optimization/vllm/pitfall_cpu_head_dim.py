import os

os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")  # why: see offline_greedy_vs_hf.py
os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
os.environ.setdefault("VLLM_NO_USAGE_STATS", "1")
os.environ.setdefault("VLLM_LOGGING_STREAM", "ext://sys.stderr")

import tempfile

from vllm import LLM, SamplingParams
from vllm.v1.attention.backends.cpu_attn import CPUAttentionBackend

from tiny_llama import prompts, save_tiny_llama

print("CPU attention head sizes:", CPUAttentionBackend.get_supported_head_sizes())
params = SamplingParams(temperature=0, max_tokens=4)

# Wrong: hidden 64 over 4 heads = head_dim 16. The engine starts; the first forward pass fails.
with tempfile.TemporaryDirectory() as folder:
    save_tiny_llama(folder, hidden_size=64, num_heads=4)
    llm = LLM(model=folder, dtype="float32", enforce_eager=True)
    try:
        llm.generate(prompts(1), params, use_tqdm=False)
    except RuntimeError as err:
        # The message goes on with "isa=...", the kernel variant of this CPU: not printed here.
        print("head_dim 16:", str(err).split(" isa=")[0])
    else:
        raise AssertionError("head_dim 16 should fail on the CPU backend")
    del llm

# Right: the same width with 2 heads = head_dim 32, a size the CPU kernel has.
with tempfile.TemporaryDirectory() as folder:
    save_tiny_llama(folder, hidden_size=64, num_heads=2)
    llm = LLM(model=folder, dtype="float32", enforce_eager=True)
    out = llm.generate(prompts(1), params, use_tqdm=False)[0].outputs[0]
    print("head_dim 32:", len(out.token_ids), "tokens")
    assert len(out.token_ids) == 4
