# pytest: gpu
# --8<-- [start:code]
"""Which kernel does F.scaled_dot_product_attention run on this GPU? The profiler names it."""
import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile

# Substrings of CUDA kernel names, most specific first, and the SDPA backend they belong to.
FAMILIES = [("cudnn", "cuDNN attention"), ("flash", "FlashAttention-2 (PyTorch's copy)"),
            ("fmha", "memory-efficient (xFormers/CUTLASS)"),
            ("efficient", "memory-efficient (xFormers/CUTLASS)")]


def backend_that_ran(q, k, v, **kwargs):
    F.scaled_dot_product_attention(q, k, v, **kwargs)  # warm-up: selection and any lazy init
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        F.scaled_dot_product_attention(q, k, v, **kwargs)
        torch.cuda.synchronize()
    names = [e.key.lower() for e in prof.key_averages()]
    for part, family in FAMILIES:
        if any(part in name for name in names):
            return family
    return "math (matmul, softmax, matmul)"


torch.manual_seed(0)
cases = [("bf16, head dim 64", torch.bfloat16, 64, {}),
         ("bf16, head dim 128, causal", torch.bfloat16, 128, {"is_causal": True}),
         ("bf16, head dim 256", torch.bfloat16, 256, {}),
         ("bf16, head dim 128, boolean mask", torch.bfloat16, 128, {"mask": True}),
         ("fp32, head dim 128", torch.float32, 128, {})]
print(f"{torch.cuda.get_device_name()}, compute capability {torch.cuda.get_device_capability()}, "
      f"torch {torch.__version__}")
chosen = {}
for label, dtype, head_dim, options in cases:
    q, k, v = (torch.randn(2, 16, 2048, head_dim, device="cuda", dtype=dtype) for _ in range(3))
    kwargs = dict(options)
    if kwargs.pop("mask", False):  # an explicit mask (e.g. padding) rules the flash kernel out
        kwargs["attn_mask"] = torch.ones(2048, 2048, device="cuda", dtype=torch.bool).tril()
    chosen[label] = backend_that_ran(q, k, v, **kwargs)
    print(f"{label:<34} -> {chosen[label]}")
# A fused kernel, not the math fallback, for the common case;
# fp32 cannot use the flash or cuDNN ones.
assert not chosen["bf16, head dim 64"].startswith("math")
assert ("FlashAttention" not in chosen["fp32, head dim 128"]
        and "cuDNN" not in chosen["fp32, head dim 128"])
# --8<-- [end:code]
