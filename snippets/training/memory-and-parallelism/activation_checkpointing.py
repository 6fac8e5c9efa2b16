# --8<-- [start:code]
"""Full and selective activation checkpointing: bytes kept for backward and FLOPs recomputed."""
import sys
from pathlib import Path

import torch
from torch.distributed._composable import checkpoint as checkpoint_module  # FSDP2's companion
from torch.utils.checkpoint import checkpoint
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the layer of the snippet beside this
from activation_bytes_per_layer import GPTLayer, saved_bytes  # noqa: E402
from arithmetic import activation_bytes_per_layer  # noqa: E402

s, b, h, a = 64, 2, 128, 4


class SelectiveLayer(GPTLayer):
    """Recomputes only the attention core (QK^T, softmax, dropout, times V) in backward."""

    def attention_core(self, q, k, v):
        self.held = (q, k, v)  # a checkpoint keeps its inputs itself, not as saved tensors
        return checkpoint(super().attention_core, q, k, v, use_reentrant=False)


def measure(layer, x, held=lambda: ()):
    """(bytes kept for backward, FLOPs of forward + backward) for one call of layer on x."""
    with FlopCounterMode(display=False) as flops:
        kept, out = saved_bytes(layer, x, held)
        out.float().sum().backward()
    return kept, flops.get_total_flops()


torch.manual_seed(0)
x = torch.randn(s, b, h, dtype=torch.bfloat16, requires_grad=True)
plain = GPTLayer(h, a).to(torch.bfloat16)
selective = SelectiveLayer(h, a).to(torch.bfloat16)
full = checkpoint_module(GPTLayer(h, a).to(torch.bfloat16))  # the whole layer, as a hook
results = {"none": measure(plain, x), "selective": measure(selective, x, lambda: selective.held),
           "full": measure(full, x, lambda: (x,))}  # full: only the input is kept
sbh, forward = s * b * h, 24 * b * s * h * h + 4 * b * s * s * h  # matmul FLOPs of one forward
# Backward costs 2x forward. Recompute stops once the saved tensors are rebuilt: the selective
# region redoes QK^T (2bs^2h) but not the product with V, whose output backward never needs.
formula_flops = {"none": 3 * forward, "selective": 3 * forward + 2 * b * s * s * h,
                 "full": 4 * forward}
for name, (kept, flops) in results.items():
    formula = activation_bytes_per_layer(s, b, h, a, recompute=name)
    print(f"recompute={name:9}: kept {kept / sbh:5.2f} sbh bytes (formula {formula / sbh:2.0f}), "
          f"FLOPs x{flops / results['none'][1]:.3f} "
          f"(formula x{formula_flops[name] / formula_flops['none']:.3f})")
    assert flops == formula_flops[name]
# --8<-- [end:code]
