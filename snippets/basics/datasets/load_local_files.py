"""Write the same table as JSON Lines, CSV and Parquet, then read each back with load_dataset."""
import tempfile
from pathlib import Path

import pandas as pd
from datasets import DatasetDict, load_dataset

rows = pd.DataFrame({
    "text": ["for loops", "while loops", "the with statement", "lambda", "yield"],
    "label": [0, 0, 1, 1, 1],
})

with tempfile.TemporaryDirectory() as tmp:
    tmp = Path(tmp)
    # pandas writes the files; any tool that produces these formats would do.
    rows.to_json(tmp / "train.jsonl", orient="records", lines=True)
    rows.to_csv(tmp / "train.csv", index=False)
    rows.to_parquet(tmp / "train.parquet")

    # cache_dir in the temp folder keeps the run hermetic: the Arrow files that load_dataset
    # builds land here instead of ~/.cache/huggingface/datasets.
    cache = str(tmp / "hf_cache")
    loaded = {
        fmt: load_dataset(fmt, data_files=str(tmp / f"train.{ext}"), split="train", cache_dir=cache)
        for fmt, ext in [("json", "jsonl"), ("csv", "csv"), ("parquet", "parquet")]
    }
    for fmt, ds in loaded.items():
        print(f"{fmt:8s} rows={ds.num_rows} features={ds.features}")
        assert ds.to_pandas().equals(rows), fmt  # same values and dtypes from every format

    # A dict of data_files gives named splits; without split= you get a DatasetDict.
    splits = load_dataset("json", cache_dir=cache, data_files={
        "train": str(tmp / "train.jsonl"), "test": str(tmp / "train.jsonl")})
    assert isinstance(splits, DatasetDict) and set(splits) == {"train", "test"}
    print(splits)

    # The loaded dataset is backed by an Arrow file in the cache, memory-mapped, not held in RAM.
    arrow_file = Path(loaded["json"].cache_files[0]["filename"])
    assert arrow_file.suffix == ".arrow" and arrow_file.is_relative_to(tmp / "hf_cache")
    print("backed by", arrow_file.name)
