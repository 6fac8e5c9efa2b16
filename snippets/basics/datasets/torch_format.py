"""with_format("torch"): what a row and a batch look like, dtypes included."""
import torch
from torch.utils.data import DataLoader
from datasets import Dataset

ds = Dataset.from_dict({
    "input_ids": [[5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16], [17, 18, 19, 20]],
    "score": [0.5, 1.5, 2.5, 3.5],      # Python floats -> Arrow float64
    "label": [0, 1, 0, 1],
    "text": ["a", "b", "c", "d"],
})
print(ds.features)
# The writer stores columns named input_ids as int32 and attention_mask as int8 to save space.
assert ds.features["input_ids"].feature.dtype == "int32"

tds = ds.with_format("torch")           # a new view of the same Arrow data; ds is unchanged
batch = tds[:2]                          # slicing gives a dict of columns
for name, value in batch.items():
    print(f"{name:9s}", type(value).__name__, getattr(value, "dtype", ""),
          getattr(value, "shape", ""))
# Every integer column comes out as int64 (what nn.Embedding and cross_entropy expect),
# int32 or not.
assert batch["input_ids"].dtype == torch.int64 and batch["input_ids"].shape == (2, 4)
assert batch["score"].dtype == torch.float32  # float64 columns come out as float32 by default
assert batch["text"] == ["a", "b"]            # strings cannot be tensors; they stay a list
assert isinstance(ds[0]["label"], int)        # the original still returns Python objects

# Rows of different lengths cannot be stacked: you get a list of 1-D tensors instead.
ragged = Dataset.from_dict({"input_ids": [[1, 2], [3, 4, 5]]}).with_format("torch")[:2]
assert isinstance(ragged["input_ids"], list) and ragged["input_ids"][1].shape == (3,)

# columns= keeps only what the model needs, so PyTorch's default collate can stack every field.
loader = DataLoader(ds.with_format("torch", columns=["input_ids", "label"]), batch_size=2)
first = next(iter(loader))
print({k: (v.dtype, tuple(v.shape)) for k, v in first.items()})
assert set(first) == {"input_ids", "label"} and first["input_ids"].shape == (2, 4)
