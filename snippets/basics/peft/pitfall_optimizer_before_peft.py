"""Build the optimizer AFTER get_peft_model, or it never sees the LoRA weights."""
import torch
from peft import LoraConfig, get_peft_model
from transformers import LlamaConfig, LlamaForCausalLM

cfg = LlamaConfig(vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, initializer_range=0.2)
lora = LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"])
torch.manual_seed(0)
batch = torch.randint(0, 128, (4, 16))


def train(optimizer_first):
    torch.manual_seed(0)
    model = LlamaForCausalLM(cfg)
    if optimizer_first:  # WRONG: these are the base weights, about to be frozen
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    model = get_peft_model(model, lora)
    if not optimizer_first:  # RIGHT: the parameters that require grad *now*, i.e. A and B
        optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    model.train()
    losses = []
    for _ in range(10):
        loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        optimizer.step()  # AdamW skips params whose .grad is None: all of them, in the wrong case
        optimizer.zero_grad()
        losses.append(loss.item())
    B = model.base_model.model.model.layers[0].self_attn.q_proj.lora_B["default"].weight
    return losses, B.abs().sum().item()


losses, b_sum = train(optimizer_first=True)
print(f"wrong: loss {losses[0]:.3f} -> {losses[-1]:.3f}, sum|B| = {b_sum}")
# B is still all zeros, so the model IS the base model: the loss does not move at all.
assert b_sum == 0 and losses[0] == losses[-1]

losses, b_sum = train(optimizer_first=False)
print(f"right: loss {losses[0]:.3f} -> {losses[-1]:.3f}, sum|B| = {b_sum:.1f}")
assert b_sum > 0 and losses[-1] < losses[0] - 0.5
