"""map() results are cached by a hash of the function; state the hash cannot see goes stale."""
import json
import os
import tempfile
from pathlib import Path

from datasets import load_dataset

with tempfile.TemporaryDirectory() as tmp:
    path = Path(tmp) / "rows.jsonl"
    path.write_text("".join(json.dumps({"x": i}) + "\n" for i in range(5)))
    # Loaded from files, the dataset lives in cache files, so every map() result is written next
    # to them under a fingerprint = hash(previous fingerprint, function, arguments).
    ds = load_dataset("json", data_files=str(path), split="train", cache_dir=str(Path(tmp) / "c"))

    # WRONG: the function reads a setting from the environment. The hash covers the function's
    # code and the variables it closes over, not what os.environ holds when it runs.
    def scale(row):
        return {"y": row["x"] * int(os.environ["SCALE"])}

    os.environ["SCALE"] = "2"
    assert ds.map(scale)["y"] == [0, 2, 4, 6, 8]
    os.environ["SCALE"] = "10"
    stale = ds.map(scale)["y"]                 # same fingerprint -> the old file is reused
    print("WRONG ->", list(stale))
    assert stale == [0, 2, 4, 6, 8]

    # RIGHT: pass the setting as an argument; fn_kwargs are part of the fingerprint.
    def scale_by(row, factor):
        return {"y": row["x"] * factor}

    fresh = ds.map(scale_by, fn_kwargs={"factor": int(os.environ["SCALE"])})["y"]
    print("RIGHT ->", list(fresh))
    assert fresh == [0, 10, 20, 30, 40]
    # (load_from_cache_file=False also forces a recompute, at the price of never reusing it.)
    assert ds.map(scale, load_from_cache_file=False)["y"] == [0, 10, 20, 30, 40]
    del os.environ["SCALE"]
