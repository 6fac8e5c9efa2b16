"""A plain PyTorch training loop on a LoRA model: loss drops, the base weights do not move."""
import torch
from peft import LoraConfig, get_peft_model
from pydoc_data.topics import topics
from transformers import LlamaConfig, LlamaForCausalLM

torch.manual_seed(0)
# Byte-level "tokenizer": each UTF-8 byte is a token id, so vocab_size=256.
text = "".join(topics[k] for k in ("for", "while", "if", "try"))  # ~11 KB of the Python manual
data = torch.tensor(list(text.encode("utf-8")))
# initializer_range=0.2 (default 0.02): with the final norm and lm_head frozen, a tiny random base
# at the default scale can only emit near-uniform logits, and LoRA alone could not fix that.
cfg = LlamaConfig(vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, initializer_range=0.2)
# "all-linear" = every nn.Linear in the blocks (q,k,v,o,gate,up,down), never the lm_head.
model = get_peft_model(LlamaForCausalLM(cfg),
                       LoraConfig(r=8, lora_alpha=16, target_modules="all-linear"))
frozen_before = model.base_model.model.model.layers[0].mlp.up_proj.base_layer.weight.clone()

# Build the optimizer AFTER get_peft_model, from the parameters that still require grad.
optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
model.train()
losses = []
for step in range(30):
    starts = torch.randint(0, len(data) - 65, (8,))
    batch = torch.stack([data[s:s + 64] for s in starts])
    loss = model(input_ids=batch, labels=batch).loss  # labels are shifted inside the model
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    losses.append(loss.item())

first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
print(f"mean loss, first 5 steps: {first:.3f}   last 5 steps: {last:.3f}")
assert last < first - 1.0
after = model.base_model.model.model.layers[0].mlp.up_proj.base_layer.weight
assert torch.equal(frozen_before, after)  # only A and B were trained
