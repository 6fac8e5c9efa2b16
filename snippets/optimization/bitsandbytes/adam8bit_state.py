"""8-bit Adam: the two moment buffers stored block-wise in 8 bits,
about 1/4 of torch's Adam state."""
import bitsandbytes as bnb
import torch
from transformers import LlamaConfig, LlamaForCausalLM

config = LlamaConfig(vocab_size=256, hidden_size=128, intermediate_size=256, num_hidden_layers=2,
                     num_attention_heads=4, num_key_value_heads=2)
batch = torch.randint(0, 256, (8, 32), generator=torch.Generator().manual_seed(1))


def train(optimizer_class, steps=20):
    torch.manual_seed(0)  # the same initial weights for both optimizers
    model = LlamaForCausalLM(config)
    optimizer = optimizer_class(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(steps):
        loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    # Unique tensors: every 8-bit state points to the same two 256-value code books (qmap1/2).
    state = {t.data_ptr(): t for s in optimizer.state.values() for t in s.values()
             if torch.is_tensor(t)}
    dtypes = sorted({str(t.dtype).removeprefix("torch.") for t in state.values()})
    return losses, sum(t.numel() * t.element_size() for t in state.values()), dtypes


results = {"torch.optim.Adam": train(torch.optim.Adam),
           "bnb.optim.Adam8bit": train(bnb.optim.Adam8bit)}
for name, (losses, state_bytes, dtypes) in results.items():
    print(f"{name:<19} loss {losses[0]:.3f} -> {losses[-1]:.3f}, "
          f"state {state_bytes:>9,} bytes {dtypes}")
    assert losses[-1] < losses[0] / 2
ratio = results["bnb.optim.Adam8bit"][1] / results["torch.optim.Adam"][1]
print(f"state memory 8-bit / 32-bit = {ratio:.3f}")
# 1 byte instead of 4 per value, plus one float32 absmax per block of 256; tensors with fewer than
# 4096 values (the norms here) keep 32-bit state, see the pitfall below.
assert ratio < 0.3
