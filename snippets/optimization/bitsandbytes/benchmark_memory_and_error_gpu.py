# pytest: gpu, needs-transformers, needs-bitsandbytes
# --8<-- [start:code]
"""GPU: weight memory, peak forward memory and forward time of fp16 / LLM.int8() / NF4
Llama models."""
import argparse
import statistics
import tempfile

import bitsandbytes as bnb
import torch
import transformers
from transformers import AutoModelForCausalLM, BitsAndBytesConfig, LlamaConfig, LlamaForCausalLM

parser = argparse.ArgumentParser()
parser.add_argument("--plot", metavar="PATH", help="also save a PNG of weight memory against size")
args = parser.parse_args()
transformers.logging.disable_progress_bar()

# The CPU benchmark's sizes, then one with a Llama-2-sized vocabulary and a 2048-wide model.
SIZES = [(256, 64, 128, 2), (2048, 256, 688, 4), (2048, 512, 1376, 4), (2048, 768, 2048, 4),
         (32000, 2048, 5504, 8)]
QUANT = {"fp16": None,
         "int8": BitsAndBytesConfig(load_in_8bit=True),
         "nf4": BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                   bnb_4bit_use_double_quant=True,
                                   bnb_4bit_compute_dtype=torch.float16)}


def timed_forward(model, x):
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    model(x)
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end)  # milliseconds


rows = []
for vocab, hidden, intermediate, layers in SIZES:
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=vocab, hidden_size=hidden, intermediate_size=intermediate,
                         num_hidden_layers=layers, num_attention_heads=8, num_key_value_heads=4)
    row, models = {"params": None}, {}
    # --8<-- [start:key]
    with tempfile.TemporaryDirectory() as tmp:
        LlamaForCausalLM(config).to(torch.float16).save_pretrained(tmp)
        for name, quant in QUANT.items():
            before = torch.cuda.memory_allocated()
            models[name] = AutoModelForCausalLM.from_pretrained(
                tmp, quantization_config=quant, dtype=torch.float16, device_map={"": 0})
            # weights plus quantization constants
            row[name] = torch.cuda.memory_allocated() - before
    row["params"] = models["fp16"].num_parameters()
    x = torch.randint(0, vocab, (4, 512), device="cuda")
    times = {name: [] for name in models}
    with torch.inference_mode():
        for name, model in models.items():
            model(x)  # warm-up
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            start = torch.cuda.memory_allocated()
            model(x)
            torch.cuda.synchronize()
            # activations, dequantized tiles
            row[name + " peak"] = torch.cuda.max_memory_allocated() - start
            logits = model(x).logits.float()
            if name == "fp16":
                reference = logits
            row[name + " error"] = ((logits - reference).norm() / reference.norm()).item()
    # --8<-- [end:key]
        one_token = {name: [] for name in models}  # 1 row, like decoding: the fused 4-bit kernel
        for _ in range(10):  # interleaved, median
            for name, model in models.items():
                times[name].append(timed_forward(model, x))
                one_token[name].append(timed_forward(model, x[:1, :1]))
    for name in models:
        row[name + " ms"] = statistics.median(times[name])
        row[name + " 1tok ms"] = statistics.median(one_token[name])
    rows.append(row)
    del models, model, reference, logits
    torch.cuda.empty_cache()

print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}, bitsandbytes {bnb.__version__}")
print("memory = torch.cuda.memory_allocated() after loading; "
      "t = forward time / fp16 time, median of 10")
print(f"{'params':>13}{'fp16 MB':>9}{'fp16/int8':>10}{'fp16/nf4':>9}{'int8 err':>9}{'nf4 err':>8}"
      f"{'2048 tok: fp16 ms':>18}{'int8 t':>7}{'nf4 t':>7}{'1 tok: int8 t':>14}{'nf4 t':>7}")
for r in rows:
    print(f"{r['params']:>13,}{r['fp16'] / 1e6:>9.1f}"
          f"{r['fp16'] / r['int8']:>9.2f}x{r['fp16'] / r['nf4']:>8.2f}x"
          f"{r['int8 error']:>9.2%}{r['nf4 error']:>8.2%}{r['fp16 ms']:>18.2f}"
          f"{r['int8 ms'] / r['fp16 ms']:>6.2f}x{r['nf4 ms'] / r['fp16 ms']:>6.2f}x"
          f"{r['int8 1tok ms'] / r['fp16 1tok ms']:>13.2f}x"
          f"{r['nf4 1tok ms'] / r['fp16 1tok ms']:>6.2f}x")
big = rows[-1]
# weights + the forward's peak extra
peak = {name: big[name] + big[name + " peak"] for name in QUANT}
print(f"largest, peak of weights + a 2048-token forward (max_memory_allocated): "
      f"fp16 {peak['fp16'] / 1e6:.0f} MB, fp16/int8 {peak['fp16'] / peak['int8']:.2f}x, "
      f"fp16/nf4 {peak['fp16'] / peak['nf4']:.2f}x")
assert big["fp16"] / big["nf4"] > big["fp16"] / big["int8"] > 1.4

if args.plot:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    params = [r["params"] / 1e6 for r in rows]
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for name, marker in (("fp16", "o"), ("int8", "s"), ("nf4", "^")):
        ax.plot(params, [r[name] / 1e6 for r in rows], marker=marker, label=name)
    for divisor, style in ((2, ":"), (4, "--")):
        ax.plot(params, [r["fp16"] / 1e6 / divisor for r in rows], style, color="gray",
                label=f"fp16 / {divisor}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("parameters (millions)")
    ax.set_ylabel("GPU memory after loading (MB)")
    ax.set_title("bitsandbytes on GPU: weight memory against model size")
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(args.plot, dpi=120)

# --8<-- [end:code]
