"""is_causal=True with fewer queries than keys: SDPA aligns the mask top-left;
a cache needs bottom-right."""
import torch
import torch.nn.functional as F
from torch.nn.attention.bias import causal_lower_right

torch.manual_seed(0)
q, k, v = (torch.randn(1, 2, 7, 16) for _ in range(3))  # 7 tokens
full = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # all 7 at once: the reference

# Now the same 7 tokens as 5 cached keys/values plus 2 new queries (chunked prefill, or
# speculative decoding): the 2 new queries are positions 5 and 6 and may see keys 0..5 and 0..6.
new_q = q[:, :, 5:]
# mask tril(ones(2, 7)): top-left
wrong = F.scaled_dot_product_attention(new_q, k, v, is_causal=True)
right = F.scaled_dot_product_attention(new_q, k, v, attn_mask=causal_lower_right(2, 7))

print("top-left mask (is_causal=True):\n", torch.ones(2, 7, dtype=torch.int).tril())
print("bottom-right mask (causal_lower_right):\n",
      torch.ones(2, 7, dtype=torch.int).tril(diagonal=7 - 2))
for name, out in (("is_causal=True:    ", wrong), ("causal_lower_right:", right)):
    # 0 or float32 rounding when the mask is right
    error = (out - full[:, :, 5:]).abs().max().item()
    print(f"max error, {name} {error:.2f}, below 1e-6: {error < 1e-6}")
assert not torch.allclose(wrong, full[:, :, 5:], atol=1e-3)
assert torch.allclose(right, full[:, :, 5:], atol=1e-6)
