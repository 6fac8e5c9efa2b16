# --8<-- [start:code]
"""Step 1 of the budget: model states of Llama-3-8B per H200, for each ZeRO stage on 8 GPUs."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # arithmetic.py sits beside this file
import arithmetic as ar  # noqa: E402

run = ar.LLAMA3_8B_ON_8_H200  # Llama-3-8B shapes, 8 H200s, 1 x 8192 tokens per GPU
model, gpu, dp = run.model, run.gpu, run.gpus
psi = model.params
print(f"{model.name}: {psi:,} parameters; {gpu.name}: {gpu.memory_bytes / ar.GB:.0f} GB each")
print("stage | weights | grads | optimizer | model states per GPU")
for stage in range(4):
    weights = 2 * psi / (dp if stage == 3 else 1)  # the three terms of zero_model_state_bytes
    grads = 2 * psi / (dp if stage >= 2 else 1)
    optim = 12 * psi / (dp if stage >= 1 else 1)
    total = ar.zero_model_state_bytes(psi, stage, dp)
    assert total == weights + grads + optim
    print(f"  {stage}   | {weights / ar.GB:5.2f} GB | {grads / ar.GB:5.2f} GB | "
          f"{optim / ar.GB:6.2f} GB | {total / ar.GB:6.2f} GB")
# --8<-- [end:code]
