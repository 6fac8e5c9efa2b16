"""train_test_split without a seed gives a different split every call, so test rows can leak."""
from datasets import Dataset

ds = Dataset.from_dict({"id": list(range(100))})

# WRONG: no seed -> the permutation is drawn from NumPy's global RNG, which moves on after each
# call. Splitting again (in the evaluation script, after a restart...) gives another test set,
# and rows you now test on were trained on before.
first = ds.train_test_split(test_size=0.2)
again = ds.train_test_split(test_size=0.2)
leaked = set(first["train"]["id"]) & set(again["test"]["id"])
# How many rows leak changes from run to run (about 16 of 20 on average),
# so print only that some do.
print("WRONG -> same test rows on both calls:", first["test"]["id"] == again["test"]["id"])
print("WRONG -> some new test rows were training rows:", len(leaked) > 0)
assert first["test"]["id"] != again["test"]["id"] and leaked

# RIGHT: pass seed= (or a numpy Generator via generator=) and the split is the same every time.
a = ds.train_test_split(test_size=0.2, seed=1234)
b = ds.train_test_split(test_size=0.2, seed=1234)
assert a["test"]["id"] == b["test"]["id"]
assert not set(a["train"]["id"]) & set(b["test"]["id"])
print("RIGHT -> same test rows on both calls:", a["test"]["id"] == b["test"]["id"])
print("RIGHT -> first 8 test ids:", sorted(a["test"]["id"])[:8])
