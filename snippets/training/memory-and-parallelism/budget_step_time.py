# --8<-- [start:code]
"""Step 4: FLOPs, step time at 40% MFU, and communication per step on 8 H200s."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # arithmetic.py sits beside this file
import arithmetic as ar  # noqa: E402

run = ar.LLAMA3_8B_ON_8_H200
model, gpu, gpus, s, b = run.model, run.gpu, run.gpus, run.seq_len, run.micro_batch
tokens = run.tokens_per_step  # one micro-batch per GPU, no gradient accumulation
per_token = ar.training_flops_per_token(model, s)
print(f"FLOPs per token: 6N = {6 * model.matmul_params / 1e9:.2f} G + attention "
      f"{12 * model.layers * model.hidden * s / 1e9:.2f} G = {per_token / 1e9:.2f} GFLOP")
step = ar.step_time_s(model, gpu, gpus, tokens, s, mfu=0.40)
print(f"step of {tokens:,} tokens at 40% MFU: {step:.2f} s "
      f"({tokens / step / gpus:,.0f} tokens/s per GPU)")
link = gpu.nvlink_one_way_bytes_per_s
for stage in (1, 3):
    sent = ar.dp_comm_bytes_per_step(model.params, gpus, stage)
    print(f"ZeRO-{stage}: each GPU sends {sent / ar.GB:.1f} GB per step: {sent / link * 1e3:.0f} ms"
          f" at {link / ar.GB:.0f} GB/s ({sent / link / step:.0%} of the step)")
tp = ar.tp_comm_bytes_per_layer(s, b, model.hidden, tp=8) * model.layers
print(f"tensor parallel over 8 instead: {tp / ar.GB:.1f} GB per GPU per micro-batch")
for m in (4, 8, 32):
    print(f"pipeline of 4 stages, {m:2} micro-batches: bubble (p-1)/m = "
          f"{ar.pipeline_bubble_fraction(4, m):.1%} of the compute time")
print(f"KV cache to generate 8192 tokens (eval): {ar.kv_cache_bytes(model, s) / ar.GB:.2f} GB "
      f"per sequence")
# --8<-- [end:code]
