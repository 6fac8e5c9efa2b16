"""Pitfall: 8-bit optimizers keep 32-bit state for tensors with fewer than 4096 values."""
import bitsandbytes as bnb
import torch


def state_ratio(model, **kwargs):
    """Bytes of Adam8bit state / bytes of torch.optim.Adam state, after one step."""
    sizes = []
    for optimizer in (torch.optim.Adam(model.parameters()),
                      bnb.optim.Adam8bit(model.parameters(), **kwargs)):
        model(torch.randn(4, model[0].in_features)).sum().backward()
        optimizer.step()
        # Unique tensors: every 8-bit state points to the same two 256-value code books.
        state = {t.data_ptr(): t for s in optimizer.state.values() for t in s.values()
                 if torch.is_tensor(t)}
        sizes.append(sum(t.numel() * t.element_size() for t in state.values()))
    return sizes[1] / sizes[0]


torch.manual_seed(0)
small = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.Linear(64, 32))  # 2,048 weights each
large = torch.nn.Sequential(torch.nn.Linear(256, 512), torch.nn.Linear(512, 256))

# Wrong: expect a 4x smaller state from any model. Small tensors stay in float32 on purpose
# (min_8bit_size=4096): they cost little, and 8-bit states are less accurate for them.
wrong = state_ratio(small)
print(f"wrong: small layers, state ratio {wrong:.2f}")
# Right: measure on layers of a realistic size (or lower min_8bit_size knowingly).
right = state_ratio(large)
print(f"right: large layers, state ratio {right:.2f}")
print(f"small layers with min_8bit_size=0: {state_ratio(small, min_8bit_size=0):.2f}")
assert wrong > 0.9 and right < 0.3
