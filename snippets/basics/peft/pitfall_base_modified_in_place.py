"""get_peft_model changes the model you pass in: that variable is no longer the base model."""
import torch
from peft import LoraConfig, get_peft_model
from peft.tuners.lora import LoraLayer
from transformers import LlamaConfig, LlamaForCausalLM

torch.manual_seed(0)
cfg = LlamaConfig(vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2)
base = LlamaForCausalLM(cfg).eval()
x = torch.randint(0, 128, (2, 10))
with torch.no_grad():
    original = base(x).logits

# init_lora_weights=False stands in for a trained adapter (non-zero B).
lora = LoraConfig(r=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
model = get_peft_model(base, lora).eval()

# WRONG: keep using `base` as the "before fine-tuning" reference. Its q_proj/v_proj were
# swapped for LoRA layers in place, so it now runs the adapter too.
q = base.model.layers[0].self_attn.q_proj
print("base.model.layers[0].self_attn.q_proj is now:", type(q).__module__ + "." + type(q).__name__)
assert isinstance(q, LoraLayer)
with torch.no_grad():
    assert torch.equal(base(x).logits, model(x).logits)
    assert not torch.allclose(base(x).logits, original)

# RIGHT: ask the PEFT model for the base behaviour; the adapter is bypassed in this block.
with torch.no_grad(), model.disable_adapter():
    assert torch.equal(model(x).logits, original)
print("disable_adapter() reproduces the original logits")

# Same trap, stronger: merge_and_unload() writes B@A into the shared weights for good.
merged = model.merge_and_unload()
assert merged is base  # the very same object, now with merged weights
with torch.no_grad():
    assert not torch.allclose(base(x).logits, original)
print("after merge_and_unload, `base` carries the adapter permanently")
