"""vLLM beyond the basics, in one engine (one start): prefix caching, chunked prefill and
structured outputs; then three pitfalls (pitfalls.md): sampling defaults from
generation_config.json, a shared prefix shorter than a KV block, whitespace in JSON output."""
import os

os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")  # why: see offline_greedy_vs_hf.py
os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
os.environ.setdefault("VLLM_NO_USAGE_STATS", "1")
os.environ.setdefault("VLLM_LOGGING_STREAM", "ext://sys.stderr")

import json
import tempfile
import time

import torch
from vllm import LLM, SamplingParams
from vllm.sampling_params import StructuredOutputsParams

from tiny_llama import TEXT, prompts, save_tiny_llama


def counters(llm):
    """{metric name: value} of the engine's counters (vllm:prefix_cache_hits, ...), in tokens."""
    return {m.name: m.value for m in llm.get_metrics() if hasattr(m, "value")}


def timed(llm, texts, params):
    start = time.perf_counter()
    outputs = llm.generate(texts, params, use_tqdm=False)
    return outputs, time.perf_counter() - start


with tempfile.TemporaryDirectory() as folder:
    save_tiny_llama(folder, max_position_embeddings=1024)
    # Many checkpoints ship sampling defaults in generation_config.json, as this one now does.
    path = os.path.join(folder, "generation_config.json")
    generation_config = json.load(open(path))
    generation_config.update(do_sample=True, temperature=0.6, top_p=0.9, max_new_tokens=5)
    json.dump(generation_config, open(path, "w"))
    # --8<-- [start:engine]
    print("torch threads before the engine:", torch.get_num_threads())
    llm = LLM(model=folder, dtype="float32", enforce_eager=True, seed=0,
              disable_log_stats=False,  # else get_metrics() has nothing to report
              enable_prefix_caching=True,
              max_num_batched_tokens=256)  # tokens per step: a longer prompt is chunked
    print("torch threads in the engine:", torch.get_num_threads())
    config = llm.llm_engine.vllm_config
    print("prefix caching:", config.cache_config.enable_prefix_caching,
          "| chunked prefill:", config.scheduler_config.enable_chunked_prefill,
          "| max_num_batched_tokens:", config.scheduler_config.max_num_batched_tokens,
          "| block size:", config.cache_config.block_size)
    # --8<-- [end:engine]

    # --8<-- [start:prefix]
    # Eight requests share a ~400-token "system prompt" and differ in their last words.
    system = " ".join(" ".join(TEXT).split()[:120])
    texts = [f"{system} Question {i}: {word}?" for i, word in enumerate(TEXT[70].split()[:8])]
    params = SamplingParams(temperature=0, max_tokens=4)
    cold, cold_s = timed(llm, texts[:1], params)  # computes the shared prefix once
    before = counters(llm)
    warm, warm_s = timed(llm, texts[1:], params)  # 7 requests that find it in the cache
    after = counters(llm)
    queries = after["vllm:prefix_cache_queries"] - before["vllm:prefix_cache_queries"]
    hits = after["vllm:prefix_cache_hits"] - before["vllm:prefix_cache_hits"]
    prompt_len = len(cold[0].prompt_token_ids)
    print(f"prompt tokens: {prompt_len}; cached per request: {warm[0].num_cached_tokens}")
    print(f"hit rate of the 7 warm requests: {hits / queries:.0%} of {queries} prompt tokens")
    llm.reset_prefix_cache()  # the same 7 requests again, with nothing cached
    _, again_s = timed(llm, texts[1:], params)
    # --8<-- [end:prefix]
    assert warm[0].num_cached_tokens == prompt_len // 128 * 128  # whole 128-token blocks only
    assert hits / queries > 0.75
    print(f"time of the 7 requests with the prefix cached: {warm_s / again_s:.2f} of the time "
          "without")  # a timing: the page's output block does not compare it

    # --8<-- [start:chunked]
    llm.reset_prefix_cache()
    engine = llm.llm_engine
    engine.add_request("long", texts[0], SamplingParams(temperature=0, max_tokens=2))
    steps = 0
    while not any(o.outputs[0].token_ids for o in engine.step()):
        steps += 1  # a step that processed a chunk of the prompt and produced no token
    print(f"{prompt_len}-token prompt, 256 tokens per step: first token at step {steps + 1}")
    while engine.has_unfinished_requests():
        engine.step()
    # --8<-- [end:chunked]
    assert steps + 1 == -(-prompt_len // 256)

    texts = prompts(4)
    # --8<-- [start:structured]
    question = texts[0][-200:]
    choice = StructuredOutputsParams(choice=["yes", "no"])  # exactly one of these strings
    as_json = StructuredOutputsParams(regex=r'\{"ok":(true|false)\}')  # JSON of one fixed shape
    free, yes_no, answer = (
        llm.generate([question], SamplingParams(temperature=0, max_tokens=20,
                                                structured_outputs=constraint),
                     use_tqdm=False)[0].outputs[0].text
        for constraint in (None, choice, as_json))
    # --8<-- [end:structured]
    try:
        json.loads(free)
    except json.JSONDecodeError:
        print("unconstrained output is not JSON:", repr(free[:20]))
    print("choice output:", repr(yes_no), "| JSON output:", json.loads(answer))
    print("grammar backend:", config.structured_outputs_config.backend, "->",
          "xgrammar" if "xgrammar" in type(llm.llm_engine.engine_core.engine_core
                                           .structured_output_manager.backend).__module__
          else "other")
    assert yes_no in ("yes", "no") and json.loads(answer) in ({"ok": True}, {"ok": False})

    # Pitfalls (pitfalls.md) -------------------------------------------------------------------
    # --8<-- [start:generation_config]
    # WRONG: no SamplingParams. vLLM's defaults come from the model's generation_config.json
    # (generation_config="auto"): temperature 0.6, top_p 0.9, and only 5 new tokens.
    defaults = llm.get_default_sampling_params()
    print(f"defaults: temperature={defaults.temperature}, top_p={defaults.top_p}, "
          f"max_tokens={defaults.max_tokens}")
    out = llm.generate([question], use_tqdm=False)[0].outputs[0]
    print(f"no SamplingParams: {len(out.token_ids)} tokens, finish_reason={out.finish_reason}")
    # RIGHT: pass the parameters you mean, every time (or start with generation_config="vllm").
    out = llm.generate([question], SamplingParams(temperature=0, max_tokens=20),
                       use_tqdm=False)[0].outputs[0]
    print(f"explicit SamplingParams: {len(out.token_ids)} tokens, greedy")
    # --8<-- [end:generation_config]
    assert defaults.temperature == 0.6 and defaults.max_tokens == 5 and len(out.token_ids) == 20

    # --8<-- [start:short_prefix]
    def shared_prefix_hit_rate(n_words):
        """Prompt length and hit rate of 4 requests that share a prefix of `n_words` words."""
        prefix = " ".join(" ".join(TEXT).split()[1000:1000 + n_words])
        texts = [f"{prefix} Question {i}?" for i in range(5)]
        params = SamplingParams(temperature=0, max_tokens=1)
        first = llm.generate(texts[:1], params, use_tqdm=False)[0]  # stores the prefix
        before = counters(llm)
        llm.generate(texts[1:], params, use_tqdm=False)
        after = counters(llm)
        hits, queries = (after[f"vllm:prefix_cache_{k}"] - before[f"vllm:prefix_cache_{k}"]
                         for k in ("hits", "queries"))
        return len(first.prompt_token_ids), hits / queries

    block = config.cache_config.block_size
    # WRONG: a shared prefix shorter than one KV block (128 tokens on CPU) is never cached.
    short_len, short_rate = shared_prefix_hit_rate(30)
    # RIGHT: only whole blocks are cached, so the shared part must span at least one block.
    long_len, long_rate = shared_prefix_hit_rate(150)
    print(f"block size {block}: prompt of {short_len} tokens, hit rate {short_rate:.0%}; "
          f"prompt of {long_len} tokens, hit rate {long_rate:.0%}")
    # --8<-- [end:short_prefix]
    assert short_len < block and short_rate == 0 and long_len > 2 * block and long_rate > 0.5

    # --8<-- [start:json_whitespace]
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
    # WRONG: the JSON grammar allows any whitespace; a weak model fills max_tokens with it. The
    # request-level disable_any_whitespace does not help: xgrammar reads the engine-wide one.
    wrong = StructuredOutputsParams(json=schema, disable_any_whitespace=True)
    # RIGHT (per request): a regex with no room for whitespace. Or, for the whole engine:
    # LLM(..., structured_outputs_config={"backend": "xgrammar", "disable_any_whitespace": True})
    right = StructuredOutputsParams(regex=r'\{"ok":(true|false)\}')
    outs = [llm.generate([question], SamplingParams(temperature=0, max_tokens=30,
                                                    structured_outputs=constraint),
                         use_tqdm=False)[0].outputs[0] for constraint in (wrong, right)]
    # --8<-- [end:json_whitespace]
    for name, out in zip(("wrong", "right"), outs):
        try:
            parsed = json.loads(out.text)
        except json.JSONDecodeError:
            parsed = "not JSON"
        print(f"{name}: finish_reason={out.finish_reason}, whitespace characters "
              f"{sum(c.isspace() for c in out.text)}, parsed: {parsed}")
    assert outs[0].finish_reason == "length" and outs[1].finish_reason == "stop"
