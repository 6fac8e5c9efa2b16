"""Standard attention and FlashAttention (Algorithm 1 of Dao et al. 2022) run against a simulated
memory hierarchy: a slow memory (HBM) that counts every element read or written, and a fast one
(SRAM) that holds at most M elements at a time."""
import math

import torch
import torch.nn.functional as F


class Memory:
    """HBM traffic counter and SRAM budget, both in elements (not bytes).

    `load` copies an HBM tensor (or slice) into SRAM and counts the reads; `store` copies an SRAM
    tensor back and counts the writes; `hold` puts a result computed on chip into SRAM; `free`
    releases SRAM. Holding more than `sram` elements raises MemoryError.
    """

    def __init__(self, sram):
        self.sram, self.in_use, self.peak, self.reads, self.writes = sram, 0, 0, 0, 0

    def hold(self, *tensors):
        self.in_use += sum(t.numel() for t in tensors)
        self.peak = max(self.peak, self.in_use)
        if self.in_use > self.sram:
            raise MemoryError(f"{self.in_use} elements in an SRAM of {self.sram}")
        return tensors[0] if len(tensors) == 1 else tensors

    def load(self, hbm):
        self.reads += hbm.numel()
        return self.hold(hbm.clone())

    def store(self, hbm, sram):
        self.writes += sram.numel()
        hbm.copy_(sram)

    def free(self, *tensors):
        self.in_use -= sum(t.numel() for t in tensors)


def standard_attention(q, k, v, mem):
    """Algorithm 0 of the paper for one head, q/k/v of shape (N, d) in HBM: S = QK^T and P are
    written to HBM in full. The two matrix products run in square tiles of T rows, the largest
    with Q, K and S tiles (2Td + T^2) in SRAM; the softmax reads and writes one row of N at a
    time."""
    n, d = q.shape
    t = next(t for t in range(n, 0, -1) if 2 * t * d + t * t <= mem.sram)
    s, p, out = torch.empty(n, n), torch.empty(n, n), torch.empty(n, d)  # in HBM
    for i in range(0, n, t):  # 1. S = Q K^T / sqrt(d), tile by tile
        qi = mem.load(q[i:i + t])
        for j in range(0, n, t):
            kj = mem.load(k[j:j + t])
            sij = mem.hold(qi @ kj.T / math.sqrt(d))
            mem.store(s[i:i + t, j:j + t], sij)
            mem.free(kj, sij)
        mem.free(qi)
    for r in range(n):  # 2. P = softmax(S), one row at a time (in place in SRAM)
        row = mem.load(s[r])
        mem.store(p[r], torch.softmax(row, dim=0))
        mem.free(row)
    for i in range(0, n, t):  # 3. O = P V
        oi = mem.hold(torch.zeros(min(t, n - i), d))
        for j in range(0, n, t):
            pij, vj = mem.load(p[i:i + t, j:j + t]), mem.load(v[j:j + t])
            oi += pij @ vj
            mem.free(pij, vj)
        mem.store(out[i:i + t], oi)
        mem.free(oi)
    return out


def flash_attention(q, k, v, mem):
    """Algorithm 1 of the paper for one head: block sizes B_c = floor(M / 4d), B_r = min(B_c, d);
    the outer loop walks over K/V blocks, the inner one over Q blocks, and O, l, m live in HBM
    between visits. No N x N tensor exists anywhere."""
    n, d = q.shape
    bc = mem.sram // (4 * d)
    br = min(bc, d)
    out, l, m = torch.empty(n, d), torch.empty(n), torch.empty(n)  # in HBM
    for hbm, init in ((out, 0.0), (l, 0.0), (m, float("-inf"))):  # step 2: initialise in HBM
        mem.store(hbm, torch.full_like(hbm, init))
    for j in range(0, n, bc):
        kj, vj = mem.load(k[j:j + bc]), mem.load(v[j:j + bc])
        for i in range(0, n, br):
            qi, oi, li, mi = (mem.load(x[i:i + br]) for x in (q, out, l, m))
            sij = mem.hold(qi @ kj.T / math.sqrt(d))  # B_r x B_c, the only score tile
            m_new = mem.hold(torch.maximum(mi, sij.amax(dim=1)))
            sij.sub_(m_new[:, None]).exp_()  # P~ overwrites S in place
            l_new = mem.hold(torch.exp(mi - m_new) * li + sij.sum(dim=1))
            # normalised O, as in Algorithm 1 (FlashAttention-2 defers this division to the end)
            oi = (li * torch.exp(mi - m_new) / l_new)[:, None] * oi + (sij @ vj) / l_new[:, None]
            for hbm, new in ((out, oi), (l, l_new), (m, m_new)):
                mem.store(hbm[i:i + br], new)
            mem.free(qi, oi, li, mi, sij, m_new, l_new)
        mem.free(kj, vj)
    return out


def expected_traffic(n, d, sram):
    """Exact element counts (reads + writes) of the two functions above, from their loops."""
    t = next(t for t in range(n, 0, -1) if 2 * t * d + t * t <= sram)
    standard = 4 * n * n + n * d * (2 + 2 * math.ceil(n / t))
    t_c = math.ceil(n / (sram // (4 * d)))  # outer iterations of Algorithm 1
    flash = (n * d + 2 * n) + 2 * n * d + t_c * (3 * n * d + 4 * n)
    return standard, flash


if __name__ == "__main__":
    torch.manual_seed(0)
    n, d, sram = 1024, 64, 65_536
    q, k, v = (torch.randn(n, d) for _ in range(3))
    reference = F.scaled_dot_product_attention(q[None], k[None], v[None])[0]
    print(f"N = {n}, d = {d}, SRAM M = {sram:,} elements")
    for name, fn in (("standard", standard_attention), ("FlashAttention", flash_attention)):
        mem = Memory(sram)
        out = fn(q, k, v, mem)
        ok = (out - reference).abs().max().item() < 1e-5  # float32 rounding only
        print(f"{name:<15} HBM reads {mem.reads:>10,}  writes {mem.writes:>9,}  "
              f"SRAM peak {mem.peak:>6,}  same output as SDPA: {ok}")
        assert ok and mem.peak <= sram
        counted = mem.reads + mem.writes
        assert counted == expected_traffic(n, d, sram)[name != "standard"]
    standard, flash = expected_traffic(n, d, sram)
    print(f"standard: {standard / (n * d + n * n):.2f} x (Nd + N^2);  "
          f"FlashAttention: {flash / (n * n * d * d / sram):.2f} x N^2 d^2 / M;  "
          f"ratio {standard / flash:.1f}x")
