"""ds["col"] is a lazy Column in datasets 4+, not a list or an array (huggingface/datasets#7709)."""
import numpy as np
from datasets import Dataset

ds = Dataset.from_dict({"star": [1, 5, 3, 4]}).with_format("numpy")

# WRONG: datasets 3 returned a NumPy array here; datasets 4 and later return a Column.
col = ds["star"]
try:
    col.ndim
except AttributeError as err:
    print("WRONG ->", err)
    assert type(col).__name__ == "Column"

# RIGHT: read the column in one pass through a slice, which honours the format.
arr = ds[:]["star"]
print("RIGHT ->", type(arr).__name__, arr.ndim, arr.mean())
assert isinstance(arr, np.ndarray) and arr.mean() == 3.25
assert np.asarray(col).tolist() == arr.tolist()  # np.asarray(col) also works, row by row
