"""LoRA+: the same optimizer, but B learns loraplus_lr_ratio times faster than A."""
import torch
from peft import LoraConfig, get_peft_model
from peft.optimizers import create_loraplus_optimizer
from transformers import LlamaConfig, LlamaForCausalLM

torch.manual_seed(0)
cfg = LlamaConfig(vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2)
model = get_peft_model(LlamaForCausalLM(cfg), LoraConfig(r=8, target_modules="all-linear"))
opt = create_loraplus_optimizer(model, torch.optim.AdamW, lr=1e-4, loraplus_lr_ratio=16,
                                weight_decay=0.0)

# Which group holds which parameters: map each tensor back to its name.
names = {id(p): n for n, p in model.named_parameters()}
for group in opt.param_groups:
    kinds = {"lora_B" if "lora_B" in names[id(p)] else "lora_A" for p in group["params"]}
    if group["params"]:
        print(f"lr={group['lr']:.1e} tensors={len(group['params']):2} {sorted(kinds)}")
lr_of = {names[id(p)].split(".")[-3]: g["lr"] for g in opt.param_groups for p in g["params"]}
assert lr_of["lora_A"] == 1e-4 and lr_of["lora_B"] == 16 * 1e-4

x = torch.randint(0, 128, (2, 12))
model(input_ids=x, labels=x).loss.backward()
opt.step()  # an ordinary AdamW step, just with two learning rates
