"""attn_implementation="flash_attention_2" without flash-attn and a CUDA GPU raises;
it does not fall back."""
import torch
from transformers import AutoModelForCausalLM, LlamaConfig
from transformers.utils import is_flash_attn_2_available

config = LlamaConfig(vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                     num_attention_heads=4, num_key_value_heads=2)

# Wrong: hard-code the kernel of the machine the script was written on.
try:
    AutoModelForCausalLM.from_config(config, attn_implementation="flash_attention_2",
                                     dtype=torch.bfloat16)
    refused = False
except (ImportError, ValueError) as err:
    # ImportError: no flash-attn, or no GPU; ValueError: no FA2 in model
    print(f"refused with {type(err).__name__}: {str(err).split(':')[0]}")  # then the reason
    refused = True
assert refused == (not is_flash_attn_2_available())  # refused, not silently replaced

# Right: ask for it only where it can run. SDPA is exact too, and runs everywhere.
impl = "flash_attention_2" if is_flash_attn_2_available() else "sdpa"
model = AutoModelForCausalLM.from_config(config, attn_implementation=impl)
print("is_flash_attn_2_available():", is_flash_attn_2_available(),
      "-> using", model.config._attn_implementation)
assert model.config._attn_implementation == impl
