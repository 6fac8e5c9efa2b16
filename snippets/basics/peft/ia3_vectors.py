"""IA3: instead of low-rank matrices, learn one scaling vector per adapted layer."""
import torch
from peft import IA3Config, get_peft_model
from transformers import LlamaConfig, LlamaForCausalLM

torch.manual_seed(0)
cfg = LlamaConfig(vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2)
base = LlamaForCausalLM(cfg).eval()
x = torch.randint(0, 128, (2, 10))
with torch.no_grad():
    base_out = base(x).logits

# Rescale the outputs of k_proj and v_proj, and the *input* of down_proj (a feedforward module).
config = IA3Config(target_modules=["k_proj", "v_proj", "down_proj"],
                   feedforward_modules=["down_proj"])
model = get_peft_model(base, config).eval()
trainable, total = model.get_nb_trainable_parameters()
# Per layer: k_proj out 32 + v_proj out 32 + down_proj in 128 = 192 numbers; 2 layers -> 384.
print(f"IA3 trainable: {trainable} of {total} ({trainable / total:.3%})")
assert trainable == 2 * (32 + 32 + 128)

with torch.no_grad():
    assert torch.allclose(model(x).logits, base_out)  # vectors start at 1.0: no change yet
    v = model.base_model.model.model.layers[0].self_attn.v_proj
    v.ia3_l["default"].uniform_(0.5, 1.5)  # pretend training moved them
    h = torch.randn(3, 64)
    # Non-feedforward: y = l * (W h), elementwise over the output features.
    assert torch.allclose(v(h), v.ia3_l["default"].flatten() * v.base_layer(h))
    changed = not torch.allclose(model(x).logits, base_out)
print("logits changed after editing l_v:", changed)
assert changed
