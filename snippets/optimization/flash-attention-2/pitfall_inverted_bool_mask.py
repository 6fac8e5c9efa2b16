"""A boolean padding mask in nn.MultiheadAttention's convention (True = ignore) passed to SDPA,
where True means "may attend": the mask is silently inverted (huggingface/transformers#38094)."""
import torch
import torch.nn.functional as F

torch.manual_seed(0)
q, k, v = (torch.randn(1, 2, 6, 16) for _ in range(3))  # (batch, heads, N, d)
# one row per query, broadcast: the last 2 of the 6 keys are padding
is_padding = torch.tensor([[False, False, False, False, True, True]])
# what the 4 real tokens should get: attention over the real keys only
reference = F.scaled_dot_product_attention(q[..., :4, :], k[..., :4, :], v[..., :4, :])

wrong = F.scaled_dot_product_attention(q, k, v, attn_mask=is_padding)  # attends to padding ONLY
right = F.scaled_dot_product_attention(q, k, v, attn_mask=~is_padding)  # True = take part
for name, out in (("attn_mask=is_padding ", wrong), ("attn_mask=~is_padding", right)):
    error = (out[..., :4, :] - reference).abs().max().item()
    print(f"{name}  max error on real tokens {error:.2f}, below 1e-6: {error < 1e-6}")
assert not torch.allclose(wrong[..., :4, :], reference, atol=1e-2)
assert torch.allclose(right[..., :4, :], reference, atol=1e-6)
