"""Several adapters in one batch: adapter_names= routes each row through its own adapter."""
import torch
from peft import LoraConfig, get_peft_model
from transformers import LlamaConfig, LlamaForCausalLM

torch.manual_seed(0)
cfg = LlamaConfig(vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2)
lora = LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
model = get_peft_model(LlamaForCausalLM(cfg), lora, adapter_name="sql")
model.add_adapter("chat", lora)     # a second random adapter on the same layers
model.eval()
x = torch.randint(0, 128, (3, 8))
rows = ["sql", "chat", "__base__"]  # "__base__" = this row runs the base model, no adapter

with torch.no_grad():
    mixed = model(input_ids=x, adapter_names=rows).logits
    alone = []
    for i, name in enumerate(rows):  # reference: one row at a time, one adapter at a time
        if name == "__base__":
            with model.disable_adapter():
                alone.append(model(input_ids=x[i:i + 1]).logits)
        else:
            model.set_adapter(name, inference_mode=True)
            alone.append(model(input_ids=x[i:i + 1]).logits)
err = (mixed - torch.cat(alone)).abs().max().item()
print("rows:", rows, "| max |mixed - each alone| < 1e-5:", err < 1e-5)
assert err < 1e-5

# generate() takes the same argument: three continuations, each with its own adapter.
mask = torch.ones_like(x)           # no padding here; say so, or generate() warns
gen = model.generate(input_ids=x, attention_mask=mask, adapter_names=rows, max_new_tokens=4,
                     do_sample=False)
for i, name in enumerate(rows):
    if name == "__base__":
        with model.disable_adapter():
            ref = model.generate(input_ids=x[i:i + 1], attention_mask=mask[i:i + 1],
                                 max_new_tokens=4, do_sample=False)
    else:
        model.set_adapter(name, inference_mode=True)
        ref = model.generate(input_ids=x[i:i + 1], attention_mask=mask[i:i + 1],
                             max_new_tokens=4, do_sample=False)
    print(f"{name:9} generated row equals the adapter alone: {torch.equal(gen[i], ref[0])}")
    assert torch.equal(gen[i], ref[0])
