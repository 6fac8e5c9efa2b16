"""A forward pass with labels=input_ids returns the next-token cross-entropy.

The model shifts labels internally: logits at position t are scored against token t+1.
"""
import torch
import torch.nn.functional as F
from transformers import LlamaConfig, LlamaForCausalLM

torch.manual_seed(0)
cfg = LlamaConfig(vocab_size=512, hidden_size=64, intermediate_size=128,
                  num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2)
model = LlamaForCausalLM(cfg).eval()
ids = torch.randint(0, cfg.vocab_size, (2, 10))

with torch.no_grad():
    out = model(input_ids=ids, labels=ids)  # same tensor twice: no manual shifting
print(type(out).__name__, tuple(out.logits.shape), round(out.loss.item(), 4))
assert out.logits.shape == (2, 10, cfg.vocab_size)  # one distribution per position

# The same number by hand: drop the last prediction and the first target.
pred = out.logits[:, :-1, :]  # (2, 9, V): predictions for tokens 1..9
target = ids[:, 1:]  # (2, 9): the tokens that actually came next
manual = F.cross_entropy(pred.reshape(-1, cfg.vocab_size), target.reshape(-1))
print("manual:", round(manual.item(), 4))
assert torch.allclose(out.loss, manual, atol=1e-6)

# An untrained model is close to uniform over the vocabulary, so the loss starts near ln(V).
print("ln(V) =", round(torch.log(torch.tensor(512.0)).item(), 4))
assert abs(out.loss.item() - torch.log(torch.tensor(512.0)).item()) < 0.1
