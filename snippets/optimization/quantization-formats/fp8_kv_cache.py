"""An FP8 KV cache, as arithmetic: keys and values stored as E4M3 with one scale each (k_scale,
v_scale, the per-tensor scales vLLM reads from a checkpoint), and the attention output it gives."""
# --8<-- [start:code]
import torch
import torch.nn.functional as F

E4M3 = torch.float8_e4m3fn


def cache_round_trip(t, scale):
    """Store t in the cache as E4M3 (t / scale), read it back as float32 (times scale)."""
    return (t / scale).to(E4M3).float() * scale


torch.manual_seed(0)
errors = {}
heads, tokens, head_dim = 8, 512, 64
q = torch.randn(1, heads, 1, head_dim)  # one decoding step's query
for key_size in (3.0, 300.0):  # keys of ordinary size; keys of a layer with large activations
    k = torch.randn(1, heads, tokens, head_dim) * key_size
    v = torch.randn(1, heads, tokens, head_dim)
    ref = F.scaled_dot_product_attention(q / key_size, k, v)
    # scale 1.0: what vLLM uses for a checkpoint without k/v scales
    for label, k_scale, v_scale in [("scale 1.0", 1.0, 1.0),
                                    ("amax/448", k.abs().max() / 448, v.abs().max() / 448)]:
        out = F.scaled_dot_product_attention(q / key_size, cache_round_trip(k, k_scale),
                                             cache_round_trip(v, v_scale))
        err = ((out - ref).norm() / ref.norm()).item()
        errors[(key_size, label)] = err
        print(f"keys ~ {key_size:5.0f}, {label}: attention output error {err:.3f}")
bf16_bytes = 2 * heads * head_dim * 2  # K and V, per token and layer
print(f"cache bytes per token and layer: bf16 {bf16_bytes}, FP8 {bf16_bytes // 2}")
assert errors[(300.0, "scale 1.0")] > 5 * errors[(300.0, "amax/448")]  # saturated keys
# --8<-- [end:code]
