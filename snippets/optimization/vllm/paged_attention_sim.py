import itertools
import math
import random

BLOCK = 16  # tokens per KV block (vLLM's default on GPUs)


# --8<-- [start:key]
class BlockManager:
    """A pool of physical KV blocks, a free list, and a reference count per block."""

    def __init__(self, num_blocks):
        self.free = list(range(num_blocks))[::-1]  # pop() hands out 0, 1, 2, ...
        self.refs = [0] * num_blocks
        self.copies = 0

    def alloc(self):
        block = self.free.pop()
        self.refs[block] = 1
        return block

    def append(self, table, position):
        """Make room for the token at `position` of the sequence whose block table is `table`."""
        if position % BLOCK == 0:  # last block full (or no block yet): take a new one
            table.append(self.alloc())
        elif self.refs[table[-1]] > 1:  # last block shared with another sequence: copy on write
            self.refs[table[-1]] -= 1
            table[-1] = self.alloc()  # (a real engine also copies the block's keys and values)
            self.copies += 1

    def fork(self, table):  # a second sequence maps the same blocks
        for block in table:
            self.refs[block] += 1
        return list(table)

    def release(self, table):  # a sequence finished: blocks nobody else maps are free again
        for block in table:
            self.refs[block] -= 1
            if self.refs[block] == 0:
                self.free.append(block)
# --8<-- [end:key]


# 1. Fragmentation: 128 requests whose lengths are only known when they finish.
random.seed(0)
MAX_LEN = 2048  # what a contiguous cache must reserve per request up front
lengths = [random.randint(10, 200) + min(int(random.expovariate(1 / 150)), 1500)
           for _ in range(128)]
manager = BlockManager(num_blocks=10_000)
tables = []
for n in lengths:
    table = []
    for position in range(n):  # blocks are taken one at a time, as tokens arrive
        manager.append(table, position)
    tables.append(table)
used, paged = sum(lengths), BLOCK * sum(len(t) for t in tables)
assert paged == BLOCK * sum(math.ceil(n / BLOCK) for n in lengths)
print(f"tokens stored: {used}; mean length {used / len(lengths):.0f}, max_len {MAX_LEN}")
reserved = len(lengths) * MAX_LEN
print(f"contiguous, max_len reserved: {reserved:6d} slots, waste {1 - used / reserved:.1%}")
print(f"paged, {BLOCK}-token blocks:      {paged:6d} slots, waste {1 - used / paged:.1%}")
budget = 16 * MAX_LEN  # the memory of 16 contiguous reservations
fits = sum(1 for total in itertools.accumulate(BLOCK * len(t) for t in tables) if total <= budget)
print(f"requests that fit in {budget} slots: contiguous {budget // MAX_LEN}, paged {fits}")
for table in tables:
    manager.release(table)
assert len(manager.free) == 10_000  # every block went back to the free list

# 2. Parallel sampling: 3 samples of one 40-token prompt share its blocks.
manager, prompt = BlockManager(num_blocks=64), []
for position in range(40):
    manager.append(prompt, position)
samples = [manager.fork(prompt) for _ in range(3)]
manager.release(prompt)  # only the samples hold the prompt blocks now
for position in range(40, 60):  # 20 new tokens each
    for table in samples:
        manager.append(table, position)
for i, table in enumerate(samples):
    print(f"sample {i} block table: {table}")
shared = len({block for table in samples for block in table})
unshared = 3 * math.ceil(60 / BLOCK)
print(f"physical blocks: {shared} shared vs {unshared} unshared; copies on write: {manager.copies}")
assert manager.copies == 2  # the last sample to write owns the block and writes in place
