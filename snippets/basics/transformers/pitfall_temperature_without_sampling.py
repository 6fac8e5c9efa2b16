"""temperature (and top_p, top_k) do nothing unless do_sample=True."""
import torch
from transformers import LlamaConfig, LlamaForCausalLM

torch.manual_seed(0)
model = LlamaForCausalLM(LlamaConfig(
    vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
    num_attention_heads=4, num_key_value_heads=2, eos_token_id=None)).eval()
ids = torch.randint(3, 512, (1, 8))
kw = dict(attention_mask=torch.ones_like(ids), max_new_tokens=12)


def run(seed, **extra):
    """One generate() call after seeding torch's RNG; returns only the new tokens."""
    torch.manual_seed(seed)
    return model.generate(ids, **kw, **extra)[0, 8:]


# WRONG: do_sample defaults to False, so this is greedy decoding whatever the temperature.
# transformers only logs "The following generation flags are not valid and may be ignored".
cold, hot = run(0, temperature=0.1), run(1, temperature=5.0)
print("temperature 0.1 vs 5.0 without do_sample, same tokens:", torch.equal(cold, hot))
assert torch.equal(cold, hot) and torch.equal(cold, run(2))  # all three are plain greedy

# RIGHT: do_sample=True turns sampling on; now the temperature shapes the distribution.
cold, hot = run(0, do_sample=True, temperature=0.1), run(0, do_sample=True, temperature=5.0)
print("with do_sample=True, same tokens:", torch.equal(cold, hot))
assert not torch.equal(cold, hot)
