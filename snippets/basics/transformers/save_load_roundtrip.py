"""save_pretrained -> from_pretrained on a local folder gives back the same model."""
import os
import tempfile

import torch
from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM

torch.manual_seed(0)
cfg = LlamaConfig(vocab_size=512, hidden_size=64, intermediate_size=128,
                  num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2)
model = LlamaForCausalLM(cfg).eval()
ids = torch.randint(0, cfg.vocab_size, (2, 12))

with tempfile.TemporaryDirectory() as tmp:
    model.save_pretrained(tmp)
    files = sorted(os.listdir(tmp))
    print(files)
    # The Auto class reads config.json ("model_type": "llama") to pick LlamaForCausalLM.
    loaded = AutoModelForCausalLM.from_pretrained(tmp)

assert files == ["config.json", "generation_config.json", "model.safetensors"]
assert type(loaded) is LlamaForCausalLM
assert not loaded.training  # from_pretrained switches the model to eval mode for you

with torch.no_grad():
    a = model(ids).logits
    b = loaded(ids).logits
print("max |diff|:", (a - b).abs().max().item())
assert torch.equal(a, b)  # bit-identical: same weights, same dtype, same kernels

# dtype defaults to "auto" in transformers 5: a model comes back in the dtype it was saved in
# (version 4 loaded float32 unless told otherwise). Pass dtype= to choose explicitly.
with tempfile.TemporaryDirectory() as tmp:
    model.to(torch.bfloat16).save_pretrained(tmp)
    assert AutoModelForCausalLM.from_pretrained(tmp).dtype == torch.bfloat16
    assert AutoModelForCausalLM.from_pretrained(tmp, dtype=torch.float32).dtype == torch.float32
