"""streaming=True: an IterableDataset that reads rows on demand and maps them lazily."""
import json
import tempfile
from pathlib import Path

from datasets import IterableDataset, load_dataset

with tempfile.TemporaryDirectory() as tmp:
    # Two files -> two shards; a shard is the unit that workers and shuffling move around.
    files = []
    for shard in range(2):
        path = Path(tmp) / f"part-{shard}.jsonl"
        path.write_text("".join(json.dumps({"id": shard * 500 + i}) + "\n" for i in range(500)))
        files.append(str(path))

    stream = load_dataset("json", data_files=files, split="train", streaming=True,
                          cache_dir=str(Path(tmp) / "hf_cache"))
    assert isinstance(stream, IterableDataset) and stream.n_shards == 2
    # Nothing was converted to Arrow on disk: streaming skips the cache-building step entirely.
    assert not list(Path(tmp).rglob("*.arrow"))

    seen = []
    def double(example):
        seen.append(example["id"])      # record every row the function really touches
        return {"twice": example["id"] * 2}

    lazy = stream.map(double)           # only records the step; no row is read yet
    assert seen == []
    first = list(lazy.take(3))          # take(n) is itself lazy; list() pulls the rows
    print(first)
    assert [row["twice"] for row in first] == [0, 2, 4]
    # Only the rows pulled were mapped (take reads one past the last it returns), not all 1000.
    print("rows mapped:", len(seen))
    assert len(seen) < 10

    # No len(): the length of a stream is unknown until you have read it all.
    assert not hasattr(stream, "__len__")
    assert sum(1 for _ in stream) == 1000
