# pytest: gpu, needs-transformers
# --8<-- [start:code]
"""On this GPU: the rate of each SDPA attention kernel against the dense bf16 peak, the kernel SDPA
picks by itself, and the kernel a transformers model runs when attn_implementation is not given."""
import statistics

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.profiler import ProfilerActivity, profile
from transformers import AutoModelForCausalLM, LlamaConfig
from transformers.utils import (is_flash_attn_2_available, is_flash_attn_3_available,
                                is_flash_attn_4_available)

PEAK_BF16_TFLOPS = {"H200": 989, "H100": 989, "A100": 312}  # dense, vendors' datasheets
BATCH, HEADS, N, HEAD_DIM = 4, 32, 4096, 128  # enough query tiles to fill every SM
FAMILIES = [("cudnn", "cuDNN attention"), ("flash", "FlashAttention-2 (PyTorch's copy)"),
            ("fmha", "memory-efficient"), ("efficient", "memory-efficient")]


def kernel_family(fn):
    """The attention backend whose CUDA kernel ran during fn(), by the profiler's kernel names."""
    fn()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        fn()
        torch.cuda.synchronize()
    names = [event.key.lower() for event in prof.key_averages()]
    return next((family for part, family in FAMILIES if any(part in n for n in names)), "math")


def median_ms(fn, repeats=20):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


name = torch.cuda.get_device_name()
peak = next((tf for gpu, tf in PEAK_BF16_TFLOPS.items() if gpu in name), None)
print(f"{name}, compute capability {torch.cuda.get_device_capability()}, torch {torch.__version__},"
      f" cuDNN {torch.backends.cudnn.version()}")
torch.manual_seed(0)
q, k, v = (torch.randn(BATCH, HEADS, N, HEAD_DIM, device="cuda", dtype=torch.bfloat16)
           for _ in range(3))
reference = F.scaled_dot_product_attention(q.float(), k.float(), v.float())
flops = 4 * BATCH * HEADS * N * N * HEAD_DIM  # QK^T and PV, forward, no mask
print(f"forward, batch {BATCH}, {HEADS} heads, N {N}, head dim {HEAD_DIM}, bf16:")
for backend in (SDPBackend.CUDNN_ATTENTION, SDPBackend.FLASH_ATTENTION,
                SDPBackend.EFFICIENT_ATTENTION, None):
    def run(backend=backend):
        if backend is None:  # no restriction: SDPA's own choice
            return F.scaled_dot_product_attention(q, k, v)
        with sdpa_kernel(backend):
            return F.scaled_dot_product_attention(q, k, v)
    label = backend.name if backend is not None else f"default -> {kernel_family(run)}"
    try:
        out = run()
    except RuntimeError as err:
        print(f"  {label:<32} refused: {str(err).splitlines()[0][:60]}")
        continue
    error = ((out.float() - reference).norm() / reference.norm()).item()
    assert error < 1e-2, (label, error)  # bf16 inputs: ~3e-3 is rounding; a bug gives ~1
    tflops = flops / (median_ms(run) * 1e-3) / 1e12
    share = f"{tflops / peak:.0%} of {peak}" if peak else "peak unknown"
    print(f"  {label:<32} {tflops:6.0f} TFLOP/s ({share}), relative error {error:.1e}")
del q, k, v, reference

config = LlamaConfig(vocab_size=1024, hidden_size=1024, intermediate_size=2048,
                     num_hidden_layers=2, num_attention_heads=8, num_key_value_heads=8)
model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16).to("cuda").eval()
input_ids = torch.randint(0, 1024, (2, 2048), device="cuda")
with torch.no_grad():
    family = kernel_family(lambda: model(input_ids))
print(f"transformers, no attn_implementation given: {model.config._attn_implementation!r}"
      f" -> {family}")
print("flash-attn packages: FA2", is_flash_attn_2_available(), "FA3", is_flash_attn_3_available(),
      "FA4", is_flash_attn_4_available())
assert model.config._attn_implementation == "sdpa" and family != "math"
# --8<-- [end:code]
