"""Gradient accumulation: 4 micro-batches of 4 inside accelerator.accumulate == one step on 16."""
import torch
from accelerate import Accelerator
from torch.utils.data import DataLoader, TensorDataset

MICRO, ACCUM = 4, 4  # samples per micro-batch, micro-batches per optimizer step


def build():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    data = TensorDataset(torch.randn(32, 8), torch.randn(32, 1))  # 2 optimizer steps of 16 samples
    return model, torch.optim.AdamW(model.parameters(), lr=1e-2), data


accelerator = Accelerator(cpu=True, gradient_accumulation_steps=ACCUM)
model, optimizer, data = build()
model, optimizer, loader = accelerator.prepare(model, optimizer, DataLoader(data, batch_size=MICRO))
synced, moved = [], []
for x, y in loader:
    before = model[0].weight.detach().clone()
    with accelerator.accumulate(model):  # (1)!
        accelerator.backward(torch.nn.functional.mse_loss(model(x), y))  # loss / ACCUM
        optimizer.step()  # (2)!
        optimizer.zero_grad()
    synced.append(accelerator.sync_gradients)
    moved.append(not torch.equal(before, model[0].weight))

reference, ref_optimizer, data = build()  # no Accelerate, no accumulation: batches of 16
for x, y in DataLoader(data, batch_size=MICRO * ACCUM):
    torch.nn.functional.mse_loss(reference(x), y).backward()
    ref_optimizer.step()
    ref_optimizer.zero_grad()
gap = max((p - q).abs().max().item() for p, q in zip(model.parameters(), reference.parameters()))

print("sync_gradients:", synced)
print("weights moved: ", moved)
print(f"matches 2 plain steps on batches of {MICRO * ACCUM}: {gap < 1e-6}")
assert synced == moved == ([False] * (ACCUM - 1) + [True]) * 2
assert gap < 1e-6, gap
