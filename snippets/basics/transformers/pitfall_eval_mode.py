"""A model built from a config starts in training mode: dropout makes outputs random."""
import tempfile

import torch
from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM

torch.manual_seed(0)
cfg = LlamaConfig(vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2,
                  attention_dropout=0.1)  # Llama's default is 0.0; many other models use 0.1
model = LlamaForCausalLM(cfg)
ids = torch.randint(3, 512, (1, 12))

# WRONG: nn.Module objects are created with training=True, so dropout is active.
assert model.training
with torch.no_grad():  # no_grad stops gradient tracking; it does NOT switch dropout off
    a, b = model(ids).logits, model(ids).logits
print(f"train mode, max |a - b|: {(a - b).abs().max().item():.2f}")
assert not torch.equal(a, b)

# RIGHT: eval() turns dropout off, and repeated calls agree exactly.
model.eval()
with torch.no_grad():
    a, b = model(ids).logits, model(ids).logits
assert torch.equal(a, b)

# from_pretrained() already returns an eval-mode model; Trainer calls train() itself.
with tempfile.TemporaryDirectory() as tmp:
    model.save_pretrained(tmp)
    assert not AutoModelForCausalLM.from_pretrained(tmp).training
