"""Decoding settings belong in model.generation_config, not in model.config."""
import torch
from transformers import LlamaConfig, LlamaForCausalLM

torch.manual_seed(0)
model = LlamaForCausalLM(LlamaConfig(
    vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
    num_attention_heads=4, num_key_value_heads=2, eos_token_id=None)).eval()
ids = torch.randint(3, 512, (1, 8))
mask = torch.ones_like(ids)

# WRONG: a generation key on the model config makes generate() refuse to run...
model.config.max_length = 12
try:
    model.generate(ids, attention_mask=mask)
except ValueError as err:
    print("ValueError:", str(err)[:75])
del model.config.max_length
# ...and one it does not check (max_new_tokens) is ignored: the default of 20 new tokens applies,
# with a UserWarning about max_length.
model.config.max_new_tokens = 4
n_new = model.generate(ids, attention_mask=mask).shape[1] - 8
print("model.config.max_new_tokens = 4 ->", n_new, "new tokens")
assert n_new == 20
del model.config.max_new_tokens

# RIGHT: set defaults on generation_config (saved as generation_config.json), or pass kwargs.
model.generation_config.max_new_tokens = 4
n_new = model.generate(ids, attention_mask=mask).shape[1] - 8
print("model.generation_config.max_new_tokens = 4 ->", n_new, "new tokens")
assert n_new == 4
