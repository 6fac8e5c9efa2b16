"""A tokenizer's 0/1 attention mask cast to float is *added* to the scores by SDPA, so the padding
still gets attention (pytorch/pytorch#103963); pass booleans, or 0 / -inf as floats."""
import torch
import torch.nn.functional as F

torch.manual_seed(0)
q, k, v = (torch.randn(1, 2, 6, 16) for _ in range(3))  # (batch, heads, N, d)
attention_mask = torch.tensor([[1, 1, 1, 1, 0, 0]])  # as a tokenizer returns it: 0 = padding
reference = F.scaled_dot_product_attention(q[..., :4, :], k[..., :4, :], v[..., :4, :])

masks = {
    "mask.to(q.dtype)": attention_mask.to(q.dtype),  # adds 1 to real keys, 0 to padding
    "mask.bool()": attention_mask.bool(),  # True = may attend
    "0 / -inf floats": torch.zeros(attention_mask.shape).masked_fill(attention_mask == 0,
                                                                      float("-inf")),
}
errors = {}
for name, mask in masks.items():
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    errors[name] = (out[..., :4, :] - reference).abs().max().item()  # the 4 real tokens
    print(f"{name:<17} max error on real tokens {errors[name]:.2f}, "
          f"below 1e-6: {errors[name] < 1e-6}")
assert errors["mask.to(q.dtype)"] > 1e-2
assert errors["mask.bool()"] < 1e-6 and errors["0 / -inf floats"] < 1e-6
