"""Greedy generate() through ONNX Runtime gives the same tokens as PyTorch, also after a reload."""
import os
import tempfile

import torch
from optimum.onnxruntime import ORTModelForCausalLM
from transformers import LlamaConfig, LlamaForCausalLM

torch.manual_seed(0)
config = LlamaConfig(vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                     num_attention_heads=4, num_key_value_heads=2)
model = LlamaForCausalLM(config).eval()
prompt = torch.randint(3, 128, (2, 6))  # ids 0-2 are the config's pad/bos/eos
gen = dict(attention_mask=torch.ones_like(prompt), max_new_tokens=20, do_sample=False,
           pad_token_id=config.eos_token_id)

with tempfile.TemporaryDirectory() as tmp:
    model.save_pretrained(os.path.join(tmp, "pt"))
    exported = ORTModelForCausalLM.from_pretrained(os.path.join(tmp, "pt"), export=True)
    # model.onnx + config.json + generation_config.json
    exported.save_pretrained(os.path.join(tmp, "onnx"))
    print("saved:", sorted(os.listdir(os.path.join(tmp, "onnx"))))
    # Loading a folder that already holds model.onnx needs no export and no PyTorch weights.
    ort_model = ORTModelForCausalLM.from_pretrained(os.path.join(tmp, "onnx"))

    with torch.no_grad():
        expected = model.generate(prompt, **gen)
    got = ort_model.generate(prompt, **gen)  # the same GenerationMixin loop, ORT does the forwards

print("PyTorch:", expected[0, 6:].tolist())
print("ORT    :", got[0, 6:].tolist())
assert torch.equal(got, expected)
print("greedy tokens identical for both prompts:", torch.equal(got, expected))
