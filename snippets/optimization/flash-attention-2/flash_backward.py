"""FlashAttention's backward pass in plain PyTorch: the probabilities are recomputed tile by tile
from Q, K and the saved log-sum-exp, with D = rowsum(dO * O); checked against autograd."""
import math

import torch
from tiled_attention import tiled_attention  # the snippet beside this file


def tiled_attention_backward(q, k, v, out, lse, d_out, causal=False, block=128):
    """dQ, dK, dV of softmax(q k^T / sqrt(d)) v for (batch, heads, N, d) tensors, from the forward's
    output and per-row log-sum-exp `lse` (batch, heads, N) only: no N x N tensor is kept or built
    (FlashAttention-2, arXiv:2307.08691, Algorithm 2)."""
    n, d = q.shape[-2:]
    scale = 1.0 / math.sqrt(d)
    dq = torch.zeros_like(q)
    dk, dv = torch.empty_like(k), torch.empty_like(v)
    delta = (d_out * out).sum(dim=-1, keepdim=True)  # D_i = rowsum(dO_i * O_i) = sum_j P_ij dP_ij
    for j in range(0, n, block):  # outer loop over K/V tiles: dK_j and dV_j stay "on chip"
        kj, vj = k[..., j:j + block, :], v[..., j:j + block, :]
        dkj, dvj = torch.zeros_like(kj), torch.zeros_like(vj)
        for i in range(0, n, block):
            qi, doi = q[..., i:i + block, :], d_out[..., i:i + block, :]
            if causal and j >= i + qi.shape[-2]:
                continue  # tile entirely above the diagonal: P is 0 there, nothing to add
            s = qi @ kj.transpose(-2, -1) * scale
            if causal:
                rows = torch.arange(i, i + qi.shape[-2]).unsqueeze(-1)
                s = s.masked_fill(torch.arange(j, j + kj.shape[-2]) > rows, float("-inf"))
            p = torch.exp(s - lse[..., i:i + block, None])  # exact P: L already holds max and sum
            dvj += p.transpose(-2, -1) @ doi
            dp = doi @ vj.transpose(-2, -1)
            ds = p * (dp - delta[..., i:i + block, :])  # softmax's Jacobian, row by row
            dq[..., i:i + block, :] += ds @ kj * scale
            dkj += ds.transpose(-2, -1) @ qi * scale
        dk[..., j:j + block, :], dv[..., j:j + block, :] = dkj, dvj
    return dq, dk, dv


class FlashAttention(torch.autograd.Function):
    """The tiled forward and backward as one autograd function; it saves Q, K, V, O and L."""

    @staticmethod
    def forward(ctx, q, k, v, causal):
        out, lse = tiled_attention(q, k, v, causal=causal)
        ctx.save_for_backward(q, k, v, out, lse)
        ctx.causal = causal
        return out

    @staticmethod
    def backward(ctx, d_out):
        return *tiled_attention_backward(*ctx.saved_tensors, d_out, causal=ctx.causal), None


def naive(q, k, v, causal):
    """softmax(q k^T / sqrt(d)) v through ordinary ops; autograd keeps what they need, P too."""
    s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if causal:
        s = s.masked_fill(torch.ones(s.shape[-2:], dtype=torch.bool).triu(1), float("-inf"))
    return torch.softmax(s, dim=-1) @ v


def grads_and_saved(attention, q, k, v, d_out):
    """Gradients of <attention(q, k, v), d_out>, and how many elements autograd saved for them."""
    saved = []
    leaves = [t.detach().requires_grad_() for t in (q, k, v)]
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t.numel()) or t,
                                                  lambda t: t):
        out = attention(*leaves)
    out.backward(d_out)
    return [t.grad for t in leaves], sum(saved)


torch.manual_seed(0)
batch, heads, n, d = 2, 3, 300, 32  # 300: the last tile of 128 is a partial one
q, k, v, d_out = (torch.randn(batch, heads, n, d, dtype=torch.float64) for _ in range(4))
for causal in (False, True):
    reference, saved_naive = grads_and_saved(
        lambda q, k, v: naive(q, k, v, causal), q, k, v, d_out)
    tiled, saved_flash = grads_and_saved(
        lambda q, k, v: FlashAttention.apply(q, k, v, causal), q, k, v, d_out)
    error = max((a - b).abs().max().item() for a, b in zip(tiled, reference))
    print(f"causal={causal!s:5}  dQ, dK, dV as autograd's (max error < 1e-10): {error < 1e-10}")
    print(f"{'':13} saved for backward: autograd {saved_naive:,} elements, tiled {saved_flash:,}")
    assert error < 1e-10
print(f"for {batch * heads} heads: N x N = {batch * heads * n * n:,} elements, "
      f"Q, K, V, O and L = {batch * heads * (4 * n * d + n):,}")
