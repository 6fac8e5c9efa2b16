# pytest: gpu
"""FP8 (E4M3) matrix products on a Hopper GPU (H100/H200): per-tensor and row-wise scales, error
against bfloat16, and time against the bfloat16 product at the size of a 7B model's MLP."""
# --8<-- [start:code]
import torch
import torch.nn.functional as F
from torch.nn.functional import ScalingType

assert torch.cuda.get_device_capability() >= (8, 9), "FP8 tensor cores need Ada or Hopper"
E4M3, FP8_MAX = torch.float8_e4m3fn, torch.finfo(torch.float8_e4m3fn).max
torch.manual_seed(0)
M, K, N = 8192, 4096, 11008  # tokens, hidden size, MLP width (Llama-2-7B's up_proj)
x = torch.randn(M, K, device="cuda", dtype=torch.bfloat16)
w = torch.randn(N, K, device="cuda", dtype=torch.bfloat16) / K**0.5

# Per-tensor: one float32 scale each. Row-wise: one scale per token of x (M, 1) and per output
# feature of w (1, N), which follows outlier tokens and channels more closely.
sx_t, sw_t = x.abs().max().float() / FP8_MAX, w.abs().max().float() / FP8_MAX
sx_r = x.abs().amax(dim=1, keepdim=True).float() / FP8_MAX  # (M, 1)
sw_r = w.abs().amax(dim=1, keepdim=True).float() / FP8_MAX  # (N, 1), used as (1, N)
variants = {
    "per-tensor": ((x / sx_t).to(E4M3), sx_t.reshape(1), ScalingType.TensorWise,
                   (w / sw_t).to(E4M3), sw_t.reshape(1), ScalingType.TensorWise),
    "row-wise": ((x / sx_r).to(E4M3), sx_r, ScalingType.RowWise,
                 (w / sw_r).to(E4M3), sw_r.t().contiguous(), ScalingType.RowWise),
}


def fp8_mm(xq, sx, rx, wq, sw, rw):
    return F.scaled_mm(xq, wq.t(), scale_a=sx, scale_recipe_a=rx, scale_b=sw, scale_recipe_b=rw,
                       output_dtype=torch.bfloat16)


def cuda_ms(fn, repeats=50):
    """Median time of fn() in milliseconds, with CUDA events (the GPU runs asynchronously)."""
    for _ in range(5):
        fn()  # warm-up: kernel selection and caches
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    return sorted(times)[len(times) // 2]


ref = x.float() @ w.float().t()
t_bf16 = cuda_ms(lambda: x @ w.t())
bf16_err = ((x @ w.t()).float() - ref).norm() / ref.norm()
print(f"bf16: {t_bf16:.3f} ms, {2 * M * K * N / t_bf16 / 1e9:.0f} TFLOP/s, "
      f"relative error {bf16_err:.4f}")
for name, args in variants.items():
    y = fp8_mm(*args)
    err = ((y.float() - ref).norm() / ref.norm()).item()
    t = cuda_ms(lambda args=args: fp8_mm(*args))
    print(f"FP8 {name}: {t:.3f} ms, {2 * M * K * N / t / 1e9:.0f} TFLOP/s, "
          f"relative error {err:.4f}, speed-up over bf16 {t_bf16 / t:.2f}x")
    assert err < 0.05
# --8<-- [end:code]
