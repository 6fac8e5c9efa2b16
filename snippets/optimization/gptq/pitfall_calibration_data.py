import torch

from gptq_one_layer import correlated_inputs, gptq_quantize, rel_err, rtn_quantize

gen = torch.Generator().manual_seed(0)
d_in = 256
mix = torch.randn(32, d_in, generator=gen)  # the same layer and inputs as gptq_one_layer.py
channel_scale = torch.ones(d_in)
channel_scale[torch.randperm(d_in, generator=gen)[:8]] = 8.0
W = torch.randn(256, d_in, generator=gen) / d_in**0.5
X_test = correlated_inputs(1024, mix, channel_scale, gen)
rtn_err = rel_err(X_test @ rtn_quantize(W, 4, 32).T, X_test @ W.T)

calibrations = {
    "8 rows of the real inputs": correlated_inputs(8, mix, channel_scale, gen),  # wrong: too little
    "1024 rows of other inputs": torch.randn(1024, d_in, generator=gen),  # wrong: unrepresentative
    "1024 rows of the real inputs": correlated_inputs(1024, mix, channel_scale, gen),  # right
}
ratio = {}
for name, X in calibrations.items():
    Q = gptq_quantize(W, 2 * X.T @ X, bits=4, group_size=32)
    ratio[name] = rel_err(X_test @ Q.T, X_test @ W.T) / rtn_err
    print(f"calibrated on {name:29s} held-out output error GPTQ/RTN = {ratio[name]:.1f}")

assert ratio["8 rows of the real inputs"] > 0.95  # no better than plain rounding
assert ratio["1024 rows of other inputs"] > 0.95
assert ratio["1024 rows of the real inputs"] < 0.7
