# --8<-- [start:code]
"""gradient_accumulation_steps without `accelerator.accumulate`: N times more steps, each / N."""
import torch
from accelerate import Accelerator

N, MICRO = 4, 8  # accumulate 4 micro-batches; 8 micro-batches = 2 intended optimizer steps
data = [torch.randn(2, 4, generator=torch.Generator().manual_seed(i)) for i in range(MICRO)]


def train(use_context):
    """Returns how many times the optimizer really stepped and the final weight."""
    accelerator = Accelerator(cpu=True, gradient_accumulation_steps=N)
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model, optimizer = accelerator.prepare(model, optimizer)
    steps = 0
    for x in data:
        if use_context:
            with accelerator.accumulate(model):  # RIGHT: decides when to sync and step
                accelerator.backward(model(x).square().mean())  # divides the loss by N
                optimizer.step()  # a no-op until the N-th micro-batch
                steps += accelerator.sync_gradients
                optimizer.zero_grad()
        else:  # WRONG: backward still divides by N, but every step() is real
            accelerator.backward(model(x).square().mean())
            optimizer.step()
            steps += accelerator.sync_gradients
            optimizer.zero_grad()
    return steps, model.weight.detach().clone()


def reference():
    """Plain PyTorch: mean gradient of N micro-batches, then one SGD step."""
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for i, x in enumerate(data):
        (model(x).square().mean() / N).backward()
        if (i + 1) % N == 0:
            optimizer.step()
            optimizer.zero_grad()
    return model.weight.detach()


expected = reference()
for use_context in (False, True):
    steps, weight = train(use_context)
    same = torch.allclose(weight, expected, atol=1e-6)
    label = "RIGHT, with accumulate()" if use_context else "WRONG, no accumulate()"
    print(f"{label}: {steps} optimizer steps for {MICRO} micro-batches, matches PyTorch: {same}")
    assert same == use_context and steps == (MICRO // N if use_context else MICRO)
# --8<-- [end:code]
