"""One model, two attention implementations in transformers:
"sdpa" (the default) and "eager" agree."""
import torch
from transformers import AutoModelForCausalLM, LlamaConfig

torch.manual_seed(0)
config = LlamaConfig(vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                     num_attention_heads=4, num_key_value_heads=2)
# from_config and from_pretrained both take attn_implementation=...; here we keep the default.
model = AutoModelForCausalLM.from_config(config).eval()
print("chosen when not asked:", model.config._attn_implementation)

input_ids = torch.randint(3, 128, (2, 24))
attention_mask = torch.ones_like(input_ids)
attention_mask[1, :5] = 0  # the second row is left-padded: a real mask, not just "causal"
logits = {}
for impl in ("sdpa", "eager"):
    model.set_attn_implementation(impl)  # swaps the attention function of every layer, same weights
    with torch.no_grad():
        logits[impl] = model(input_ids=input_ids, attention_mask=attention_mask).logits
    print(f"{impl:<6} -> config._attn_implementation = {model.config._attn_implementation!r}")

# compare real tokens only: the outputs at padded positions are never used
real = attention_mask.bool()
diff = (logits["eager"] - logits["sdpa"])[real].abs().max().item()
print(f"max |eager - sdpa| over real tokens < 1e-5: {diff < 1e-5}")  # float32 rounding, about 1e-7
assert diff < 1e-5
