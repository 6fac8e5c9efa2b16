"""F.scaled_dot_product_attention applies dropout_p whatever the module's mode:
model.eval() does not switch it off (pytorch/pytorch#124464)."""
import torch
import torch.nn.functional as F
from torch import nn


class SelfAttention(nn.Module):
    def __init__(self, dim, heads, dropout, respect_training):
        super().__init__()
        self.heads, self.dropout, self.respect_training = heads, dropout, respect_training
        self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)

    def forward(self, x):
        batch, n, dim = x.shape
        q, k, v = self.qkv(x).view(batch, n, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        # the wrong version passes its rate unconditionally; the right one only while training
        p = self.dropout if (self.training or not self.respect_training) else 0.0
        out = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)
        return self.proj(out.transpose(1, 2).reshape(batch, n, dim))


torch.manual_seed(0)
x = torch.randn(2, 16, 64)
for respect_training in (False, True):
    model = SelfAttention(64, 4, dropout=0.1, respect_training=respect_training).eval()
    with torch.no_grad():
        first, second = model(x), model(x)
    same = torch.equal(first, second)
    label = "dropout_p if self.training else 0.0" if respect_training else "dropout_p=self.dropout"
    print(f"{label:<36} eval(): two calls give the same output: {same}")
    assert same == respect_training
