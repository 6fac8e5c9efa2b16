"""Pitfall: `load_in_8bit=True` as a from_pretrained argument is gone in transformers 5."""
import tempfile

import bitsandbytes as bnb
from transformers import AutoModelForCausalLM, BitsAndBytesConfig, LlamaConfig, LlamaForCausalLM

config = LlamaConfig(vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                     num_attention_heads=4, num_key_value_heads=2)
with tempfile.TemporaryDirectory() as tmp:
    LlamaForCausalLM(config).save_pretrained(tmp)

    # Wrong: the old shortcut. Unknown keywords go on to the model class, which rejects it.
    try:
        AutoModelForCausalLM.from_pretrained(tmp, load_in_8bit=True, device_map="cpu")
        raise AssertionError("load_in_8bit= was accepted")
    except TypeError as error:
        print("wrong:", error)

    # Right: the flags live in a BitsAndBytesConfig, passed as quantization_config.
    model = AutoModelForCausalLM.from_pretrained(
        tmp, quantization_config=BitsAndBytesConfig(load_in_8bit=True), device_map="cpu")
print("right:", type(model.model.layers[0].self_attn.q_proj).__name__, model.is_loaded_in_8bit)
assert isinstance(model.model.layers[0].self_attn.q_proj, bnb.nn.Linear8bitLt)
