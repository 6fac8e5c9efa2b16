"""split_dataset_by_node: which rows each rank of a distributed run reads."""
from datasets import Dataset
from datasets.distributed import split_dataset_by_node

ds = Dataset.from_dict({"i": list(range(10))})

# Map-style: each rank gets one contiguous block (rank 0 gets the first rows, the extra row).
for rank in range(3):
    part = split_dataset_by_node(ds, rank=rank, world_size=3)
    print(f"map-style  rank {rank}/3:", list(part["i"]))
parts = [list(split_dataset_by_node(ds, rank=r, world_size=3)["i"]) for r in range(3)]
assert parts == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]

# Iterable with 4 shards: 4 % 2 == 0, so each of 2 ranks reads whole shards (2 each).
stream = ds.to_iterable_dataset(num_shards=4)    # shards: [0-2] [3-5] [6-7] [8-9]
for rank in range(2):
    part = split_dataset_by_node(stream, rank=rank, world_size=2)
    print(f"iterable   rank {rank}/2:", [row["i"] for row in part], "shards:", part.num_shards)
# 4 % 3 != 0: every rank reads every shard and keeps one row in 3 (reads 3x the data).
for rank in range(3):
    part = split_dataset_by_node(stream, rank=rank, world_size=3)
    print(f"iterable   rank {rank}/3:", [row["i"] for row in part])
rows = [[r["i"] for r in split_dataset_by_node(stream, rank=k, world_size=3)] for k in range(3)]
assert rows == [[0, 3, 6, 9], [1, 4, 7], [2, 5, 8]]
assert sorted(sum(rows, [])) == list(range(10))  # together: every row exactly once
