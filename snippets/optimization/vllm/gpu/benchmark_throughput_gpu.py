# pytest: gpu, needs-transformers, needs-vllm
# --8<-- [start:code]
import os

os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
os.environ.setdefault("VLLM_NO_USAGE_STATS", "1")
os.environ.setdefault("VLLM_LOGGING_STREAM", "ext://sys.stderr")

import argparse
import statistics
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import torch
from transformers import AutoTokenizer
from vllm import LLM, SamplingParams

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tiny_llama import prompts, save_tiny_llama

parser = argparse.ArgumentParser(description="Generated tokens/s on CUDA: vLLM vs HF generate")
parser.add_argument("--plot", metavar="PATH")
parser.add_argument("--prompts", type=int, nargs="+", default=[1, 16, 64, 256])
parser.add_argument("--new-tokens", type=int, default=128)
parser.add_argument("--rounds", type=int, default=3)
args = parser.parse_args()
T = args.new_tokens


def vllm_run(llm, texts):
    params = SamplingParams(temperature=0, max_tokens=T, ignore_eos=True)
    start = time.perf_counter()
    outputs = llm.generate(texts, params, use_tqdm=False)
    seconds = time.perf_counter() - start
    assert sum(len(o.outputs[0].token_ids) for o in outputs) == len(texts) * T
    return len(texts) * T / seconds


def hf_run(model, tokenizer, texts):
    batch = tokenizer(texts, return_tensors="pt", padding=True).to("cuda")
    torch.cuda.synchronize()
    start = time.perf_counter()
    with torch.inference_mode():
        out = model.generate(**batch, max_new_tokens=T, min_new_tokens=T, do_sample=False)
    torch.cuda.synchronize()  # generate returns when the last kernel is queued, not done
    seconds = time.perf_counter() - start
    assert out.shape == (len(texts), batch.input_ids.shape[1] + T)
    return len(texts) * T / seconds


with tempfile.TemporaryDirectory() as folder:
    # 512 positions: the longest prompt (about 140 tokens) plus T new tokens must fit, or vLLM
    # stops a sequence at the model's length and it gets fewer than T tokens.
    model = save_tiny_llama(folder, hidden_size=1024, num_heads=8, num_layers=8,
                            max_position_embeddings=512)
    model = model.to("cuda", torch.bfloat16)
    tokenizer = AutoTokenizer.from_pretrained(folder, padding_side="left")
    longest = max(len(ids) for ids in tokenizer(prompts(max(args.prompts))).input_ids)
    assert longest + T <= model.config.max_position_embeddings, (longest, T)
    # Leave room on the GPU for the HF model and its cache, which run in the same process.
    # No prefix caching: each round sends the same prompts, and vLLM would skip the prefill that
    # HF generate recomputes every time. Both now do the same work.
    llm = LLM(model=folder, dtype="bfloat16", gpu_memory_utilization=0.5, seed=0,
              enable_prefix_caching=False)
    # warm-up, untimed (CUDA graphs, kernels)
    vllm_run(llm, prompts(8)), hf_run(model, tokenizer, prompts(8))
    results = {n: ([], []) for n in args.prompts}
    for _ in range(args.rounds):
        for n, (v, h) in results.items():
            v.append(vllm_run(llm, prompts(n)))
            h.append(hf_run(model, tokenizer, prompts(n)))

print(f"{torch.cuda.get_device_name()}; vllm {metadata.version('vllm')}, transformers "
      f"{metadata.version('transformers')}, torch {torch.__version__}; "
      f"Llama hidden 1024, 8 layers, bf16; greedy, {T} new tokens per prompt; "
      f"median of {args.rounds}")
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
           title=f"Llama (hidden 1024, 8 layers), bf16, on {torch.cuda.get_device_name()}\n"
                 f"greedy, {T} new tokens per prompt")
    ax.set_xticks([r[0] for r in rows], [str(r[0]) for r in rows])
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.plot, dpi=120)
# --8<-- [end:code]
