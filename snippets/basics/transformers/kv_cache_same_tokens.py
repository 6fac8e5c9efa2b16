"""The KV cache is a speed-up only: greedy tokens are the same with use_cache=True or False."""
import torch
from transformers import LlamaConfig, LlamaForCausalLM

torch.manual_seed(0)
cfg = LlamaConfig(vocab_size=512, hidden_size=64, intermediate_size=128,
                  num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                  eos_token_id=None)  # no early stop, so the counts below are exact
model = LlamaForCausalLM(cfg).eval()
ids = torch.randint(3, cfg.vocab_size, (1, 8))
nxt = ids[:, :1]  # any token will do as the 9th

# What the cache holds: per layer, the keys and values of every position seen so far.
with torch.no_grad():
    full = model(torch.cat([ids, nxt], dim=1)).logits[:, -1]  # 9 positions at once
    prefix = model(ids, use_cache=True)
    cache = prefix.cache  # older code: .past_key_values (deprecated name in 5.24)
    print(type(cache).__name__, "holds", cache.get_seq_length(), "positions")
    step = model(nxt, cache=cache).logits[:, -1]  # feed only the 9th token
assert cache.get_seq_length() == 9  # the step appended its own K/V to the same cache
assert torch.allclose(full, step, atol=1e-5)  # same logits, computed from 1 new token

# Inside generate(): count the token positions the model is fed. With the cache each step
# feeds 1 new token; without it, each step feeds the whole sequence again.
fed = []
model.model.embed_tokens.register_forward_hook(lambda mod, args, out: fed.append(args[0].shape[1]))
results = {}
for use_cache in (True, False):
    fed.clear()
    out = model.generate(ids, max_new_tokens=30, do_sample=False, use_cache=use_cache)
    results[use_cache] = (out, sum(fed))
(with_cache, n_on), (without, n_off) = results[True], results[False]
print(f"positions processed: use_cache=True {n_on}, use_cache=False {n_off}")
assert n_on == 8 + 29  # prompt once, then one position per later step
assert n_off == sum(range(8, 8 + 30))  # 8 + 9 + ... + 37: quadratic in the length
assert torch.equal(with_cache, without)  # same tokens either way
