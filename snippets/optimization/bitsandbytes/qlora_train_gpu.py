# pytest: gpu, needs-transformers, needs-peft, needs-bitsandbytes
# --8<-- [start:code]
"""QLoRA on a GPU: NF4 + double quantization + bf16 compute, LoRA adapters,
a paged 8-bit optimizer."""
import tempfile

import bitsandbytes as bnb
import torch
from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training
from transformers import AutoModelForCausalLM, BitsAndBytesConfig, LlamaConfig, LlamaForCausalLM

torch.manual_seed(0)
config = LlamaConfig(vocab_size=2048, hidden_size=512, intermediate_size=1376, num_hidden_layers=4,
                     num_attention_heads=8, num_key_value_heads=4)
quant = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                           bnb_4bit_use_double_quant=True,
                           bnb_4bit_compute_dtype=torch.bfloat16)
with tempfile.TemporaryDirectory() as tmp:
    LlamaForCausalLM(config).save_pretrained(tmp)
    # Quantization happens while the weights are moved to the GPU: the whole model goes to GPU 0.
    model = AutoModelForCausalLM.from_pretrained(tmp, quantization_config=quant,
                                                 dtype=torch.bfloat16, device_map={"": 0})
assert isinstance(model.model.layers[0].mlp.up_proj, bnb.nn.Linear4bit)
print(f"4-bit model: {model.get_memory_footprint() / 1e6:.1f} MB")

model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
model.activation_checkpointing_enable()  # transformers' current API (non-reentrant by default)
model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, target_modules="all-linear"))
model.print_trainable_parameters()

# QLoRA's paged optimizer: state pages move to CPU RAM under memory pressure (CUDA unified memory).
optimizer = bnb.optim.PagedAdamW8bit([p for p in model.parameters() if p.requires_grad], lr=2e-3)
batch = torch.randint(0, 2048, (8, 128), device="cuda")
model.train()
torch.cuda.reset_peak_memory_stats()
losses = []
for step in range(20):
    loss = model(input_ids=batch, labels=batch).loss
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    losses.append(loss.item())
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}, peak GPU memory "
      f"{torch.cuda.max_memory_allocated() / 1e6:.0f} MB")
assert losses[-1] < losses[0] - 0.5
# --8<-- [end:code]
