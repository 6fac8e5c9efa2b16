"""Load a (tiny) Llama checkpoint in 8-bit and in NF4 with BitsAndBytesConfig, on the CPU."""
import logging
import tempfile

import bitsandbytes as bnb
import torch
from transformers import AutoModelForCausalLM, BitsAndBytesConfig, LlamaConfig, LlamaForCausalLM

# The int8 layers log "inputs will be cast from float32 to float16" at every call: LLM.int8()
# quantizes fp16 activations, and this model runs in float32. Known and harmless here.
logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
torch.manual_seed(0)
config = LlamaConfig(vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                     num_attention_heads=4, num_key_value_heads=2)
quant = {
    "int8": BitsAndBytesConfig(load_in_8bit=True),  # LLM.int8(), llm_int8_threshold=6.0
    "nf4": BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                              bnb_4bit_use_double_quant=True),
}
with tempfile.TemporaryDirectory() as tmp:
    LlamaForCausalLM(config).save_pretrained(tmp)  # stands in for a downloaded checkpoint
    models = {"fp32": AutoModelForCausalLM.from_pretrained(tmp, device_map="cpu")}
    for name, quantization_config in quant.items():  # weights are quantized while loading
        models[name] = AutoModelForCausalLM.from_pretrained(
            tmp, quantization_config=quantization_config, device_map="cpu")

q_proj = {name: type(m.model.layers[0].self_attn.q_proj).__name__ for name, m in models.items()}
print("q_proj:", q_proj, "| lm_head:", type(models["nf4"].lm_head).__name__)
assert isinstance(models["nf4"].model.layers[0].mlp.down_proj, bnb.nn.Linear4bit)

# Only the nn.Linear layers inside the blocks are quantized; embeddings, norms and lm_head stay
# float32. That predicts the footprint exactly: 4 bytes/param there, 1 or 1/2 in the blocks
# (plus the rotary embedding's small buffer).
linear = sum(m.weight.numel() for m in models["fp32"].model.layers.modules()
             if isinstance(m, torch.nn.Linear))
other = models["fp32"].num_parameters() - linear
buffers = sum(b.numel() * b.element_size() for b in models["fp32"].buffers())
x = torch.randint(0, 256, (1, 12))
with torch.no_grad():
    logits = models["fp32"](x).logits
print(f"{'model':<6}{'bytes':>9}{'fp32/this':>11}{'predicted':>11}{'logits error':>14}")
for name, bytes_per_linear_param in (("fp32", 4), ("int8", 1), ("nf4", 0.5)):
    model, footprint = models[name], models[name].get_memory_footprint()
    with torch.no_grad():
        error = ((model(x).logits - logits).norm() / logits.norm()).item()
    predicted = int(4 * other + bytes_per_linear_param * linear) + buffers
    # error to 1 decimal: the last digits depend on the CPU's kernels
    print(f"{name:<6}{footprint:>9,}{models['fp32'].get_memory_footprint() / footprint:>10.2f}x"
          f"{predicted:>11,}{error:>13.1%}")
    assert footprint == predicted

print("nf4 greedy:", models["nf4"].generate(x, max_new_tokens=6, do_sample=False)[0, 12:].tolist())
