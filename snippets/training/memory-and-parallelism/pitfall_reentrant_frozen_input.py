# --8<-- [start:code]
"""Reentrant checkpointing after a frozen layer: the checkpointed block gets no gradients."""
import warnings

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

torch.manual_seed(0)
embedding = nn.Embedding(100, 32).requires_grad_(False)  # frozen, as with LoRA or a frozen base
block = nn.Sequential(nn.Linear(32, 64), nn.GELU(), nn.Linear(64, 32))  # trainable
tokens = torch.randint(0, 100, (4, 8))


def block_grad(**checkpoint_kwargs):
    """Gradient of the block's first weight after one backward (None if it got none)."""
    block.zero_grad(set_to_none=True)
    x = embedding(tokens)  # requires_grad=False: nothing upstream needs a gradient
    out = checkpoint(block, x, **checkpoint_kwargs) if checkpoint_kwargs else block(x)
    if out.requires_grad:
        out.sum().backward()
    return block[0].weight.grad


reference = block_grad()  # no checkpointing
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    wrong = block_grad(use_reentrant=True)  # WRONG: the output does not even require grad
print("use_reentrant=True :", "grad is None" if wrong is None else "grad", "|",
      next(str(w.message) for w in caught if "requires_grad" in str(w.message)))
right = block_grad(use_reentrant=False)  # RIGHT: gradients reach the block's weights
print("use_reentrant=False: grad equal to no checkpointing:", torch.equal(right, reference))
assert wrong is None and torch.equal(right, reference)
# --8<-- [end:code]
