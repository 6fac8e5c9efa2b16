"""Do not shift labels yourself: the causal-LM loss already shifts them by one."""
import torch
import torch.nn.functional as F
from transformers import LlamaConfig, LlamaForCausalLM

torch.manual_seed(0)
cfg = LlamaConfig(vocab_size=512, hidden_size=64, intermediate_size=128,
                  num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2)
model = LlamaForCausalLM(cfg).eval()
ids = torch.randint(3, 512, (2, 12))

def ce_with_offset(logits, k):
    """Cross-entropy of predicting the token k positions ahead."""
    pred, target = logits[:, :-k], ids[:, k:]
    return F.cross_entropy(pred.reshape(-1, cfg.vocab_size), target.reshape(-1))

with torch.no_grad():
    logits = model(ids).logits
    right = model(ids, labels=ids).loss
    # WRONG: shift by hand (pad the end with -100, the "ignore" label), then the model shifts again.
    pre_shifted = torch.cat([ids[:, 1:], torch.full((2, 1), -100)], dim=1)
    wrong = model(ids, labels=pre_shifted).loss

print(f"right {right.item():.4f}  wrong {wrong.item():.4f}")
assert torch.allclose(right, ce_with_offset(logits, 1), atol=1e-6)  # next token: intended
assert torch.allclose(wrong, ce_with_offset(logits, 2), atol=1e-6)  # token after next: a silent bug
# No error is raised and the number looks plausible; only training quality reveals it.
assert not torch.allclose(right, wrong)
