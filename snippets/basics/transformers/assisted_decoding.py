"""Assisted decoding (a draft model) and prompt-lookup decoding leave greedy output unchanged."""
import torch
from transformers import LlamaConfig, LlamaForCausalLM


def tiny_llama(layers, hidden, seed):
    """A random Llama over the same 512-token vocabulary; target and draft must share it."""
    torch.manual_seed(seed)
    return LlamaForCausalLM(LlamaConfig(
        vocab_size=512, hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=layers,
        num_attention_heads=4, num_key_value_heads=2, eos_token_id=None)).eval()


target, draft = tiny_llama(4, 128, seed=0), tiny_llama(1, 32, seed=1)
torch.manual_seed(2)
prompt = torch.randint(3, 512, (1, 12)).repeat(1, 2)  # a prompt that repeats itself, like code
mask = torch.ones_like(prompt)
kw = dict(attention_mask=mask, max_new_tokens=40, do_sample=False)

plain = target.generate(prompt, **kw)
# The draft proposes a few tokens; the target scores them all in one forward pass and keeps the
# longest prefix that equals its own greedy choice, plus one token of its own.
assisted = target.generate(prompt, assistant_model=draft, **kw)
# Prompt lookup: the "draft" is the continuation of the last n-gram's earlier occurrence in
# the sequence so far. No second model; it pays off when the output copies the input.
lookup = target.generate(prompt, prompt_lookup_num_tokens=5, **kw)
print("assisted == plain greedy:", torch.equal(assisted, plain))
print("prompt lookup == plain greedy:", torch.equal(lookup, plain))
assert torch.equal(assisted, plain) and torch.equal(lookup, plain)
