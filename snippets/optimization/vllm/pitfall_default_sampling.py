import os

os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")  # why: see offline_greedy_vs_hf.py
os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
os.environ.setdefault("VLLM_NO_USAGE_STATS", "1")
os.environ.setdefault("VLLM_LOGGING_STREAM", "ext://sys.stderr")

import tempfile

import torch
from transformers import AutoTokenizer
from vllm import LLM, SamplingParams

from tiny_llama import prompts, save_tiny_llama


def tokens(llm, params):
    return list(llm.generate([text], params, use_tqdm=False)[0].outputs[0].token_ids)


with tempfile.TemporaryDirectory() as folder:
    hf_model = save_tiny_llama(folder)
    llm = LLM(model=folder, dtype="float32", enforce_eager=True)
    text = prompts(1)[0]
    ids = AutoTokenizer.from_pretrained(folder)(text, return_tensors="pt").input_ids
    with torch.inference_mode():
        greedy = hf_model.generate(ids, max_new_tokens=12,
                                   do_sample=False)[0, ids.shape[1]:].tolist()

    # Wrong: SamplingParams() samples (temperature 1.0), unlike generate(do_sample=False).
    print("default temperature:", SamplingParams().temperature)
    first = tokens(llm, SamplingParams(max_tokens=12))
    second = tokens(llm, SamplingParams(max_tokens=12))
    print("default == HF greedy:", first == greedy, "| two default calls agree:", first == second)
    assert first != greedy and first != second

    # Right: temperature=0 for greedy decoding; a per-request seed for repeatable sampling.
    zero = tokens(llm, SamplingParams(temperature=0, max_tokens=12))
    seeded = [tokens(llm, SamplingParams(max_tokens=12, seed=1234)) for _ in range(2)]
    print("temperature=0 == HF greedy:", zero == greedy)
    print("seed=1234, two calls agree:", seeded[0] == seeded[1])
    assert zero == greedy and seeded[0] == seeded[1]
