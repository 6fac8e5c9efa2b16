"""shuffle(seed=...) and train_test_split(seed=...): reproducible, disjoint, and stratifiable."""
from collections import Counter

from datasets import ClassLabel, Dataset

ds = Dataset.from_dict({"id": list(range(100)), "label": [i % 4 == 0 for i in range(100)]})

# shuffle() does not move any data: it attaches an indices mapping on top of the Arrow table.
shuffled = ds.shuffle(seed=42)
assert shuffled["id"] == ds.shuffle(seed=42)["id"]          # same seed, same order
assert sorted(shuffled["id"]) == list(range(100))          # a permutation, nothing lost
assert shuffled._indices is not None                       # the lazy mapping
# flatten_indices() rewrites the rows in the new order, so later reads are contiguous again.
assert shuffled.flatten_indices()._indices is None
print("first ids after shuffle:", shuffled["id"][:8])

# train_test_split shuffles too (shuffle=True by default) and returns a DatasetDict.
split = ds.train_test_split(test_size=0.2, seed=0)
train_ids, test_ids = set(split["train"]["id"]), set(split["test"]["id"])
assert len(test_ids) == 20 and len(train_ids) == 80
assert not train_ids & test_ids and train_ids | test_ids == set(range(100))
print(split)

# Stratified split: the column must be a ClassLabel, so cast the bool column first.
labelled = ds.cast_column("label", ClassLabel(names=["rest", "every_4th"]))
strat = labelled.train_test_split(test_size=0.2, seed=0, stratify_by_column="label")
counts = Counter(strat["test"]["label"])
print("test label counts:", dict(counts))
assert counts == {0: 15, 1: 5}  # 25 % positives overall -> 5 of the 20 test rows
