"""exp() of a raw score overflows long before the softmax itself is extreme:
subtract the max first."""
import torch


def softmax_no_max(x):
    e = torch.exp(x)  # exp(12) = 162755 > 65504, the largest float16
    return e / e.sum(dim=-1, keepdim=True)


def softmax_with_max(x):
    e = torch.exp(x - x.amax(dim=-1, keepdim=True))  # every exponent is <= 0 now: no overflow
    return e / e.sum(dim=-1, keepdim=True)


for dtype, scores in ((torch.float16, [12.0, 3.0, -1.0]), (torch.float32, [100.0, 95.0, 0.0])):
    x = torch.tensor(scores, dtype=dtype)
    wrong, right = softmax_no_max(x), softmax_with_max(x)
    rounded = [round(p, 4) for p in right.tolist()]
    print(f"{str(dtype):<14} without max: {wrong.tolist()}   with max: {rounded}")
    assert torch.isnan(wrong).any()  # inf / inf
    assert torch.allclose(right.float(), torch.softmax(x.float(), dim=-1), atol=1e-3)
