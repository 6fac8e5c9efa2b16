"""Exported without past key values, generate() re-reads the whole sequence at every step."""
import tempfile

import torch
from optimum.onnxruntime import ORTModelForCausalLM
from transformers import LlamaConfig, LlamaForCausalLM

torch.manual_seed(0)
config = LlamaConfig(vocab_size=1024, hidden_size=128, intermediate_size=256, num_hidden_layers=2,
                     num_attention_heads=4, num_key_value_heads=2)
model = LlamaForCausalLM(config).eval()
prompt = torch.randint(3, 1024, (1, 16))
gen = dict(attention_mask=torch.ones_like(prompt), max_new_tokens=64, do_sample=False,
           pad_token_id=config.eos_token_id)


def count_positions(ort_model):
    """Wrap the InferenceSession's run() to add up how many token positions each call computes."""
    seen, run = [], ort_model.session.run
    ort_model.session.run = lambda names, feed: (seen.append(feed["input_ids"].shape[1])
                                                 or run(names, feed))
    return seen


with tempfile.TemporaryDirectory() as tmp:
    model.save_pretrained(tmp)
    # WRONG: use_cache=False exports a graph with input_ids in, logits out and no cache tensors.
    no_cache = ORTModelForCausalLM.from_pretrained(tmp, export=True, use_cache=False)
    # RIGHT (the default): the graph also takes past_key_values.* and returns present.*.
    cached = ORTModelForCausalLM.from_pretrained(tmp, export=True)

print("can use cache:", no_cache.can_use_cache, "vs", cached.can_use_cache)
results, work = {}, {}
for name, ort_model in [("no cache", no_cache), ("with cache", cached)]:
    positions = count_positions(ort_model)
    results[name] = ort_model.generate(prompt, **gen)
    work[name] = sum(positions)
    print(f"{name:>10}: {len(positions)} forwards, {sum(positions)} token positions")

assert torch.equal(results["no cache"], results["with cache"])  # same tokens, different cost
# 64 steps. Without cache, step k re-reads all 16 + k tokens: 16 + 17 + ... + 79, growing as n^2.
# With cache, the prompt is read once and each later step feeds only the newest token.
assert work["no cache"] == sum(range(16, 80)) and work["with cache"] == 16 + 63
