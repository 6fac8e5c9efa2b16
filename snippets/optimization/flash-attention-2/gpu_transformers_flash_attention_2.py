# pytest: gpu, needs-transformers, needs-flash-attn
# --8<-- [start:code]
"""The flash-attn package's FlashAttention-2 kernels inside transformers,
checked against SDPA and fp32."""
import torch
from transformers import AutoModelForCausalLM, LlamaConfig
from transformers.utils import is_flash_attn_2_available

# True only with flash-attn >= 2.3.3 installed AND a CUDA GPU visible (the test skips without them).
assert is_flash_attn_2_available(), "pip install flash-attn --no-build-isolation"

torch.manual_seed(0)
config = LlamaConfig(vocab_size=128, hidden_size=256, intermediate_size=512, num_hidden_layers=2,
                     num_attention_heads=4, num_key_value_heads=2)  # head dim 64
# the fp32 reference
reference = AutoModelForCausalLM.from_config(config, attn_implementation="sdpa").to("cuda").eval()
model = AutoModelForCausalLM.from_config(config, attn_implementation="sdpa", dtype=torch.bfloat16)
model.load_state_dict(reference.state_dict())  # same weights, rounded to bf16
model.to("cuda").eval()

input_ids = torch.randint(3, 128, (2, 256), device="cuda")
attention_mask = torch.ones_like(input_ids)
# left padding: transformers un-pads the batch for flash-attn's varlen kernel
attention_mask[1, :40] = 0
real = attention_mask.bool()
with torch.no_grad():
    ref = reference(input_ids=input_ids, attention_mask=attention_mask).logits[real]
    errors = {}
    for impl in ("sdpa", "flash_attention_2"):
        model.set_attn_implementation(impl)
        out = model(input_ids=input_ids, attention_mask=attention_mask).logits[real].float()
        errors[impl] = ((out - ref).abs().max() / ref.abs().max()).item()
        print(f"{impl:<18} bf16: max error vs fp32, relative to max |logit| = {errors[impl]:.1e}")
print("attention in use:", model.config._attn_implementation)
assert model.config._attn_implementation == "flash_attention_2"
# Most of the error is the bf16 rounding of weights and activations, which both share; the flash
# kernel must not add to it noticeably (a wrong mask or scale would give errors near 1).
assert errors["flash_attention_2"] < 2 * errors["sdpa"]
# --8<-- [end:code]
