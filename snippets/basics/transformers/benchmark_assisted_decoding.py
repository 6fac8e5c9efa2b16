"""Wall-clock speed-up of assisted and prompt-lookup decoding over plain greedy, on CPU."""
import argparse
import time

import torch
from transformers import LlamaConfig, LlamaForCausalLM

torch.set_num_threads(1)
parser = argparse.ArgumentParser()
parser.add_argument("--plot", metavar="PATH", help="also save a PNG of passes and speed-up")
args = parser.parse_args()


def tiny_llama(layers, hidden, seed):
    """A random Llama over a shared 512-token vocabulary."""
    torch.manual_seed(seed)
    return LlamaForCausalLM(LlamaConfig(
        vocab_size=512, hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=layers,
        num_attention_heads=8, num_key_value_heads=4, eos_token_id=None)).eval()


# Best case: the draft is the target's first layer, and the target's other 7 layers are
# switched off (zero output projections, so the residual stream passes through unchanged).
# The draft then agrees on every token at an eighth of the cost. Worst case: a random draft.
target, good = tiny_llama(8, 512, seed=0), tiny_llama(1, 512, seed=0)
good.load_state_dict(target.state_dict(), strict=False)  # embeddings, layer 0, norm, LM head
with torch.no_grad():
    for layer in target.model.layers[1:]:
        layer.self_attn.o_proj.weight.zero_()
        layer.mlp.down_proj.weight.zero_()
drafts = {"draft that always agrees": good, "random 1-layer draft": tiny_llama(1, 512, seed=1)}
for draft in drafts.values():  # read from the draft's generation_config: 8 proposals per step
    draft.generation_config.update(num_assistant_tokens=8, num_assistant_tokens_schedule="constant",
                                   assistant_confidence_threshold=0.0)  # 0: never stop early
torch.manual_seed(2)
prompt = torch.randint(3, 512, (1, 32)).repeat(1, 4)  # 128 tokens, a 32-token block four times
kw = dict(attention_mask=torch.ones_like(prompt), max_new_tokens=32, do_sample=False)


calls = []  # one entry per forward pass of the target
target.model.embed_tokens.register_forward_hook(lambda *args: calls.append(1))


def best_s(**extra):
    """Fewest CPU seconds of 2 generate() calls (process time, so other jobs on a shared
    machine do not count), the target's forward passes per call, and the output."""
    calls.clear()
    times = []
    for _ in range(2):
        start = time.process_time()
        out = target.generate(prompt, **kw, **extra)
        times.append(time.process_time() - start)
    return min(times), len(calls) // 2, out


target.generate(prompt, **kw)  # warm-up: the first call pays one-off costs


base, base_calls, plain = best_s()
print(f"target: 8 layers, hidden 512; prompt {prompt.shape[1]} tokens, 32 new, greedy, 1 thread")
print(f"{'method':28} {'target passes':>13} {'CPU ms':>7} {'speed-up':>9} {'same tokens':>12}")
print(f"{'plain greedy':28} {base_calls:13} {base * 1e3:7.0f} {1.0:8.2f}x {'True':>12}")
runs = {name: dict(assistant_model=draft) for name, draft in drafts.items()}
runs["prompt lookup, 5 tokens"] = dict(prompt_lookup_num_tokens=5)
rows = [("plain greedy", base_calls, 1.0)]
for name, extra in runs.items():
    seconds, n_calls, out = best_s(**extra)
    same = str(torch.equal(out, plain))
    print(f"{name:28} {n_calls:13} {seconds * 1e3:7.0f} {base / seconds:8.2f}x {same:>12}")
    assert torch.equal(out, plain)
    rows.append((name, n_calls, base / seconds))

if args.plot:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [name.replace(", ", "\n").replace(" (", "\n(") for name, _, _ in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    left.barh(names, [n for _, n, _ in rows], color="tab:blue")
    left.set_xlabel("forward passes of the target for 32 tokens")
    right.barh(names, [r for _, _, r in rows], color="tab:orange")
    right.axvline(1.0, color="gray", linestyle="--")
    right.set_xlabel("speed-up over plain greedy (CPU time)")
    right.set_yticks([])
    for ax in (left, right):
        ax.invert_yaxis()
    fig.suptitle("Assisted and prompt-lookup decoding, 8-layer target, greedy, 1 CPU thread")
    fig.tight_layout()
    fig.savefig(args.plot, dpi=120)
