"""set_format changes the dataset in place and returns None; with_format returns a new view."""
import torch
from datasets import Dataset

ds = Dataset.from_dict({"x": [1, 2, 3]})

# WRONG: written as if it returned a formatted copy.
formatted = ds.set_format("torch")
print("WRONG -> set_format returned", formatted, "and ds[0] is now", ds[0])
assert formatted is None                          # nothing was returned...
assert isinstance(ds[0]["x"], torch.Tensor)       # ...but ds itself was changed
ds.reset_format()                                 # back to Python objects

# RIGHT: with_format leaves ds alone and gives a new Dataset over the same Arrow data.
tds = ds.with_format("torch")
print("RIGHT -> ds[0] =", ds[0], " tds[0] =", tds[0])
assert isinstance(ds[0]["x"], int) and isinstance(tds[0]["x"], torch.Tensor)
assert tds.data.table is ds.data.table            # same pyarrow Table underneath: no data copied
