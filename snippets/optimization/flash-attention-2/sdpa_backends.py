"""Which kernel runs behind torch.nn.functional.scaled_dot_product_attention,
and how to choose it."""
import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.profiler import profile

print("backends:", [b.name for b in SDPBackend.__members__.values()])
torch.manual_seed(0)
q, k, v = (torch.randn(1, 4, 512, 64) for _ in range(3))

with profile() as prof:  # which ATen kernel did the default dispatch pick on this CPU?
    default = F.scaled_dot_product_attention(q, k, v, is_causal=True)
print("default on CPU ->", [e.key for e in prof.key_averages() if "_scaled_dot_product" in e.key])

for backend in (SDPBackend.FLASH_ATTENTION, SDPBackend.MATH, SDPBackend.EFFICIENT_ATTENTION):
    try:
        with sdpa_kernel(backend):  # only this backend is allowed inside the block
            out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        print(f"{backend.name:<20} ok, same bits as default: {torch.equal(out, default)}, "
              f"max |out - default| < 1e-5: {(out - default).abs().max().item() < 1e-5}")
    except RuntimeError as err:  # no enabled backend can take these inputs on this device
        print(f"{backend.name:<20} refused: {str(err).split('. ')[0]}")

with sdpa_kernel(SDPBackend.FLASH_ATTENTION):  # forcing the flash kernel on CPU gives the same bits
    assert torch.equal(F.scaled_dot_product_attention(q, k, v, is_causal=True), default)
