"""Trainable parameters of LoRA = sum over adapted layers of r * (d_in + d_out)."""
import torch
from peft import LoraConfig, get_peft_model
from transformers import LlamaConfig, LlamaForCausalLM

torch.manual_seed(0)
cfg = LlamaConfig(vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2)
base = LlamaForCausalLM(cfg)
n_base = sum(p.numel() for p in base.parameters())
r = 8
model = get_peft_model(base, LoraConfig(r=r, lora_alpha=16, target_modules=["q_proj", "v_proj"]))

model.print_trainable_parameters()  # one line: trainable, all, trainable%
trainable, total = model.get_nb_trainable_parameters()

# Hand count. q_proj maps 64 -> 4 heads * 16 = 64; v_proj maps 64 -> 2 KV heads * 16 = 32
# (grouped-query attention makes v_proj narrower). A is (r, d_in) and B is (d_out, r).
head_dim = cfg.hidden_size // cfg.num_attention_heads
per_layer = r * (64 + 64) + r * (64 + cfg.num_key_value_heads * head_dim)
by_hand = cfg.num_hidden_layers * per_layer
print(f"by hand: {cfg.num_hidden_layers} layers x {per_layer} = {by_hand}")
assert trainable == by_hand == 3584
# "all params" counts the frozen base too, and the base itself is unchanged in size.
assert total == n_base + trainable
print(f"ratio: {trainable / total:.2%} of {total} parameters")
# Fully training q_proj and v_proj in both layers instead: 2 * (64*64 + 64*32) = 12288 weights.
assert trainable < 2 * (64 * 64 + 64 * 32)
