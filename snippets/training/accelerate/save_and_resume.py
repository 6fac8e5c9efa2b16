"""save_state / load_state: a run stopped after epoch 1 and restarted
ends where an unbroken run ends."""
import os
import tempfile

import torch
from accelerate import Accelerator
from torch.utils.data import DataLoader, TensorDataset


def setup():
    """A fresh Accelerator and freshly built objects, as a new start of the script would have."""
    accelerator = Accelerator(cpu=True)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.Dropout(0.3),
                                torch.nn.Linear(32, 1))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 / (1 + step))
    data = DataLoader(TensorDataset(torch.randn(12, 8), torch.randn(12, 1)), batch_size=4,
                      shuffle=True)
    return accelerator, *accelerator.prepare(model, optimizer, scheduler, data)


def epoch(accelerator, model, optimizer, scheduler, data):
    for x, y in data:  # shuffling and dropout both draw from the RNG
        accelerator.backward(torch.nn.functional.mse_loss(model(x), y))
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()


accelerator, model, optimizer, scheduler, data = setup()
for _ in range(2):
    epoch(accelerator, model, optimizer, scheduler, data)  # the unbroken run: 2 epochs
unbroken = [p.detach().clone() for p in model.parameters()]

with tempfile.TemporaryDirectory() as checkpoint:
    accelerator, model, optimizer, scheduler, data = setup()
    epoch(accelerator, model, optimizer, scheduler, data)
    accelerator.save_state(checkpoint)  # weights, optimizer, scheduler, RNG states
    print(sorted(os.listdir(checkpoint)))

    accelerator, model, optimizer, scheduler, data = setup()  # "the job was restarted"
    accelerator.load_state(checkpoint)
    epoch(accelerator, model, optimizer, scheduler, data)

same = all(torch.equal(a, b) for a, b in zip(unbroken, model.parameters()))
print(f"lr after 6 steps: {scheduler.get_last_lr()[0]:.5f}; resumed run == unbroken run: {same}")
assert same
