"""FlashAttention's forward pass in plain PyTorch:
tiles of K/V, a running max and sum, no N x N matrix."""
import math

import torch
import torch.nn.functional as F


def tiled_attention(q, k, v, causal=False, block=128):
    """softmax(q k^T / sqrt(d)) v for (batch, heads, N, d) inputs; also returns each row's
    log-sum-exp, which is all FlashAttention-2 keeps for the backward pass instead of the N x N
    probabilities."""
    n, d = q.shape[-2], q.shape[-1]
    scale = 1.0 / math.sqrt(d)
    out = torch.empty_like(q)
    lse = torch.empty(q.shape[:-1], dtype=q.dtype)
    for i in range(0, n, block):  # each query tile is independent: FA2 runs them in parallel
        qi = q[..., i:i + block, :] * scale
        rows = torch.arange(i, i + qi.shape[-2]).unsqueeze(-1)
        m = torch.full(qi.shape[:-1], float("-inf"))  # running max of each row
        l = torch.zeros(qi.shape[:-1])  # running sum of exp(score - m)
        acc = torch.zeros_like(qi)  # running sum of exp(score - m) @ v, NOT yet divided by l
        for j in range(0, n, block):
            if causal and j > i + qi.shape[-2] - 1:
                break  # this key tile lies entirely above the diagonal: skip it, no work at all
            s = qi @ k[..., j:j + block, :].transpose(-2, -1)  # (..., block, block) scores only
            if causal:
                cols = torch.arange(j, j + s.shape[-1])
                s = s.masked_fill(cols > rows, float("-inf"))
            m_new = torch.maximum(m, s.amax(dim=-1))
            p = torch.exp(s - m_new.unsqueeze(-1))
            correction = torch.exp(m - m_new)  # old terms were relative to the old max: rescale
            l = l * correction + p.sum(dim=-1)
            acc = acc * correction.unsqueeze(-1) + p @ v[..., j:j + block, :]
            m = m_new
        out[..., i:i + block, :] = acc / l.unsqueeze(-1)  # FA2: divide once, at the very end
        lse[..., i:i + block] = m + torch.log(l)
    return out, lse


def naive_attention(q, k, v, causal=False):
    # the full (batch, heads, N, N) matrix
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if causal:
        n = q.shape[-2]
        scores = scores.masked_fill(torch.ones(n, n, dtype=torch.bool).triu(1), float("-inf"))
    return torch.softmax(scores, dim=-1) @ v, torch.logsumexp(scores, dim=-1)


if __name__ == "__main__":
    torch.manual_seed(0)
    # 1000: the last tile is a partial one
    q, k, v = (torch.randn(2, 4, 1000, 64) for _ in range(3))
    for causal in (False, True):
        tiled, lse = tiled_attention(q, k, v, causal=causal)
        naive, naive_lse = naive_attention(q, k, v, causal=causal)
        sdpa = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        # float32 rounding only: about 1e-7 to 1e-6, the exact value depends on the CPU's kernels
        print(f"causal={causal!s:5}"
              f"  max|tiled - naive| < 1e-5: {(tiled - naive).abs().max() < 1e-5}"
              f"  max|tiled - SDPA| < 1e-5: {(tiled - sdpa).abs().max() < 1e-5}"
              f"  max|lse - logsumexp| < 1e-5: {(lse - naive_lse).abs().max() < 1e-5}")
        assert torch.allclose(tiled, naive, atol=1e-5) and torch.allclose(tiled, sdpa, atol=1e-5)
        assert torch.allclose(lse, naive_lse, atol=1e-5)
