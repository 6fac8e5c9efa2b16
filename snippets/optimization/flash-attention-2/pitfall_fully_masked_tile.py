"""Online softmax with a padding mask: a tile whose keys are all masked makes the running max
-inf, and exp(-inf - (-inf)) = NaN poisons every row (pytorch/pytorch#103749, #109517)."""
import math

import torch
import torch.nn.functional as F


def tiled_masked_attention(q, k, v, key_mask, guard, block=4):
    """One head: softmax(q k^T / sqrt(d)) v over the keys where key_mask (N,) is True."""
    m = torch.full((q.shape[0],), float("-inf"))
    l, acc = torch.zeros(q.shape[0]), torch.zeros_like(q)
    for j in range(0, k.shape[0], block):
        s = (q @ k[j:j + block].T / math.sqrt(q.shape[1])).masked_fill(
            ~key_mask[j:j + block], float("-inf"))
        m_new = torch.maximum(m, s.amax(dim=1))
        # no unmasked key seen yet: subtract 0 instead of -inf, as the flash kernels do
        m_safe = torch.where(m_new == float("-inf"), 0.0, m_new) if guard else m_new
        p = torch.exp(s - m_safe[:, None])
        correction = torch.exp(m - m_safe)
        l = l * correction + p.sum(dim=1)
        acc = acc * correction[:, None] + p @ v[j:j + block]
        m = m_new
    if guard:  # a row with no key at all gets 0, as SDPA returns for it
        return torch.where(l[:, None] > 0, acc / l.clamp(min=1e-30)[:, None], 0.0)
    return acc / l[:, None]


torch.manual_seed(0)
q, k, v = torch.randn(8, 16), torch.randn(10, 16), torch.randn(10, 16)
key_mask = torch.arange(10) >= 6  # left padding: keys 0-5 are padding, the first tile entirely
reference = F.scaled_dot_product_attention(q, k, v, attn_mask=key_mask)  # True = may attend
for guard in (False, True):
    out = tiled_masked_attention(q, k, v, key_mask, guard)
    nan_rows = out.isnan().any(dim=1).sum().item()
    error = (out - reference).abs().max().item()
    print(f"guard={guard!s:5}  rows with NaN: {nan_rows} of 8, "
          f"max |tiled - SDPA| < 1e-6: {error < 1e-6}")
    assert (nan_rows == 8) if not guard else (nan_rows == 0 and error < 1e-6)
# a query row that may attend to nothing at all: SDPA returns zeros for it, not NaN
nothing = F.scaled_dot_product_attention(q, k, v, attn_mask=torch.zeros(10, dtype=torch.bool))
print("SDPA, every key masked:", nothing.abs().max().item())
assert not nothing.isnan().any()
