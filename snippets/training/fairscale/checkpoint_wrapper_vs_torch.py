"""Activation checkpointing: fairscale's checkpoint_wrapper and torch.utils.checkpoint agree."""
import torch
from fairscale.nn.checkpoint import checkpoint_wrapper
from torch.utils.checkpoint import checkpoint

torch.manual_seed(0)
block = torch.nn.Sequential(torch.nn.Linear(16, 16), torch.nn.Tanh(), torch.nn.Linear(16, 16))
runs = []
block[0].register_forward_hook(lambda *_: runs.append(1))  # counts how often layer 0 runs
# The input requires grad, as it would coming out of an earlier layer. (With a leaf input that
# does not, fairscale's wrapper still works but torch prints "None of the inputs have
# requires_grad=True".)
x = torch.randn(4, 16, requires_grad=True)


def grads_and_runs(forward):
    block.zero_grad()
    runs.clear()
    forward(x).sum().backward()
    return [p.grad.clone() for p in block.parameters()], len(runs)


plain, n_plain = grads_and_runs(block)
# torch 2.13 wants use_reentrant spelled out; False is the recommended implementation.
torch_ck, n_torch = grads_and_runs(lambda t: checkpoint(block, t, use_reentrant=False))
fs_ck, n_fs = grads_and_runs(checkpoint_wrapper(block))  # patches block.forward in place

print(f"forward runs of layer 0: plain {n_plain}, torch checkpoint {n_torch}, "
      f"fairscale checkpoint_wrapper {n_fs}")
same = all(torch.equal(a, b) and torch.equal(a, c) for a, b, c in zip(plain, torch_ck, fs_ck))
print("identical gradients:", same)
assert (n_plain, n_torch, n_fs) == (1, 2, 2) and same
