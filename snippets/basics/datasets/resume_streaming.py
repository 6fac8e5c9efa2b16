"""Resumable streaming: IterableDataset.state_dict() / load_state_dict() continue a mixture
exactly where an interrupted run stopped."""
import json

from datasets import Dataset, interleave_datasets


def build():
    """The same pipeline every time the job starts: 2 sources, 6 shards, a 70/30 mix, a map."""
    code = Dataset.from_dict({"i": list(range(20))}).shuffle(seed=0)  # global shuffle, map-style
    web = Dataset.from_dict({"i": list(range(100, 110))})
    mix = interleave_datasets([code.to_iterable_dataset(num_shards=4),
                               web.to_iterable_dataset(num_shards=2)],
                              probabilities=[0.7, 0.3], seed=0)
    return mix.map(lambda row: {"i2": row["i"] * 2})


uninterrupted = [row["i"] for row in build()]

# First run: read 7 rows, save the state (a plain dict, JSON-serialisable), "crash".
stream, seen = build(), []
for step, row in enumerate(stream):
    seen.append(row["i"])
    if step == 6:
        saved = json.dumps(stream.state_dict())  # store it with the model checkpoint
        break

# Second run: rebuild the pipeline, load the state, continue.
resumed = build()
resumed.load_state_dict(json.loads(saved))
rest = [row["i"] for row in resumed]
print("before the crash:", seen)
print("after resuming:  ", rest[:8], f"and {len(rest) - 8} more")
print("resumed == uninterrupted:", seen + rest == uninterrupted)
assert seen + rest == uninterrupted
