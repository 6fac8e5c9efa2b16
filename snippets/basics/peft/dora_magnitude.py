"""DoRA (use_dora=True): a magnitude vector per output row, and output equal to the base at init."""
import torch
from peft import LoraConfig, get_peft_model
from transformers import LlamaConfig, LlamaForCausalLM

torch.manual_seed(0)
cfg = LlamaConfig(vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2)
base = LlamaForCausalLM(cfg).eval()
x = torch.randint(0, 128, (1, 10))
with torch.no_grad():
    before = base(x).logits
    W = base.model.layers[0].self_attn.q_proj.weight.clone()

model = get_peft_model(base, LoraConfig(r=8, target_modules=["q_proj", "v_proj"],
                                        use_dora=True)).eval()
q = model.base_model.model.model.layers[0].self_attn.q_proj
m = q.lora_magnitude_vector["default"].weight       # one trainable scale per output row
print("magnitude vector:", tuple(m.shape), "| trainable:", m.requires_grad)
# At init m = ||W||, the norm of each row of W (peft's DoRA takes the norm over dim 1).
print("m == row norms of W:", torch.allclose(m, W.norm(dim=1)))
assert m.shape == (64,) and torch.allclose(m, W.norm(dim=1))
with torch.no_grad():
    diff = (model(x).logits - before).abs().max().item()
print("max |DoRA - base| at init < 1e-5:", diff < 1e-5)
assert diff < 1e-5   # B = 0 and m = ||W||: W' = m * W / ||W|| = W
n_lora, n_dora = 2 * 8 * ((64 + 64) + (64 + 32)), 2 * (64 + 32)
assert model.get_nb_trainable_parameters()[0] == n_lora + n_dora  # LoRA + the magnitudes
