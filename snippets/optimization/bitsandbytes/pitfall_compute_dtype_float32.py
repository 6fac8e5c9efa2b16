"""Pitfall: a bf16 model loaded in 4 bits still computes in float32, because
bnb_4bit_compute_dtype defaults to torch.float32 (bitsandbytes-foundation/bitsandbytes#2077)."""
import tempfile

import bitsandbytes as bnb
import torch
from transformers import AutoModelForCausalLM, BitsAndBytesConfig, LlamaConfig, LlamaForCausalLM

config = LlamaConfig(vocab_size=256, hidden_size=256, intermediate_size=512, num_hidden_layers=1,
                     num_attention_heads=4, num_key_value_heads=2)
seen = []  # the dtype of the activations that reach the 4-bit matrix product
original_matmul_4bit = bnb.matmul_4bit


def recording_matmul_4bit(A, B, *args, **kwargs):
    seen.append(A.dtype)
    return original_matmul_4bit(A, B, *args, **kwargs)


torch.manual_seed(0)
with tempfile.TemporaryDirectory() as tmp:
    LlamaForCausalLM(config).save_pretrained(tmp)
    bnb.matmul_4bit = recording_matmul_4bit  # Linear4bit.forward calls bnb.matmul_4bit
    try:
        for name, extra in [("wrong", {}), ("right", {"bnb_4bit_compute_dtype": torch.bfloat16})]:
            quantization_config = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                                     **extra)
            model = AutoModelForCausalLM.from_pretrained(
                tmp, quantization_config=quantization_config, dtype=torch.bfloat16,
                device_map="cpu")
            seen.clear()
            with torch.no_grad():
                logits = model(input_ids=torch.tensor([[1, 2, 3]])).logits
            layer = model.model.layers[0].mlp.up_proj
            print(f"{name}: model in {logits.dtype}, {type(layer).__name__}.compute_dtype "
                  f"{layer.compute_dtype}, 4-bit matmuls ran in {sorted(set(map(str, seen)))}")
    finally:
        bnb.matmul_4bit = original_matmul_4bit
assert seen and set(seen) == {torch.bfloat16}
