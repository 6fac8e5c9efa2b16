"""target_modules="all-linear": every linear layer of the blocks, not only q and v."""
import torch
from peft import LoraConfig, get_peft_model
from transformers import LlamaConfig, LlamaForCausalLM

cfg = LlamaConfig(vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2)


def adapted(targets):
    """Return (sorted leaf names of the LoRA layers, trainable parameter count)."""
    torch.manual_seed(0)
    model = get_peft_model(LlamaForCausalLM(cfg), LoraConfig(r=8, target_modules=targets))
    names = {n.split(".")[-1] for n, m in model.named_modules() if hasattr(m, "lora_A")}
    return sorted(names), model.get_nb_trainable_parameters()[0]


attn_names, attn_count = adapted(["q_proj", "k_proj", "v_proj", "o_proj"])
all_names, all_count = adapted("all-linear")
print("attention only:", attn_names, f"{attn_count:,} trainable")
print("all-linear:    ", all_names, f"{all_count:,} trainable")
print(f"ratio: {all_count / attn_count:.2f}x")
# all-linear adds the MLP projections and leaves the output head (lm_head) alone.
assert all_names == ["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"]
# By hand, per layer: r * (d_in + d_out) for each matrix; k/v are 32 wide (2 KV heads of 16).
attn = 8 * ((64 + 64) + (64 + 32) + (64 + 32) + (64 + 64))
mlp = 8 * 3 * (64 + 128)
assert attn_count == 2 * attn and all_count == 2 * (attn + mlp)
