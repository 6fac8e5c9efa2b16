# pytest: gpu, needs-transformers, needs-peft, needs-bitsandbytes
# --8<-- [start:code]
"""QLoRA: a frozen 4-bit NF4 base, LoRA adapters in higher precision on top, one training step."""
import tempfile

import bitsandbytes as bnb
import torch
from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training
from transformers import AutoModelForCausalLM, BitsAndBytesConfig, LlamaConfig, LlamaForCausalLM

torch.manual_seed(0)
cfg = LlamaConfig(vocab_size=256, hidden_size=256, intermediate_size=512, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2)
quant = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                           bnb_4bit_compute_dtype=torch.bfloat16)  # dequantize to bf16 for matmuls
with tempfile.TemporaryDirectory() as tmp:
    LlamaForCausalLM(cfg).save_pretrained(tmp)  # stands in for a downloaded checkpoint
    fp32_bytes = LlamaForCausalLM.from_pretrained(tmp).get_memory_footprint()
    # Weights are quantized while loading, so device_map must put the model on the GPU.
    model = AutoModelForCausalLM.from_pretrained(tmp, quantization_config=quant,
                                                 device_map={"": 0})
assert model.is_loaded_in_4bit
assert isinstance(model.model.layers[0].self_attn.q_proj, bnb.nn.Linear4bit)
q4_bytes = model.get_memory_footprint()
print(f"memory: fp32 {fp32_bytes:,} bytes -> 4-bit {q4_bytes:,} bytes")
assert q4_bytes < fp32_bytes / 2

# Freezes every base weight and upcasts the remaining fp16/bf16 ones (norms, lm_head) to fp32.
# Activation checkpointing is switched on separately through transformers' current API.
model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
model.activation_checkpointing_enable()
model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules="all-linear"))
model.print_trainable_parameters()
lora_B = model.base_model.model.model.layers[0].self_attn.q_proj.lora_B["default"].weight
assert lora_B.dtype == torch.float32  # adapters train in fp32; only the base is 4-bit

optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
model.train()
batch = torch.randint(0, 256, (4, 32), device="cuda")
loss = model(input_ids=batch, labels=batch).loss
loss.backward()
optimizer.step()
print("loss:", loss.item())
assert torch.isfinite(loss)
assert lora_B.abs().sum() > 0  # B is no longer zero: the step reached the adapter
# --8<-- [end:code]
