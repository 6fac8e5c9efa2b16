"""The update is scaled by lora_alpha / r: raise r alone and the same B @ A counts for less."""
import torch
from peft import LoraConfig, get_peft_model
from transformers import LlamaConfig, LlamaForCausalLM

torch.manual_seed(0)
cfg = LlamaConfig(vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=1,
                  num_attention_heads=4, num_key_value_heads=2)
base_state = LlamaForCausalLM(cfg).state_dict()
h = torch.randn(5, 64)


def q_layer(r, alpha, **kw):
    model = LlamaForCausalLM(cfg)
    model.load_state_dict(base_state)  # same frozen W every time
    cfg_lora = LoraConfig(r=r, lora_alpha=alpha, target_modules=["q_proj"], **kw)
    return get_peft_model(model, cfg_lora).base_model.model.model.layers[0].self_attn.q_proj


def delta(layer, A, B):
    # Install the same learned product B @ A, zero-padded to the layer's rank.
    with torch.no_grad():
        layer.lora_A["default"].weight.zero_()[: A.shape[0]] = A
        layer.lora_B["default"].weight.zero_()[:, : B.shape[1]] = B
        return layer(h) - layer.base_layer(h)


A, B = torch.randn(8, 64) * 0.1, torch.randn(64, 8) * 0.1
ref = delta(q_layer(8, 16), A, B)  # r=8, alpha=16: scaling 2.0

# WRONG: r=8 -> 32 "for more capacity", alpha left at 16: the multiplier drops from 2.0 to 0.5.
wrong = q_layer(32, 16)
print("r=32, alpha=16 -> scaling", wrong.scaling["default"])
assert torch.allclose(delta(wrong, A, B), ref / 4, atol=1e-6)  # same B@A, 4x weaker update

# RIGHT: choose the multiplier on purpose. Keep alpha / r fixed (alpha = 2r here) and the
# same B@A has the same effect ...
right = q_layer(32, 64)
print("r=32, alpha=64 -> scaling", right.scaling["default"])
assert torch.allclose(delta(right, A, B), ref, atol=1e-6)
# ... or use rsLoRA (arXiv 2312.03732): multiplier alpha / sqrt(r) = 16 / sqrt(32).
rs = q_layer(32, 16, use_rslora=True)
print("r=32, alpha=16, use_rslora -> scaling", round(rs.scaling["default"], 4))
assert abs(rs.scaling["default"] - 16 / 32**0.5) < 1e-9
