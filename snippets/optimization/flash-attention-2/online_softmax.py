"""Softmax of one row, read in blocks:
a running max and a running sum are all the state it needs."""
import torch

torch.manual_seed(0)
row = torch.randn(1000) * 5  # one row of attention scores
block = 256

m = torch.tensor(float("-inf"))  # largest score seen so far
l = torch.tensor(0.0)  # sum of exp(score - m) over the scores seen so far
for start in range(0, len(row), block):
    x = row[start:start + block]
    m_new = torch.maximum(m, x.max())
    # The old sum was measured against the old max: multiply by exp(m - m_new) to re-base it.
    l = l * torch.exp(m - m_new) + torch.exp(x - m_new).sum()
    m = m_new
    print(f"after {start + len(x):4d} scores: running max {m.item():6.3f}, "
          f"running sum {l.item():8.3f}")

# Second pass (in attention this pass is fused away: see the tiled forward below).
online = torch.exp(row - m) / l
# The two differ by float32 rounding only (about 1e-7; the last bits depend on the CPU's kernels).
print("max |online - torch.softmax| < 1e-6:",
      (online - torch.softmax(row, dim=0)).abs().max().item() < 1e-6)
print("m + log(l) == logsumexp(row):",
      torch.allclose(m + torch.log(l), torch.logsumexp(row, dim=0)))
assert torch.allclose(online, torch.softmax(row, dim=0), atol=1e-7)
