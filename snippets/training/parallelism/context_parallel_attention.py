# pytest: distributed
# --8<-- [start:code]
"""Attention over a sequence split across 2 ranks, two ways, each equal to full attention:
ring attention (K/V blocks passed around a ring, partial results merged with online softmax)
and DeepSpeed-Ulysses (all-to-all from sequence shards to head shards and back)."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.functional import scaled_dot_product_attention as sdpa

S, HEADS, D = 16, 4, 8  # sequence length, heads, head size


def partial_attention(q, k, v, mask):
    """Attention of q over one K/V block: (output, log-sum-exp of the scores), both per query.
    q, k, v: (heads, rows, D); mask: (q rows, k rows) bool, True where a query may look."""
    scores = (q @ k.transpose(-1, -2)) / D**0.5
    scores = scores.masked_fill(~mask, float("-inf"))
    lse = torch.logsumexp(scores, dim=-1, keepdim=True)  # -inf for a query that sees nothing
    return torch.softmax(scores, dim=-1).nan_to_num() @ v, lse


# --8<-- [start:key]
def merge(out, lse, out_b, lse_b):
    """Online softmax: combine two partial results as if the softmax had seen both blocks."""
    new = torch.logaddexp(lse, lse_b)
    weight, weight_b = (lse - new).exp().nan_to_num(), (lse_b - new).exp().nan_to_num()
    return weight * out + weight_b * out_b, new


def ring_attention(q, k, v, causal):
    """q, k, v: this rank's (heads, S/n, D) rows of the sequence.
    Returns (output, bytes sent, K/V blocks computed)."""
    rank, world = dist.get_rank(), dist.get_world_size()
    rows = q.shape[1]
    out, lse = torch.zeros_like(q), torch.full((*q.shape[:2], 1), float("-inf"))
    kv, sent, blocks = torch.stack([k, v]), 0, 0
    for step in range(world):
        source = (rank - step) % world  # the rank whose K/V block this is
        if causal and source > rank:
            mask = None  # a later block of the sequence: every key is in the future, skip it
        elif causal and source == rank:
            mask = torch.ones(rows, rows, dtype=torch.bool).tril()  # the diagonal block
        else:
            mask = torch.ones(rows, rows, dtype=torch.bool)
        if mask is not None:
            out, lse = merge(out, lse, *partial_attention(q, kv[0], kv[1], mask))
            blocks += 1
        if step < world - 1:  # pass the block on: send to rank + 1, receive from rank - 1
            received = torch.empty_like(kv)
            ops = [dist.P2POp(dist.isend, kv, (rank + 1) % world),
                   dist.P2POp(dist.irecv, received, (rank - 1) % world)]
            for work in dist.batch_isend_irecv(ops):
                work.wait()
            kv, sent = received, sent + kv.nbytes
    return out, sent, blocks
# --8<-- [end:key]


def ulysses_attention(q, k, v, causal):
    """q, k, v: this rank's (S/n, heads, D) rows. All-to-all to (S, heads/n, D): every position,
    some heads; attend; all-to-all back. Returns (output (S/n, heads, D), bytes sent)."""
    world = dist.get_world_size()
    rows, heads = q.shape[0], q.shape[1]

    def seq_to_heads(x):  # chunk j of the heads goes to rank j; rank j's rows come back
        x = x.reshape(rows, world, heads // world, D).transpose(0, 1).contiguous()
        out = torch.empty_like(x)
        dist.all_to_all_single(out, x)
        return out.reshape(rows * world, heads // world, D), x.nbytes * (world - 1) / world

    def heads_to_seq(x):
        x = x.reshape(world, rows, heads // world, D).contiguous()
        out = torch.empty_like(x)
        dist.all_to_all_single(out, x)
        return out.transpose(0, 1).reshape(rows, heads, D), x.nbytes * (world - 1) / world

    (q, a), (k, b), (v, c) = seq_to_heads(q), seq_to_heads(k), seq_to_heads(v)
    local = sdpa(q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1), is_causal=causal)
    out, d = heads_to_seq(local.transpose(0, 1))
    return out, a + b + c + d


def worker(rank, world):
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(0)  # every rank builds the full q, k, v and keeps its rows
    q, k, v = (torch.randn(HEADS, S, D) for _ in range(3))
    rows = slice(rank * S // world, (rank + 1) * S // world)
    lines = []
    for causal in (False, True):
        full = sdpa(q, k, v, is_causal=causal)  # reference: one process, whole sequence
        ring, ring_sent, blocks = ring_attention(q[:, rows], k[:, rows], v[:, rows], causal)
        t = lambda x: x.transpose(0, 1)  # (heads, S, D) <-> (S, heads, D)
        uly, uly_sent = ulysses_attention(t(q)[rows], t(k)[rows], t(v)[rows], causal)
        error = max((ring - full[:, rows]).abs().max(), (t(uly) - full[:, rows]).abs().max())
        assert error < 1e-5
        lines.append(f"causal={causal!s:<5}: ring and Ulysses equal full attention (< 1e-5): "
                     f"True; sent {ring_sent} B (ring), {uly_sent:.0f} B (Ulysses)")
        work = f"{blocks}/{world} K/V blocks (causal={causal})"
    if rank == 0:
        print("\n".join(lines))
    for r in range(world):
        if r == rank:
            print(f"rank {rank}/{world}: queries {rows.start}-{rows.stop - 1}, "
                  f"ring computed {work}", flush=True)
        dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    mp.start_processes(worker, args=(2,), nprocs=2, start_method="fork")
# --8<-- [end:code]
