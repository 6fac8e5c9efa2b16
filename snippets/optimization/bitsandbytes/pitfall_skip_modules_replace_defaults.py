"""Pitfall: llm_int8_skip_modules replaces the default skip list, so lm_head gets quantized too."""
import tempfile

import bitsandbytes as bnb
import torch
from transformers import AutoModelForCausalLM, BitsAndBytesConfig, LlamaConfig, LlamaForCausalLM

config = LlamaConfig(vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                     num_attention_heads=4, num_key_value_heads=2)
torch.manual_seed(0)
x = torch.randint(0, 256, (2, 16))
with tempfile.TemporaryDirectory() as tmp:
    LlamaForCausalLM(config).save_pretrained(tmp)
    with torch.no_grad():
        reference = AutoModelForCausalLM.from_pretrained(tmp, device_map="cpu")(x).logits
    models = {}
    # Wrong: keep the last MLP projection in full precision, and nothing else is said. The
    # list replaces transformers' default one (the output layer), so lm_head becomes 4-bit.
    # Right: name the output layer as well.
    for name, skip in (("wrong", ["down_proj"]), ("right", ["down_proj", "lm_head"])):
        quant = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                   llm_int8_skip_modules=skip)
        models[name] = AutoModelForCausalLM.from_pretrained(tmp, quantization_config=quant,
                                                            device_map="cpu")

errors = {}
for name, model in models.items():
    with torch.no_grad():
        error = errors[name] = ((model(x).logits - reference).norm() / reference.norm()).item()
    print(f"{name}: skip {model.config.quantization_config.llm_int8_skip_modules}, "
          f"lm_head {type(model.lm_head).__name__}, down_proj "
          f"{type(model.model.layers[0].mlp.down_proj).__name__}, logits error {error:.1%}")
assert isinstance(models["wrong"].lm_head, bnb.nn.Linear4bit)
assert type(models["right"].lm_head) is torch.nn.Linear
assert errors["wrong"] > errors["right"]  # a 4-bit output layer adds its own error to every logit
