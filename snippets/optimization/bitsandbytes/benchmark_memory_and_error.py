"""Memory of fp32 / LLM.int8() / NF4 Llama models of growing size on the CPU,
with weight error and speed."""
import argparse
import logging
import platform
import statistics
import tempfile
import time

import bitsandbytes as bnb
import torch
import transformers
from bitsandbytes.functional import dequantize_4bit
from transformers import AutoModelForCausalLM, BitsAndBytesConfig, LlamaConfig, LlamaForCausalLM

parser = argparse.ArgumentParser()
parser.add_argument("--plot", metavar="PATH", help="also save a PNG of footprint against size")
args = parser.parse_args()
logging.getLogger("bitsandbytes").setLevel(logging.ERROR)  # "cast to float16" notes of int8 layers
transformers.logging.disable_progress_bar()
torch.set_num_threads(1)

# (vocabulary, hidden, intermediate, layers): the blocks grow, the vocabulary does not. Every
# width is a multiple of 64, the NF4 block size, as in real Llamas: bitsandbytes 0.50.2's AVX-512
# CPU kernel restores rows that end inside a block wrongly, so other widths give
# CPU-dependent errors.
SIZES = [(256, 64, 128, 2), (2048, 256, 768, 4), (2048, 512, 1536, 4), (2048, 768, 2048, 4)]
QUANT = {"int8": BitsAndBytesConfig(load_in_8bit=True),
         "nf4": BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                   bnb_4bit_use_double_quant=True)}


def constants_and_error(model, reference):
    """Bytes of scales and code books (not counted by get_memory_footprint), and weight error."""
    extra, err2, ref2 = 0, 0.0, 0.0
    for name, module in model.named_modules():
        if isinstance(module, bnb.nn.Linear8bitLt):
            scales = module.weight.SCB if module.weight.SCB is not None else module.state.SCB
            restored = module.weight.float() * scales[:, None] / 127  # one absmax per row
            extra += scales.numel() * 4
        elif isinstance(module, bnb.nn.Linear4bit):
            state = module.weight.quant_state
            restored = dequantize_4bit(module.weight.data, state)
            extra += sum(t.numel() * t.element_size() for t in state.as_dict().values()
                         if torch.is_tensor(t))
        else:
            continue
        original = reference.get_submodule(name).weight
        err2 += (restored - original).pow(2).sum().item()
        ref2 += original.pow(2).sum().item()
    return extra, (err2 / ref2) ** 0.5


# --8<-- [start:key]
rows = []
for vocab, hidden, intermediate, layers in SIZES:
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=vocab, hidden_size=hidden, intermediate_size=intermediate,
                         num_hidden_layers=layers, num_attention_heads=8, num_key_value_heads=4)
    with tempfile.TemporaryDirectory() as tmp:
        LlamaForCausalLM(config).save_pretrained(tmp)
        models = {"fp32": AutoModelForCausalLM.from_pretrained(tmp, device_map="cpu")}
        for name, quant in QUANT.items():
            models[name] = AutoModelForCausalLM.from_pretrained(tmp, quantization_config=quant,
                                                                device_map="cpu")
    row = {"params": models["fp32"].num_parameters(), "vocab": vocab}
    row["linear share"] = sum(m.weight.numel() for m in models["fp32"].model.layers.modules()
                              if isinstance(m, torch.nn.Linear)) / row["params"]
    for name, model in models.items():
        row[name] = model.get_memory_footprint()
        if name != "fp32":
            row[name + " constants"], row[name + " error"] = constants_and_error(
                model, models["fp32"])
    rows.append(row)
# --8<-- [end:key]

# Forward time of the largest model: 64 tokens, variants interleaved, median of 7 after a warm-up.
x = torch.randint(0, SIZES[-1][0], (1, 64))
times = {name: [] for name in models}
with torch.inference_mode():
    for model in models.values():
        model(x)
    for _ in range(7):
        for name, model in models.items():
            start = time.perf_counter()
            model(x)
            times[name].append(time.perf_counter() - start)
ms = {name: 1e3 * statistics.median(t) for name, t in times.items()}

print(f"{platform.machine()}, 1 thread, torch {torch.__version__}, "
      f"transformers {transformers.__version__}, bitsandbytes {bnb.__version__}")
print(f"{'params':>11}{'in blocks':>10}{'fp32 MB':>9}{'int8 MB':>9}{'nf4 MB':>8}"
      f"{'fp32/int8':>10}{'fp32/nf4':>9}{'int8 err':>9}{'nf4 err':>8}")
for r in rows:
    print(f"{r['params']:>11,}{r['linear share']:>9.0%} "
          f"{r['fp32'] / 1e6:>9.2f}{r['int8'] / 1e6:>9.2f}{r['nf4'] / 1e6:>8.2f}"
          f"{r['fp32'] / r['int8']:>9.2f}x{r['fp32'] / r['nf4']:>8.2f}x"
          f"{r['int8 error']:>9.2%}{r['nf4 error']:>8.2%}")
big = rows[-1]
print(f"largest, with the scales get_memory_footprint leaves out: fp32/int8 "
      f"{big['fp32'] / (big['int8'] + big['int8 constants']):.2f}x, "
      f"fp32/nf4 {big['fp32'] / (big['nf4'] + big['nf4 constants']):.2f}x "
      f"(ideal for the blocks: 4x, 8x)")
print(f"largest, forward of 64 tokens: fp32 {ms['fp32']:.1f} ms, "
      f"int8 {ms['int8'] / ms['fp32']:.2f}x, nf4 {ms['nf4'] / ms['fp32']:.2f}x the fp32 time")
assert all(r["fp32"] / r["nf4"] > r["fp32"] / r["int8"] > 1.9 for r in rows)
# bigger blocks, closer to 8x
assert rows[-1]["fp32"] / rows[-1]["nf4"] > rows[0]["fp32"] / rows[0]["nf4"]

if args.plot:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    params = [r["params"] / 1e6 for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    for name, marker in (("fp32", "o"), ("int8", "s"), ("nf4", "^")):
        left.plot(params, [r[name] / 1e6 for r in rows], marker=marker, label=name)
    for divisor, style in ((4, ":"), (8, "--")):
        left.plot(params, [r["fp32"] / 1e6 / divisor for r in rows], style, color="gray",
                  label=f"fp32 / {divisor}")
    left.set_yscale("log")
    left.set_ylabel("get_memory_footprint (MB)")
    left.set_title("Model memory")
    for name, marker, ideal in (("int8", "s", 4), ("nf4", "^", 8)):
        line, = right.plot(params, [r["fp32"] / r[name] for r in rows], marker=marker,
                           label=f"fp32 / {name}")
        right.axhline(ideal, linestyle="--", color=line.get_color(), alpha=0.6,
                      label=f"ideal {ideal}x")
    right.set_ylim(0, 9)
    right.set_ylabel("fp32 bytes / quantized bytes")
    right.set_title("Ratio: embeddings and lm_head stay fp32")
    for ax in (left, right):
        ax.set_xscale("log")
        ax.set_xlabel("parameters (millions)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.suptitle("bitsandbytes on a CPU: tiny to small Llama models")
    fig.tight_layout()
    fig.savefig(args.plot, dpi=120)
