"""QLoRA on the CPU: a frozen NF4 base, LoRA adapters in fp32,
gradients through the 4-bit layers."""
import tempfile

import torch
from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training
from transformers import AutoModelForCausalLM, BitsAndBytesConfig, LlamaConfig, LlamaForCausalLM

torch.manual_seed(0)
config = LlamaConfig(vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                     num_attention_heads=4, num_key_value_heads=2)
quant = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                           bnb_4bit_use_double_quant=True,
                           bnb_4bit_compute_dtype=torch.bfloat16)  # the QLoRA recipe
with tempfile.TemporaryDirectory() as tmp:
    LlamaForCausalLM(config).save_pretrained(tmp)
    model = AutoModelForCausalLM.from_pretrained(tmp, quantization_config=quant, device_map="cpu")

# Freezes the base and upcasts any 16-bit non-quantized weights to fp32. Activation checkpointing
# is switched on with transformers' current API (peft's default path calls a deprecated one).
model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
model.activation_checkpointing_enable()
model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules="all-linear"))
q_proj = model.base_model.model.model.layers[0].self_attn.q_proj
packed_before = q_proj.base_layer.weight.detach().clone()
print("base:", q_proj.base_layer.weight.dtype, "| adapter:", q_proj.lora_A["default"].weight.dtype)

optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=3e-3)
batch = torch.randint(0, 256, (4, 32))
model.train()
losses = []
for step in range(20):
    loss = model(input_ids=batch, labels=batch).loss
    loss.backward()  # flows through dequantized NF4 weights into the LoRA A and B matrices
    optimizer.step()
    optimizer.zero_grad()
    losses.append(loss.item())
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}")
assert losses[-1] < losses[0] - 0.3
assert torch.equal(q_proj.base_layer.weight, packed_before)  # the 4-bit base never changes
