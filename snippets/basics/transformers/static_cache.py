"""A static KV cache gives the same greedy tokens as the default dynamic one."""
import torch
from transformers import LlamaConfig, LlamaForCausalLM, StaticCache

torch.manual_seed(0)
model = LlamaForCausalLM(LlamaConfig(
    vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
    num_attention_heads=4, num_key_value_heads=2, eos_token_id=None)).eval()
ids = torch.randint(3, 512, (2, 8))
kw = dict(attention_mask=torch.ones_like(ids), max_new_tokens=16, do_sample=False)

dynamic = model.generate(**kw, input_ids=ids)  # DynamicCache: tensors grow by one position a step
# A StaticCache allocates every layer's K and V for max_cache_len up front and writes in place,
# so tensor shapes never change between steps: what torch.compile needs to reuse one graph.
static = model.generate(**kw, input_ids=ids, cache_implementation="static")
print("static == dynamic:", torch.equal(static, dynamic))
assert torch.equal(static, dynamic)

cache = StaticCache(config=model.config, max_cache_len=32)  # or build one and pass it yourself
with torch.no_grad():
    model(ids, cache=cache)
keys = cache.layers[0].keys  # (batch, kv heads, max_cache_len, head dim), allocated on first use
print("layer 0 keys:", tuple(keys.shape), "| positions filled:", int(cache.get_seq_length()))
assert keys.shape == (2, 2, 32, 16) and cache.get_seq_length() == 8
