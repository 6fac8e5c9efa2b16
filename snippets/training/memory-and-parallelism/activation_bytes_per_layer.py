# --8<-- [start:code]
"""Count the bytes autograd saves for backward in one GPT layer, against sbh(34 + 5as/h)."""
import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd.graph import saved_tensors_hooks

s, b, h, a = 64, 2, 128, 4  # sequence, micro-batch, hidden, heads: 5as/h = 10


class GPTLayer(nn.Module):
    """Pre-LN GPT layer as Korthikanti et al. count it: attention, 4h GELU MLP, three dropouts."""

    def __init__(self, h, a, p=0.1):
        super().__init__()
        self.a, self.p = a, p
        self.ln1, self.ln2 = nn.LayerNorm(h), nn.LayerNorm(h)
        self.qkv, self.proj = nn.Linear(h, 3 * h), nn.Linear(h, h)
        self.fc1, self.fc2 = nn.Linear(h, 4 * h), nn.Linear(4 * h, h)

    def attention_core(self, q, k, v):  # what selective recompute redoes: QK^T, softmax, dropout
        scores = (q @ k.transpose(-2, -1)) * q.shape[-1] ** -0.5
        return F.dropout(scores.softmax(-1), self.p, self.training) @ v

    def forward(self, x):  # x: (s, b, h)
        seq, batch, hidden = x.shape
        qkv = self.qkv(self.ln1(x)).view(seq, batch, self.a, -1).permute(1, 2, 0, 3)
        q, k, v = qkv.chunk(3, -1)  # each (b, a, s, h/a): views of the one qkv output
        core = self.attention_core(q, k, v).permute(2, 0, 1, 3).reshape(seq, batch, hidden)
        x = x + F.dropout(self.proj(core), self.p, self.training)
        return x + F.dropout(self.fc2(F.gelu(self.fc1(self.ln2(x)))), self.p, self.training)


def saved_bytes(layer, x, held=lambda: ()):
    """Bytes of the distinct storages autograd saves in layer(x), parameters left out, plus those
    of the tensors ``held()`` names after the forward (what a checkpoint keeps by itself).
    Returns (bytes, output)."""
    params = {p.untyped_storage().data_ptr() for p in layer.parameters()}
    seen = {}

    def pack(t):
        storage = t.untyped_storage()
        if storage.data_ptr() not in params:
            seen[storage.data_ptr()] = storage.nbytes()  # views of one storage count once
        return t

    with saved_tensors_hooks(pack, lambda t: t):
        out = layer(x)
    for t in held():
        pack(t)
    return sum(seen.values()), out


if __name__ == "__main__":
    torch.manual_seed(0)
    layer = GPTLayer(h, a).to(torch.bfloat16)  # 16-bit activations, as the formula assumes
    x = torch.randn(s, b, h, dtype=torch.bfloat16, requires_grad=True)
    measured, out = saved_bytes(layer, x)
    formula = s * b * h * (34 + 5 * a * s / h)
    # PyTorch's CPU dropout keeps a 16-bit scaled mask (CUDA: 1-byte bool), so each of the three
    # dropouts holds one byte per element more; each LayerNorm also keeps its mean and 1/std
    # (s*b values each, in bf16 here), which the formula leaves out as small.
    extra = (a * s * s * b + 2 * s * b * h) + 2 * (2 * s * b * 2)
    print(f"saved by autograd: {measured:,} bytes; sbh(34 + 5as/h) = {formula:,.0f} bytes")
    print(f"measured / formula = {measured / formula:.3f}; "
          f"measured == formula + dropout masks + LayerNorm stats: {measured == formula + extra}")
    out.float().sum().backward()  # the saved tensors are what this backward uses
# --8<-- [end:code]
