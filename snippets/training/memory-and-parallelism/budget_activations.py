# --8<-- [start:code]
"""Step 2: activations of one micro-batch (1 x 8192 tokens) of Llama-3-8B, per GPU."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # arithmetic.py sits beside this file
import arithmetic as ar  # noqa: E402

run = ar.LLAMA3_8B_ON_8_H200
m, s, b = run.model, run.seq_len, run.micro_batch
h, a, L = m.hidden, m.heads, m.layers
print(f"s={s}, b={b}, h={h}, a={a}: 5as/h = {5 * a * s / h:.0f} against 34")
for recompute in ("none", "selective", "full"):
    per_layer = ar.activation_bytes_per_layer(s, b, h, a, recompute=recompute)
    total = ar.activation_bytes(m, s, b, recompute)  # full: + one rebuilt layer in backward
    print(f"recompute={recompute:9}: {per_layer / ar.GB:7.3f} GB per layer, "
          f"{total / ar.GB:6.2f} GB for {L} layers")
print(f"loss: fp32 log-probabilities over {m.vocab:,} tokens: "
      f"{ar.logits_bytes(s, b, m.vocab) / ar.GB:.2f} GB")
# --8<-- [end:code]
