"""AWQ for one linear layer, written out, against RTN and GPTQ on the GPTQ page's layer."""
# --8<-- [start:code]
import torch

# The GPTQ page's gptq_one_layer.py (linked here as _gptq_one_layer.py): same grid, same groups,
# same inputs.
from _gptq_one_layer import correlated_inputs, gptq_quantize, rel_err, rtn_quantize


def awq_quantize(W, X, bits, group_size, grid=20):
    """Activation-aware weight quantization (Lin et al. 2023, arXiv 2306.00978), scale search only.

    W: (out, in) weights; X: (samples, in) calibration inputs. Each input channel j gets a scale
    s_j = mean|X[:, j]| ** alpha; the weights are stored as RTN(W * s), and the layer computes
    (X / s) @ RTN(W * s).T, where X / s is folded into the operation before the layer. alpha in
    [0, 1) is picked by grid search on the calibration output error. No Hessian, no error feedback.
    Returns (the dequantized weights with 1/s folded back in, the chosen alpha).
    """
    act = X.abs().mean(dim=0)  # how strongly each input channel is used
    ref, best = X @ W.T, (float("inf"), None, None)
    for step in range(grid):
        alpha = step / grid
        s = act.pow(alpha).clamp(min=1e-4)
        s = s / (s.max() * s.min()).sqrt()  # centre the scales around 1 (as AutoAWQ does)
        Q = rtn_quantize(W * s, bits, group_size) / s
        err = (X @ Q.T - ref).pow(2).mean().item()
        if err < best[0]:
            best = (err, Q, alpha)
    return best[1], best[2]


if __name__ == "__main__":
    gen = torch.Generator().manual_seed(0)  # the same draws as gptq_one_layer.py
    d_in, d_out, bits, group_size = 256, 256, 4, 32
    mix = torch.randn(32, d_in, generator=gen)
    channel_scale = torch.ones(d_in)
    channel_scale[torch.randperm(d_in, generator=gen)[:8]] = 8.0  # 8 "outlier" features
    W = torch.randn(d_out, d_in, generator=gen) / d_in**0.5
    X_calib = correlated_inputs(1024, mix, channel_scale, gen)
    X_test = correlated_inputs(1024, mix, channel_scale, gen)  # held out

    Q_awq, alpha = awq_quantize(W, X_calib, bits, group_size)
    quantized = {"RTN": rtn_quantize(W, bits, group_size), "AWQ": Q_awq,
                 "GPTQ": gptq_quantize(W, 2 * X_calib.T @ X_calib, bits, group_size)}
    out = {name: rel_err(X_test @ Q.T, X_test @ W.T) for name, Q in quantized.items()}
    outliers = channel_scale > 1
    print(f"{bits}-bit, group size {group_size}, layer {d_in} -> {d_out}, AWQ alpha = {alpha:.2f}")
    print("output error:", "  ".join(f"{name} {e:.3f}" for name, e in out.items()))
    print(f"AWQ/RTN = {out['AWQ'] / out['RTN']:.2f}, GPTQ/RTN = {out['GPTQ'] / out['RTN']:.2f}")
    for name, Q in quantized.items():  # where does each method spend its precision?
        print(f"{name:4s} weight error on the 8 outlier channels "
              f"{rel_err(Q[:, outliers], W[:, outliers]):.3f}, "
              f"on the others {rel_err(Q[:, ~outliers], W[:, ~outliers]):.3f}")
    assert out["GPTQ"] < out["AWQ"] < out["RTN"]
# --8<-- [end:code]
