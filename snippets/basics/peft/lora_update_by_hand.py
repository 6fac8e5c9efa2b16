"""LoRA's update W x + (alpha/r) * B A x, computed by hand and checked against PEFT."""
import torch
from peft import LoraConfig, get_peft_model
from transformers import LlamaConfig, LlamaForCausalLM

torch.manual_seed(0)
cfg = LlamaConfig(vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2)
model = get_peft_model(LlamaForCausalLM(cfg),
                       LoraConfig(r=4, lora_alpha=16, target_modules=["q_proj", "v_proj"]))

layer = model.base_model.model.model.layers[0].self_attn.q_proj  # a lora.Linear wrapper
A = layer.lora_A["default"].weight  # (r, d_in)  = (4, 64), random (Kaiming-uniform)
B = layer.lora_B["default"].weight  # (d_out, r) = (64, 4), zeros at init
W = layer.base_layer.weight         # (d_out, d_in), frozen
assert torch.all(B == 0)  # so, before training, the adapter changes nothing

# Pretend a few training steps happened: give B some non-zero values.
with torch.no_grad():
    B.normal_(std=0.02)

x = torch.randn(3, 64)
scaling = 16 / 4  # lora_alpha / r
by_hand = x @ W.T + scaling * (x @ A.T @ B.T)  # W x + (alpha/r) B A x, on a batch of rows
with torch.no_grad():
    actual = layer(x)

print("scaling stored by PEFT:", layer.scaling["default"])
print("max |by_hand - actual|:", (by_hand - actual).abs().max().item())
assert layer.scaling["default"] == scaling
assert torch.allclose(by_hand, actual, atol=1e-6)
# The same update as a single weight matrix: delta_W = (alpha/r) * B @ A, rank <= r.
delta_W = layer.get_delta_weight("default")
assert torch.allclose(delta_W, scaling * B @ A, atol=1e-7)
print("rank of delta_W:", torch.linalg.matrix_rank(delta_W).item(), "shape:", tuple(delta_W.shape))
assert torch.linalg.matrix_rank(delta_W).item() == 4
