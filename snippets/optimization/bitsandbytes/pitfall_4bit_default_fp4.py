"""Pitfall: `load_in_4bit=True` alone gives FP4 without double quantization, not QLoRA's NF4."""
import tempfile

import torch
from bitsandbytes.functional import dequantize_4bit
from transformers import AutoModelForCausalLM, BitsAndBytesConfig, LlamaConfig, LlamaForCausalLM

config = LlamaConfig(vocab_size=256, hidden_size=256, intermediate_size=512, num_hidden_layers=1,
                     num_attention_heads=4, num_key_value_heads=2)
configs = {
    "wrong": BitsAndBytesConfig(load_in_4bit=True),  # defaults: fp4, no double quant
    "right": BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                bnb_4bit_use_double_quant=True),
}
torch.manual_seed(0)
with tempfile.TemporaryDirectory() as tmp:
    LlamaForCausalLM(config).save_pretrained(tmp)
    original = LlamaForCausalLM.from_pretrained(tmp).model.layers[0].mlp.up_proj.weight
    errors = {}
    for name, quantization_config in configs.items():
        model = AutoModelForCausalLM.from_pretrained(tmp, quantization_config=quantization_config,
                                                     device_map="cpu")
        weight = model.model.layers[0].mlp.up_proj.weight  # a Params4bit
        restored = dequantize_4bit(weight.data, weight.quant_state)
        errors[name] = ((restored - original).norm() / original.norm()).item()
        print(f"{name}: {weight.quant_state.quant_type}, double quant {weight.quant_state.nested}, "
              f"weight error {errors[name]:.2%}")
assert (configs["wrong"].bnb_4bit_quant_type == "fp4"
        and not configs["wrong"].bnb_4bit_use_double_quant)
assert errors["right"] < errors["wrong"]
