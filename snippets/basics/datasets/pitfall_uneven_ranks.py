"""split_dataset_by_node on a stream with unequal shards gives ranks unequal row counts, and the
rank that finishes first leaves the others waiting in a collective (huggingface/datasets#6437)."""
from datasets import IterableDataset
from datasets.distributed import split_dataset_by_node


def rows(shards):
    """Shard s holds 2 + 3*s rows: files of different sizes, as real data shards are."""
    for s in shards:
        for i in range(2 + 3 * s):
            yield {"shard": s, "i": i}


stream = IterableDataset.from_generator(rows, gen_kwargs={"shards": [0, 1, 2, 3]})  # 4 shards


def counts(**kwargs):
    """Rows each of 2 ranks would read."""
    return [sum(1 for _ in split_dataset_by_node(stream, rank=r, world_size=2, **kwargs))
            for r in range(2)]


# WRONG: 4 shards % 2 ranks == 0, so each rank gets 2 whole shards, of different sizes.
wrong = counts()
print("WRONG -> rows per rank:", wrong)
assert wrong == [10, 16]  # rank 0 stops 6 steps early; DDP's all-reduce on rank 1 then hangs

# RIGHT: one row in world_size per rank (differs by at most 1), and stop every rank at the
# smallest count, e.g. max_steps from min(counts) or a stop flag all-reduced each step.
right = counts(strategy="examples")
print("RIGHT -> rows per rank:", right, "| steps for all ranks:", min(right))
assert max(right) - min(right) <= 1
