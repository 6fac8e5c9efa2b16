"""Pitfall: a quantized model cannot be cast afterwards; choose the dtype when loading."""
import tempfile

import torch
from transformers import AutoModelForCausalLM, BitsAndBytesConfig, LlamaConfig, LlamaForCausalLM

config = LlamaConfig(vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                     num_attention_heads=4, num_key_value_heads=2)
quant = BitsAndBytesConfig(load_in_8bit=True)
with tempfile.TemporaryDirectory() as tmp:
    LlamaForCausalLM(config).save_pretrained(tmp)
    model = AutoModelForCausalLM.from_pretrained(tmp, quantization_config=quant, device_map="cpu")
    fp32_footprint = model.get_memory_footprint()

    # Wrong: shrink the remaining float32 parts (embeddings, norms, lm_head) after loading.
    for cast in (model.half, lambda: model.to(torch.float16)):
        try:
            cast()
            raise AssertionError("the cast was accepted")
        except ValueError as error:
            # the first sentence; the second says what to do
            print("wrong:", str(error).split(". ")[0] + ".")

    # Right: ask for float16 at load time; the int8 layers are unaffected.
    model = AutoModelForCausalLM.from_pretrained(tmp, quantization_config=quant,
                                                 dtype=torch.float16, device_map="cpu")
print("right:", model.lm_head.weight.dtype, model.model.layers[0].self_attn.q_proj.weight.dtype,
      f"footprint {fp32_footprint:,} -> {model.get_memory_footprint():,} bytes")
with torch.no_grad():  # fp16 activations: what the int8 layers expect
    assert model(torch.randint(0, 256, (1, 8))).logits.dtype == torch.float16
assert model.lm_head.weight.dtype == torch.float16
