# pytest: gpu, needs-transformers, needs-gptqmodel
"""AWQ with a maintained tool: GPT-QModel's AWQConfig quantizes the tiny Llama on CUDA, saves an
AWQ (GEMM format) checkpoint, and transformers loads it back through GPT-QModel."""
# --8<-- [start:code]
import json
import os
import tempfile

os.environ.setdefault("GPTQMODEL_DISABLE_PACK_EXT", "1")  # packing runs on the CPU: no C++ build

import torch
from gptqmodel import AWQConfig, GPTQModel
from transformers import AutoModelForCausalLM

from _tiny_llama import calibration_texts, make_model, make_tokenizer

tokenizer = make_tokenizer()
with tempfile.TemporaryDirectory() as folder:
    make_model(hidden_size=256).save_pretrained(f"{folder}/fp32")
    tokenizer.save_pretrained(f"{folder}/fp32")
    # AWQ's scale search needs the calibration activations of each layer: 4 bits, groups of 128.
    model = GPTQModel.load(f"{folder}/fp32", AWQConfig(bits=4, group_size=128), device="cuda")
    model.quantize(calibration_texts(), tokenizer=tokenizer)
    model.save(f"{folder}/awq")
    with open(f"{folder}/awq/config.json") as f:
        saved = json.load(f)["quantization_config"]
    loaded = AutoModelForCausalLM.from_pretrained(f"{folder}/awq", dtype=torch.float16,
                                                  device_map="cuda")
    reference = AutoModelForCausalLM.from_pretrained(f"{folder}/fp32", dtype=torch.float16,
                                                     device_map="cuda")

up_proj = loaded.model.layers[0].mlp.up_proj
print({key: saved.get(key) for key in ["quant_method", "bits", "group_size", "format"]})
print(type(up_proj).__name__, sorted(name for name, _ in up_proj.named_buffers()))
prompt = tokenizer("The assert statement", return_tensors="pt").to("cuda")
with torch.no_grad():
    ref, out = reference(**prompt).logits, loaded(**prompt).logits
rel = ((out - ref).norm() / ref.norm()).item()
print(f"relative logit difference, AWQ 4-bit against fp16: {rel:.3f}")
assert rel < 0.5
# --8<-- [end:code]
