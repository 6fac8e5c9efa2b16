import os

os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")  # why: see offline_greedy_vs_hf.py
os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
os.environ.setdefault("VLLM_NO_USAGE_STATS", "1")
os.environ.setdefault("VLLM_LOGGING_STREAM", "ext://sys.stderr")

import tempfile

from vllm import LLM, SamplingParams

from tiny_llama import prompts, save_tiny_llama

with tempfile.TemporaryDirectory() as folder:
    save_tiny_llama(folder)
    llm = LLM(model=folder, dtype="float32", enforce_eager=True)
    text = prompts(1)[0]

    # Wrong: no max_tokens. SamplingParams caps every completion at 16 tokens by default.
    wrong = llm.generate([text], SamplingParams(temperature=0), use_tqdm=False)[0].outputs[0]
    print(f"default:         {len(wrong.token_ids)} tokens, finish_reason={wrong.finish_reason}")
    assert SamplingParams().max_tokens == 16
    assert len(wrong.token_ids) == 16 and wrong.finish_reason == "length"  # cut off, not finished

    # Right: say how many tokens you want (None means: up to the model's max_model_len).
    params = SamplingParams(temperature=0, max_tokens=100)
    right = llm.generate([text], params, use_tqdm=False)[0].outputs[0]
    print(f"max_tokens=100: {len(right.token_ids)} tokens, finish_reason={right.finish_reason}")
    assert len(right.token_ids) > 16
    assert right.token_ids[:16] == wrong.token_ids  # greedy: the short answer was only a prefix
