"""Resuming a stream with a shuffle buffer loses and repeats rows (huggingface/datasets#7901)."""
from collections import Counter

from datasets import Dataset

rows = Dataset.from_dict({"a": list(range(100))})


def run(build):
    """Read 20 rows, save state, rebuild, resume; return (rows lost, rows seen twice)."""
    stream, seen = build(), []
    for step, row in enumerate(stream):
        seen.append(row["a"])
        if step == 19:
            state = stream.state_dict()
            break
    resumed = build()
    resumed.load_state_dict(state)
    counts = Counter(seen + [row["a"] for row in resumed])
    return sorted(set(range(100)) - set(counts)), sorted(k for k, v in counts.items() if v > 1)


# WRONG: a stream shuffle keeps a buffer of rows that the state dict does not store.
lost, twice = run(lambda: rows.to_iterable_dataset(num_shards=1).shuffle(seed=42,
                                                                           buffer_size=10))
print(f"WRONG -> rows lost: {len(lost)}, rows seen twice: {len(twice)}")
assert lost and twice

# RIGHT: shuffle globally while the data is still a map-style Dataset, then stream it.
lost, twice = run(lambda: rows.shuffle(seed=42).to_iterable_dataset(num_shards=1))
print(f"RIGHT -> rows lost: {len(lost)}, rows seen twice: {len(twice)}")
assert not lost and not twice
