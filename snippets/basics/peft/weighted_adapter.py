"""add_weighted_adapter: a new adapter whose update is a weighted sum of existing ones."""
import torch
from peft import LoraConfig, get_peft_model
from transformers import LlamaConfig, LlamaForCausalLM

torch.manual_seed(0)
cfg = LlamaConfig(vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2)
lora = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
model = get_peft_model(LlamaForCausalLM(cfg), lora, adapter_name="math")
model.add_adapter("code", lora)

# "cat" stacks the A and B matrices (rank 4 + 4 = 8): the update is exactly
# 0.7*dW_math + 0.3*dW_code.
model.add_weighted_adapter(["math", "code"], [0.7, 0.3], adapter_name="mix", combination_type="cat")
q = model.base_model.model.model.layers[0].self_attn.q_proj
dW = {name: q.get_delta_weight(name) for name in ["math", "code", "mix"]}
err = (dW["mix"] - (0.7 * dW["math"] + 0.3 * dW["code"])).abs().max().item()
print("cat:    rank", q.r["mix"], "| dW_mix == 0.7 dW_math + 0.3 dW_code:", err < 1e-6)
assert q.r["mix"] == 8 and err < 1e-6

# "svd" (the default) keeps the rank at svd_rank by truncating the SVD of that sum: approximate.
model.add_weighted_adapter(["math", "code"], [0.7, 0.3], adapter_name="mix_svd", svd_rank=4)
dW_svd = q.get_delta_weight("mix_svd")
rel = ((dW_svd - dW["mix"]).norm() / dW["mix"].norm()).item()
print("svd:    rank", q.r["mix_svd"], f"| relative error of the rank-4 sum: {rel:.2f}")
assert q.r["mix_svd"] == 4 and 0.0 < rel < 1.0
model.set_adapter("mix")  # use it like any other adapter (and save it with save_pretrained)
