"""Decoding attention over a paged KV cache: one pool of fixed-size blocks shared by all sequences,
a block table per sequence, and the same result as attention over contiguous K and V."""
import math

import torch
import torch.nn.functional as F

BLOCK_SIZE, NUM_BLOCKS, HEADS, HEAD_DIM = 16, 32, 4, 32


def paged_decode_attention(q, k_pool, v_pool, block_tables, seq_lens):
    """Attention of one new query per sequence over its cached keys and values.

    q: (batch, heads, d); k_pool, v_pool: (num_blocks, block_size, heads, d), the shared pool;
    block_tables: (batch, max_blocks) physical block ids, logical order; seq_lens: (batch,)
    cached tokens. Returns (batch, heads, d). For clarity this gathers the blocks into order; a
    decoding kernel reads them one by one through the table and folds them in with an online
    softmax, never copying the cache."""
    k = k_pool[block_tables].flatten(1, 2)  # (batch, max_blocks * block_size, heads, d)
    v = v_pool[block_tables].flatten(1, 2)
    valid = torch.arange(k.shape[1]) < seq_lens[:, None]  # each last block is only partly filled
    scores = torch.einsum("bhd,bthd->bht", q, k) / math.sqrt(q.shape[-1])
    scores = scores.masked_fill(~valid[:, None, :], float("-inf"))
    return torch.einsum("bht,bthd->bhd", scores.softmax(dim=-1), v)


torch.manual_seed(0)
k_pool = torch.zeros(NUM_BLOCKS, BLOCK_SIZE, HEADS, HEAD_DIM)  # the whole cache of one layer
v_pool = torch.zeros_like(k_pool)
free_blocks = torch.randperm(NUM_BLOCKS).tolist()  # blocks are handed out in any order
seq_lens = torch.tensor([37, 5, 20])
max_blocks = math.ceil(seq_lens.max().item() / BLOCK_SIZE)
block_tables = torch.zeros(len(seq_lens), max_blocks, dtype=torch.long)  # unused entries: block 0
contiguous = []  # the same K and V, stored the plain way, for the reference
for s, n in enumerate(seq_lens.tolist()):
    k, v = torch.randn(n, HEADS, HEAD_DIM), torch.randn(n, HEADS, HEAD_DIM)
    contiguous.append((k, v))
    for pos in range(n):  # the cache writes token by token, as decoding appends them
        if pos % BLOCK_SIZE == 0:  # a new block only when the last one is full
            block_tables[s, pos // BLOCK_SIZE] = free_blocks.pop()
        block = block_tables[s, pos // BLOCK_SIZE]
        k_pool[block, pos % BLOCK_SIZE], v_pool[block, pos % BLOCK_SIZE] = k[pos], v[pos]
    blocks = block_tables[s, :math.ceil(n / BLOCK_SIZE)].tolist()
    print(f"sequence {s}: {n:>2} tokens -> blocks {blocks}")

q = torch.randn(len(seq_lens), HEADS, HEAD_DIM)  # the newest token's query, one per sequence
paged = paged_decode_attention(q, k_pool, v_pool, block_tables, seq_lens)
errors = []
for s, (k, v) in enumerate(contiguous):  # (heads, 1, d) query against (heads, n, d) keys
    plain = F.scaled_dot_product_attention(q[s, :, None], k.transpose(0, 1), v.transpose(0, 1))
    errors.append((paged[s] - plain[:, 0]).abs().max().item())  # float32 rounding only
print(f"paged == contiguous attention, every sequence (max error < 1e-5): {max(errors) < 1e-5}")
assert max(errors) < 1e-5
used = sum(math.ceil(n / BLOCK_SIZE) for n in seq_lens.tolist())
print(f"slots reserved: {used} blocks x {BLOCK_SIZE} = {used * BLOCK_SIZE} for "
      f"{seq_lens.sum().item()} tokens; {NUM_BLOCKS - used} blocks still free")
