import os

# Set before `import vllm`: vLLM reads its environment variables when the engine starts.
# - In-process engine: by default the engine core runs in a child process started with "spawn",
#   which re-imports the main script (it needs an `if __name__ == "__main__":` guard) and pays
#   the whole import again. "0" keeps it in this process: simpler and faster for a script.
os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
# - KV cache size on the CPU backend, in GiB. Without it vLLM reserves a share of the machine's
#   RAM (gpu_memory_utilization, 0.92 by default) minus what the process already uses.
os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
# - No usage statistics sent home (a network call), and vLLM's log lines on stderr, not stdout.
os.environ.setdefault("VLLM_NO_USAGE_STATS", "1")
os.environ.setdefault("VLLM_LOGGING_STREAM", "ext://sys.stderr")

import tempfile

import torch
from transformers import AutoTokenizer
from vllm import LLM, SamplingParams

from tiny_llama import prompts, save_tiny_llama

with tempfile.TemporaryDirectory() as folder:
    hf_model = save_tiny_llama(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    # enforce_eager: skip torch.compile, which takes ~1 minute on a small CPU for no gain here.
    llm = LLM(model=folder, dtype="float32", enforce_eager=True)
    params = SamplingParams(temperature=0.0, max_tokens=24)  # temperature 0 = greedy
    outputs = llm.generate(prompts(4), params, use_tqdm=False)

    for out in outputs:
        ids = tokenizer(out.prompt, return_tensors="pt").input_ids
        assert ids[0].tolist() == out.prompt_token_ids  # same tokenizer, same <s> in front
        with torch.inference_mode():
            hf = hf_model.generate(ids, max_new_tokens=24, do_sample=False)[0, ids.shape[1]:]
        same = list(out.outputs[0].token_ids) == hf.tolist()
        print(f"{len(out.prompt_token_ids):2d} prompt tokens -> "
              f"{len(out.outputs[0].token_ids)} new, finish={out.outputs[0].finish_reason}, "
              f"same as HF generate: {same}")
        assert same
