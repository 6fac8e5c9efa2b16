"""Resuming mid-epoch: the resumed loader's draw from the global RNG shifts every dropout mask."""
import tempfile

import torch
from accelerate import Accelerator
from torch.utils.data import DataLoader, TensorDataset


def resumed_equals_unbroken(own_generator):
    def setup():
        accelerator = Accelerator(cpu=True)
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.Dropout(0.5),
                                    torch.nn.Linear(32, 1))
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        generator = torch.Generator().manual_seed(1) if own_generator else None
        data = DataLoader(TensorDataset(torch.randn(24, 8), torch.randn(24, 1)), batch_size=4,
                          generator=generator)
        return accelerator, *accelerator.prepare(model, optimizer, data)

    def steps(accelerator, model, optimizer, batches, n):
        for _, (x, y) in zip(range(n), batches):
            loss = torch.nn.functional.mse_loss(model(x), y)  # dropout draws from the global RNG
            accelerator.backward(loss)
            optimizer.step()
            optimizer.zero_grad()

    accelerator, model, optimizer, data = setup()
    steps(accelerator, model, optimizer, data, 6)
    unbroken = [p.detach().clone() for p in model.parameters()]
    with tempfile.TemporaryDirectory() as checkpoint:
        accelerator, model, optimizer, data = setup()
        steps(accelerator, model, optimizer, data, 3)
        accelerator.save_state(checkpoint)  # stopped in the middle of the epoch
        accelerator, model, optimizer, data = setup()
        accelerator.load_state(checkpoint)  # RNG now as it was after step 3 ...
        # ... but iter(rest) takes one more draw from it
        rest = accelerator.skip_first_batches(data, 3)
        steps(accelerator, model, optimizer, rest, 3)
    return all(torch.equal(a, b) for a, b in zip(unbroken, model.parameters()))


wrong, right = resumed_equals_unbroken(False), resumed_equals_unbroken(True)
print(f"DataLoader without generator: resumed == unbroken: {wrong}")
print(f"DataLoader with its own generator: resumed == unbroken: {right}")
assert not wrong and right
