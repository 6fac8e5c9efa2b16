"""IterableDataset.shuffle is a buffer shuffle: early outputs can only come from early inputs."""
import json
import tempfile
from pathlib import Path

from datasets import load_dataset

with tempfile.TemporaryDirectory() as tmp:
    path = Path(tmp) / "rows.jsonl"  # one file = one shard, sorted by id
    path.write_text("".join(json.dumps({"id": i}) + "\n" for i in range(1000)))
    cache = str(Path(tmp) / "hf_cache")

    # WRONG (if you expected a global shuffle): a buffer of 10 rows is filled from the stream and
    # each output is drawn from it, so output i always comes from the first 10 + i input rows.
    stream = load_dataset("json", data_files=str(path), split="train", streaming=True,
                          cache_dir=cache)
    local = [row["id"] for row in stream.shuffle(seed=0, buffer_size=10)]
    print("WRONG first ids:", local[:10])
    assert sorted(local) == list(range(1000))                      # still a permutation...
    assert all(row_id < 10 + i for i, row_id in enumerate(local))   # ...but only a local one

    # RIGHT: a map-style Dataset shuffles over all rows (any row can come first). For streams,
    # use a buffer that is large relative to how sorted the data is, and many shuffled shards.
    table = load_dataset("json", data_files=str(path), split="train", cache_dir=cache)
    global_ids = table.shuffle(seed=0)["id"]
    print("RIGHT first ids:", global_ids[:10])
    assert max(global_ids[:100]) > 500
