"""max_length counts the prompt; max_new_tokens counts only what generate() adds."""
import warnings

import torch
from transformers import LlamaConfig, LlamaForCausalLM

torch.manual_seed(0)
cfg = LlamaConfig(vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2,
                  eos_token_id=None)  # no EOS, so every run goes to its length limit
model = LlamaForCausalLM(cfg).eval()
short = torch.randint(3, 512, (1, 16))
long = torch.randint(3, 512, (1, 24))

# WRONG: "max_length=20" read as "20 new tokens". It is the total, prompt included.
out = model.generate(short, max_length=20, do_sample=False)
print("max_length=20, 16-token prompt ->", out.shape[1] - 16, "new tokens")
assert out.shape[1] - 16 == 4
try:  # a prompt as long as max_length is an error, not an empty generation
    model.generate(long, max_length=20, do_sample=False)
    raise AssertionError("expected a ValueError")
except ValueError as err:
    print("ValueError:", str(err).split(".")[0])

# RIGHT: max_new_tokens does not depend on the prompt length.
for prompt in (short, long):
    out = model.generate(prompt, max_new_tokens=20, do_sample=False)
    assert out.shape[1] - prompt.shape[1] == 20

# No length at all: transformers 5 adds 20 new tokens, but warns that you relied on a default.
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    out = model.generate(long, do_sample=False)
assert out.shape[1] - 24 == 20
assert any("max_new_tokens" in str(w.message) for w in caught)
