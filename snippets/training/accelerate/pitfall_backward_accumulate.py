"""loss.backward() inside accelerator.accumulate: the accumulated gradient is 4x too large."""
import torch
from accelerate import Accelerator
from torch.utils.data import DataLoader, TensorDataset

ACCUM = 4


def one_step(use_accelerator_backward):
    """One optimizer step made of 4 micro-batches of 4 samples;
    returns the change of the weights."""
    accelerator = Accelerator(cpu=True, gradient_accumulation_steps=ACCUM)
    torch.manual_seed(0)
    model = torch.nn.Linear(8, 1)
    start = model.weight.detach().clone()
    data = DataLoader(TensorDataset(torch.randn(16, 8), torch.randn(16, 1)), batch_size=4)
    # plain SGD: the update is lr * gradient
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model, optimizer, data = accelerator.prepare(model, optimizer, data)
    for x, y in data:
        with accelerator.accumulate(model):
            loss = torch.nn.functional.mse_loss(model(x), y)
            if use_accelerator_backward:
                accelerator.backward(loss)  # RIGHT: divides the loss by ACCUM first
            else:
                loss.backward()  # WRONG: sums 4 micro-batch means instead of averaging them
            optimizer.step()
            optimizer.zero_grad()
    return model.weight.detach() - start


torch.manual_seed(0)
reference = torch.nn.Linear(8, 1)  # the same step taken on one batch of 16
x, y = torch.randn(16, 8), torch.randn(16, 1)
torch.nn.functional.mse_loss(reference(x), y).backward()
big_batch = -0.1 * reference.weight.grad

wrong, right = one_step(False), one_step(True)
print(f"loss.backward():        update / big-batch update = "
      f"{(wrong / big_batch).mean().item():.3f}")
print(f"accelerator.backward(): update / big-batch update = "
      f"{(right / big_batch).mean().item():.3f}")
assert torch.allclose(wrong, ACCUM * big_batch, atol=1e-6)
assert torch.allclose(right, big_batch, atol=1e-7)
