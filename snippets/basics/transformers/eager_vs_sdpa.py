"""attn_implementation picks the attention kernel; "eager" and "sdpa" compute the same function."""
import tempfile

import torch
from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM

torch.manual_seed(0)
cfg = LlamaConfig(vocab_size=512, hidden_size=64, intermediate_size=128,
                  num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2)
ids = torch.randint(3, cfg.vocab_size, (2, 16))
mask = torch.ones_like(ids)
mask[1, :5] = 0  # row 1 is left-padded, so the padding mask is exercised too

with tempfile.TemporaryDirectory() as tmp:
    LlamaForCausalLM(cfg).save_pretrained(tmp)
    # Same weights, two kernels: the Python matmul-softmax-matmul reference, and
    # torch.nn.functional.scaled_dot_product_attention (fused; can use FlashAttention on GPU).
    eager = AutoModelForCausalLM.from_pretrained(tmp, attn_implementation="eager")
    sdpa = AutoModelForCausalLM.from_pretrained(tmp, attn_implementation="sdpa")
print(eager.config._attn_implementation, sdpa.config._attn_implementation)

with torch.no_grad():
    a = eager(ids, attention_mask=mask).logits
    b = sdpa(ids, attention_mask=mask).logits
real = mask.bool()  # compare only real tokens: outputs at pad positions are never used
# The difference is float32 rounding (around 2e-7), whose digits depend on the CPU: compare it.
diff = (a - b)[real].abs().max().item()
print("max |eager - sdpa| on real tokens < 1e-5:", diff < 1e-5)
assert torch.allclose(a[real], b[real], atol=1e-5)  # equal up to float rounding, not bit-equal
