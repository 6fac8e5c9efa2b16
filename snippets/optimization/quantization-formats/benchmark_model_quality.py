"""Model-level quality over bits: KL divergence and perplexity of a quantized tiny Llama against
its full-precision self, for RTN, AWQ, GPTQ (2 to 8 bits, groups of 32) and NF4 (bitsandbytes)."""
import argparse
import copy
import math
import tempfile
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from bitsandbytes.functional import dequantize_4bit, quantize_4bit

# The GPTQ page's modules, linked into this folder, and the AWQ page's awq_quantize.
from _gptq_one_layer import gptq_quantize, rtn_quantize
from _tiny_llama import HELDOUT_DOCS, TRAIN_DOCS, make_model, make_tokenizer
from awq_one_layer import awq_quantize

BITS, GROUP, STEPS, LR = [2, 3, 4, 5, 6, 8], 32, 200, 3e-3
CACHE = Path(tempfile.gettempdir()) / f"llm-study-quant-formats-tiny-llama-{STEPS}-{LR}.safetensors"


def trained_model(tokenizer):
    """The GPTQ page's tiny Llama, trained STEPS steps on Python's manual (cached in the temp
    folder, so only the first run trains)."""
    model = make_model()
    if CACHE.exists():
        model.load_state_dict(load_file(CACHE))
        return model.eval()
    ids = torch.tensor(tokenizer("\n".join(TRAIN_DOCS)).input_ids)
    gen = torch.Generator().manual_seed(0)
    # eps=1e-4 as on the GPTQ page; lr=3e-3 (not 1e-2) keeps 200 steps from amplifying the last
    # float bits of the CPU's kernels: the trained model is then the same on any CPU.
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR, eps=1e-4)
    for _ in range(STEPS):
        starts = torch.randint(0, len(ids) - 65, (16,), generator=gen).tolist()
        batch = torch.stack([ids[s:s + 64] for s in starts])
        model(input_ids=batch, labels=batch).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    save_file(model.state_dict(), CACHE)
    return model.eval()


def layer_inputs(model, batch):
    """{name: (tokens, in_features) inputs} of each nn.Linear in the blocks, from the fp32 model."""
    seen, hooks = {}, []

    def keep(module, args, output, name):
        seen[name] = args[0].reshape(-1, module.in_features)

    for name, module in model.model.layers.named_modules():
        if isinstance(module, torch.nn.Linear):
            hooks.append(module.register_forward_hook(
                lambda m, args, out, name=name: keep(m, args, out, name)))
    with torch.no_grad():
        model(input_ids=batch)
    for hook in hooks:
        hook.remove()
    return seen


def nf4(W, bits, group):
    """bitsandbytes' NF4 with blocks of `group` values (4 bits only)."""
    packed, state = quantize_4bit(W, blocksize=group, quant_type="nf4")
    return dequantize_4bit(packed, state)


METHODS = {"RTN": lambda W, X, b: rtn_quantize(W, b, GROUP),
           "AWQ": lambda W, X, b: awq_quantize(W, X, b, GROUP)[0],
           "GPTQ": lambda W, X, b: gptq_quantize(W, 2 * X.T @ X, b, GROUP),
           "NF4": lambda W, X, b: nf4(W, b, GROUP)}


def quantized_copy(model, inputs, method, bits):
    """A copy of model whose block linears hold method's dequantized weights (embeddings, norms
    and the output head stay fp32). AWQ's 1/s is folded into the weights, as it would be into the
    norm or linear before each layer."""
    out = copy.deepcopy(model)
    for name, module in out.model.layers.named_modules():
        if isinstance(module, torch.nn.Linear):
            module.weight.data = METHODS[method](module.weight.data, inputs[name], bits)
    return out


def measure(tokenizer, model):
    ids = torch.tensor(tokenizer("\n".join(TRAIN_DOCS)).input_ids)
    calib = ids[: 16 * 128].view(16, 128)  # 16 x 128 training tokens for calibration
    heldout = torch.tensor(tokenizer("\n".join(HELDOUT_DOCS)).input_ids)[: 16 * 128].view(16, 128)
    inputs = layer_inputs(model, calib)
    with torch.no_grad():
        ref = model(input_ids=heldout).logits.log_softmax(-1)
        ppl_ref = math.exp(model(input_ids=heldout, labels=heldout).loss.item())
        results = {}
        for bits in BITS:
            for method in METHODS:
                if method == "NF4" and bits != 4:
                    continue
                q = quantized_copy(model, inputs, method, bits)
                logp = q(input_ids=heldout).logits.log_softmax(-1)
                kl = (ref.exp() * (ref - logp)).sum(-1).mean().item()  # KL(fp32 || quantized)
                ppl = math.exp(q(input_ids=heldout, labels=heldout).loss.item())
                results[(method, bits)] = (kl, ppl)
    return ppl_ref, results


def report(ppl_ref, results):
    print(f"tiny Llama trained {STEPS} steps; held-out perplexity fp32 {ppl_ref:.2f}")
    print("KL(fp32 || quantized) per token, and perplexity, on 16 x 128 held-out tokens")
    print("bits  " + "  ".join(f"{m:>17s}" for m in METHODS))
    for bits in BITS:
        cells = [f"{results[(m, bits)][0]:8.5f} {results[(m, bits)][1]:8.2f}"
                 if (m, bits) in results else f"{'':17s}" for m in METHODS]
        print(f"{bits:4d}  " + "  ".join(cells))


def plot(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for i, method in enumerate(["RTN", "AWQ", "GPTQ"]):
        ax.plot(BITS, [results[(method, b)][0] for b in BITS], marker="o", color=f"C{i}",
                label=f"{method}, groups of {GROUP}")
    ax.plot([4], [results[("NF4", 4)][0]], marker="*", markersize=12, linestyle="none",
            color="C3", label=f"NF4 (bitsandbytes), blocks of {GROUP}")
    ax.set(xlabel="bits per weight", ylabel="KL(fp32 || quantized) per token (log scale)",
           yscale="log", xticks=BITS, title="Tiny Llama trained on CPU: quality over bits")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--plot", metavar="PATH", help="also save a PNG of KL against bits")
    args = parser.parse_args()
    torch.manual_seed(0)
    tokenizer = make_tokenizer()
    ppl_ref, results = measure(tokenizer, trained_model(tokenizer))
    report(ppl_ref, results)
    kl = {key: value[0] for key, value in results.items()}
    # Comparisons that hold on any CPU (the digits above move a little between CPUs' kernels):
    print("GPTQ lowest of RTN, AWQ, GPTQ at every width:",
          all(kl[("GPTQ", b)] < min(kl[("RTN", b)], kl[("AWQ", b)]) for b in BITS))
    print("NF4 between 4-bit GPTQ and 4-bit RTN:",
          kl[("GPTQ", 4)] < kl[("NF4", 4)] < kl[("RTN", 4)])
    print("each extra bit lowers every method's KL:", all(
        kl[(m, a)] > kl[(m, b)] for m in ("RTN", "AWQ", "GPTQ") for a, b in zip(BITS, BITS[1:])))
    if args.plot:
        plot(results, args.plot)
