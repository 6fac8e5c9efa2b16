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
    # At most 3 sequences run together, so the schedule below is easy to read.
    llm = LLM(model=folder, dtype="float32", enforce_eager=True, max_num_seqs=3)
    cache = llm.llm_engine.vllm_config.cache_config
    print(f"KV cache: {cache.num_gpu_blocks} blocks x {cache.block_size} tokens")

    lengths = [2, 6, 3, 5, 2, 4]  # how many tokens each request wants
    texts = prompts(len(lengths))
    engine = llm.llm_engine  # the loop that LLM.generate runs for you
    for i, (text, n) in enumerate(zip(texts, lengths)):
        engine.add_request(f"r{i}", text,
                           SamplingParams(temperature=0, max_tokens=n, ignore_eos=True))
    step, finished = 0, {}
    while engine.has_unfinished_requests():
        step += 1
        outs = engine.step()  # one forward pass over every running sequence
        print(f"step {step}: running {' '.join(o.request_id for o in outs)}")
        finished.update({o.request_id: o.outputs[0].token_ids for o in outs if o.finished})

    static = sum(max(lengths[i:i + 3]) for i in range(0, len(lengths), 3))
    print(f"{step} steps; fixed batches of 3 that wait for their longest member: {static} steps")

    # LLM.generate does the same with a list of prompts (one SamplingParams per prompt here).
    params = [SamplingParams(temperature=0, max_tokens=n, ignore_eos=True) for n in lengths]
    outputs = llm.generate(texts, params, use_tqdm=False)
    by_step = [list(finished[f"r{i}"]) for i in range(len(lengths))]
    assert [list(o.outputs[0].token_ids) for o in outputs] == by_step
    print("generate(list of prompts) returns the same tokens, in prompt order")
