"""Online softmax attention for one query:
forgetting to rescale the accumulator when the max grows."""
import math

import torch


def one_query_attention(q, k, v, rescale_acc, block=64):
    m, l, acc = torch.tensor(float("-inf")), torch.tensor(0.0), torch.zeros(v.shape[-1])
    for j in range(0, k.shape[0], block):
        s = k[j:j + block] @ q / math.sqrt(q.shape[0])
        m_new = torch.maximum(m, s.max())
        p = torch.exp(s - m_new)
        correction = torch.exp(m - m_new)
        l = l * correction + p.sum()  # the sum is rescaled in both versions...
        # ...but the buggy one forgets that acc, too, was summed relative to the OLD max
        acc = (acc * correction if rescale_acc else acc) + p @ v[j:j + block]
        m = m_new
    return acc / l


torch.manual_seed(0)
q, k, v = torch.randn(64), torch.randn(256, 64), torch.randn(256, 64)
k[200] = 2 * q  # a key in the LAST block that matches q strongly: the running max jumps there
reference = torch.softmax(k @ q / 8.0, dim=0) @ v

wrong = one_query_attention(q, k, v, rescale_acc=False)
right = one_query_attention(q, k, v, rescale_acc=True)
for name, out in (("without rescaling acc:", wrong), ("with rescaling acc:   ", right)):
    error = (out - reference).abs().max().item()  # the correct one is off by float32 rounding only
    print(f"{name} max error {error:.2f}, below 1e-5: {error < 1e-5}")
assert not torch.allclose(wrong, reference, atol=1e-3)
assert torch.allclose(right, reference, atol=1e-5)
