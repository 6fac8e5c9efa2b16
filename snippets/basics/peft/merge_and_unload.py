"""merge_and_unload folds (alpha/r) * B @ A into W: a plain model, same outputs, no extra cost."""
import torch
from peft import LoraConfig, get_peft_model
from peft.tuners.lora import LoraLayer
from transformers import LlamaConfig, LlamaForCausalLM

torch.manual_seed(0)
cfg = LlamaConfig(vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2)
lora = LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
model = get_peft_model(LlamaForCausalLM(cfg), lora).eval()
x = torch.randint(0, 128, (2, 10))

q = model.base_model.model.model.layers[0].self_attn.q_proj
expected_W = q.base_layer.weight + q.get_delta_weight("default")  # W + (alpha/r) B A
with torch.no_grad():
    with_adapter = model(x).logits
    merged = model.merge_and_unload()  # returns the underlying LlamaForCausalLM
    merged_out = merged(x).logits

print(type(merged).__name__, "| LoRA layers left:",
      sum(isinstance(m, LoraLayer) for m in merged.modules()))
# Float addition is reordered by merging, so equality is up to rounding, not bit-exact; the
# difference (around 1e-7) depends on the CPU's kernels, so the check is against a tolerance.
print("max |adapter - merged| < 1e-5:", (with_adapter - merged_out).abs().max().item() < 1e-5)
assert isinstance(merged, LlamaForCausalLM)
assert not any(isinstance(m, LoraLayer) for m in merged.modules())
assert isinstance(merged.model.layers[0].self_attn.q_proj, torch.nn.Linear)
assert torch.allclose(merged.model.layers[0].self_attn.q_proj.weight, expected_W, atol=1e-6)
assert torch.allclose(with_adapter, merged_out, atol=1e-5)
