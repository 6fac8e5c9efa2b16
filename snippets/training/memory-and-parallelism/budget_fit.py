# --8<-- [start:code]
"""Step 3: model states + activations + loss per H200, for each ZeRO stage and recompute mode."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # arithmetic.py sits beside this file
import arithmetic as ar  # noqa: E402

run = ar.LLAMA3_8B_ON_8_H200
modes = ("none", "selective", "full")
print("stage | " + " | ".join(f"recompute={mode:9}" for mode in modes) + "   (GB free per GPU)")
for stage in range(4):
    cells = []
    for mode in modes:
        free = run.free_bytes(stage, mode)  # memory - states - activations - loss buffer
        cells.append(f"{free / ar.GB:7.1f} " + ("fits   " if free > 0 else "too big"))
    print(f"  {stage}   |   " + " |   ".join(cells).rstrip())
# --8<-- [end:code]
