"""Flash-Decoding (split-KV): one query against a long KV cache, the keys cut into splits that are
processed independently, then merged exactly through each split's log-sum-exp."""
import math

import torch
import torch.nn.functional as F


def split_kv_attention(q, k, v, num_splits):
    """softmax(q k^T / sqrt(d)) v for q (batch, heads, 1, d) and k, v (batch, heads, N, d).

    Step 1, one independent piece of work per split (on a GPU: per thread block): that split's
    normalised output and log-sum-exp. Step 2, the merge: weight each partial output by
    exp(lse_split - lse_all), which rescales it from its own softmax denominator to the global one.
    Returns the output and the global log-sum-exp, (batch, heads, 1)."""
    outs, lses = [], []
    for k_split, v_split in zip(k.chunk(num_splits, dim=-2), v.chunk(num_splits, dim=-2)):
        s = q @ k_split.transpose(-2, -1) / math.sqrt(q.shape[-1])
        lse = torch.logsumexp(s, dim=-1, keepdim=True)  # this split's max and sum, in one number
        outs.append(torch.exp(s - lse) @ v_split)  # normalised within the split
        lses.append(lse)
    lses = torch.stack(lses)  # (splits, batch, heads, 1, 1)
    lse_all = torch.logsumexp(lses, dim=0)
    weights = torch.exp(lses - lse_all)  # sum to 1 over the splits
    return (weights * torch.stack(outs)).sum(dim=0), lse_all.squeeze(-1)


torch.manual_seed(0)
batch, heads, n, d = 2, 4, 10_000, 64  # decoding: a single new token, 10,000 cached ones
q = torch.randn(batch, heads, 1, d)
k, v = torch.randn(batch, heads, n, d), torch.randn(batch, heads, n, d)
k[0, 0, 9_000] = 3 * q[0, 0, 0]  # a strongly matching key in a late split: the max lives there
reference = F.scaled_dot_product_attention(q, k, v)
for num_splits in (1, 4, 16, 64):
    out, lse = split_kv_attention(q, k, v, num_splits)
    full_lse = torch.logsumexp(q @ k.transpose(-2, -1) / math.sqrt(d), dim=-1)
    # float32 rounding only, about 1e-7 (the output) and 1e-6 (the log-sum-exp, about 10)
    error = max((out - reference).abs().max().item(), (lse - full_lse).abs().max().item())
    print(f"{num_splits:>2} splits: {batch * heads * num_splits:>3} independent pieces of work, "
          f"output and lse as unsplit (max error < 1e-5): {error < 1e-5}")
    assert error < 1e-5
