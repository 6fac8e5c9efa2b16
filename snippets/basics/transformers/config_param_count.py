"""Build a tiny Llama from a config and check its size against a count by hand."""
import torch
from transformers import LlamaConfig, LlamaForCausalLM

torch.manual_seed(0)
cfg = LlamaConfig(
    vocab_size=512,
    hidden_size=64,
    intermediate_size=128,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,  # grouped-query attention: 2 K/V heads shared by 4 query heads
)
model = LlamaForCausalLM(cfg)  # random weights; nothing is downloaded

V, H, I, L = cfg.vocab_size, cfg.hidden_size, cfg.intermediate_size, cfg.num_hidden_layers
head_dim = H // cfg.num_attention_heads  # 16
kv_dim = cfg.num_key_value_heads * head_dim  # 32: K and V are narrower than Q under GQA

attention = H * H + 2 * H * kv_dim + H * H  # q_proj, k_proj + v_proj, o_proj (no biases in Llama)
mlp = 3 * H * I  # gate_proj, up_proj, down_proj (SwiGLU has three matrices, not two)
norms = 2 * H  # RMSNorm before attention and before the MLP: one weight vector each
per_layer = attention + mlp + norms

embed = V * H
lm_head = V * H  # separate matrix, because tie_word_embeddings is False for LlamaConfig
by_hand = embed + L * per_layer + H + lm_head  # "+ H" is the final RMSNorm

print(f"per layer: {per_layer:,}  total by hand: {by_hand:,}  model: {model.num_parameters():,}")
assert model.num_parameters() == by_hand
# exclude_embeddings=True drops only nn.Embedding modules: the input table, not lm_head.
assert model.num_parameters() - model.num_parameters(exclude_embeddings=True) == embed

# Tying the input embedding to the output layer removes exactly one V x H matrix.
tied = LlamaForCausalLM(LlamaConfig(**{**cfg.to_dict(), "tie_word_embeddings": True}))
assert model.num_parameters() - tied.num_parameters() == V * H
