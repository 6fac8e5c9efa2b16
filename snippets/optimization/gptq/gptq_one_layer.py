"""GPTQ for one linear layer, written out, against round-to-nearest at the same grid."""
import torch


def grid(w, bits):
    """Symmetric grid for a block of columns: one scale per row, zero point in the middle."""
    maxq = 2**bits - 1
    scale = w.abs().amax(dim=1, keepdim=True).clamp(min=1e-8) * 2 / maxq
    return scale, (maxq + 1) / 2, maxq


def snap(w, scale, zero, maxq):  # quantize to the grid and straight back (dequantize)
    return scale * (torch.clamp(torch.round(w / scale) + zero, 0, maxq) - zero)


def rtn_quantize(W, bits, group_size):
    """Round-to-nearest: every weight goes to its closest grid point, independently."""
    Q = torch.empty_like(W)
    for s in range(0, W.shape[1], group_size):
        Q[:, s:s + group_size] = snap(W[:, s:s + group_size], *grid(W[:, s:s + group_size], bits))
    return Q


def gptq_quantize(W, H, bits, group_size, damp=0.01):
    """W: (out, in) weights, H = 2 X^T X over calibration inputs X: (samples, in)."""
    W, n = W.clone(), W.shape[1]
    H = H + damp * H.diagonal().mean() * torch.eye(n, dtype=H.dtype, device=H.device)  # dampening
    # Upper Cholesky factor of H^-1: row j holds what quantizing column j does to columns > j.
    U = torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(H)), upper=True)
    Q = torch.empty_like(W)
    for j in range(n):  # one input column at a time, left to right
        if j % group_size == 0:  # the group's grid comes from the already-corrected weights
            g = grid(W[:, j:j + group_size], bits)
        Q[:, j] = snap(W[:, j:j + 1], *g)[:, 0]
        err = (W[:, j] - Q[:, j]) / U[j, j]
        W[:, j + 1:] -= torch.outer(err, U[j, j + 1:])  # later columns absorb the error
    return Q


def rel_err(approx, exact):
    return ((approx - exact).norm() / exact.norm()).item()


def correlated_inputs(n, mix, channel_scale, gen):
    """Inputs that share a few directions (mix) plus noise, with some channels much larger."""
    latent = torch.randn(n, mix.shape[0], generator=gen) @ mix / mix.shape[0] ** 0.5
    return (latent + 0.5 * torch.randn(n, mix.shape[1], generator=gen)) * channel_scale


if __name__ == "__main__":
    gen = torch.Generator().manual_seed(0)
    d_in, d_out, bits, group_size = 256, 256, 4, 32
    mix = torch.randn(32, d_in, generator=gen)
    channel_scale = torch.ones(d_in)
    channel_scale[torch.randperm(d_in, generator=gen)[:8]] = 8.0  # 8 "outlier" features
    W = torch.randn(d_out, d_in, generator=gen) / d_in**0.5
    X_calib = correlated_inputs(1024, mix, channel_scale, gen)
    X_test = correlated_inputs(1024, mix, channel_scale, gen)  # held out: never seen by GPTQ

    Q_gptq = gptq_quantize(W, 2 * X_calib.T @ X_calib, bits, group_size)
    Q_rtn = rtn_quantize(W, bits, group_size)

    out = {name: rel_err(X_test @ Q.T, X_test @ W.T)
           for name, Q in [("RTN", Q_rtn), ("GPTQ", Q_gptq)]}
    wgt = {name: rel_err(Q, W) for name, Q in [("RTN", Q_rtn), ("GPTQ", Q_gptq)]}
    print(f"{bits}-bit, group size {group_size}, layer {d_in} -> {d_out}")
    print(f"weight error: RTN {wgt['RTN']:.3f}  GPTQ {wgt['GPTQ']:.3f}")
    print(f"output error: RTN {out['RTN']:.4f}  GPTQ {out['GPTQ']:.4f}  "
          f"(GPTQ/RTN = {out['GPTQ'] / out['RTN']:.2f})")
    assert out["GPTQ"] < 0.7 * out["RTN"]  # better where it counts: the layer's output
    assert wgt["GPTQ"] > wgt["RTN"]  # although the weights moved further than rounding moves them
