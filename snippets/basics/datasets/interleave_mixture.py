"""Data mixtures: interleave_datasets (probabilities, seed, stopping strategy) and
concatenate_datasets."""
from collections import Counter

from datasets import Dataset, concatenate_datasets, interleave_datasets

code = Dataset.from_dict({"src": ["code"] * 6, "i": list(range(6))})
web = Dataset.from_dict({"src": ["web"] * 3, "i": list(range(3))})

# Without probabilities: strict round robin, code, web, code, web, ...
for strategy in ["first_exhausted", "all_exhausted", "all_exhausted_without_replacement"]:
    mix = interleave_datasets([code, web], stopping_strategy=strategy)
    print(f"{strategy:33} rows={len(mix):2} {dict(Counter(mix['src']))}",
          "web ids:", [i for s, i in zip(mix["src"], mix["i"]) if s == "web"])
first = interleave_datasets([code, web], stopping_strategy="first_exhausted")
every = interleave_datasets([code, web], stopping_strategy="all_exhausted")
assert Counter(first["src"]) == {"code": 3, "web": 3}     # stops when web runs out: 3 code lost
assert Counter(every["src"]) == {"code": 6, "web": 6}     # web restarts: its rows seen twice

# With probabilities: each next row comes from source k with probability p_k (seeded draw).
big_code = Dataset.from_dict({"src": ["code"] * 1000})
big_web = Dataset.from_dict({"src": ["web"] * 1000})
mix = interleave_datasets([big_code, big_web], probabilities=[0.8, 0.2], seed=42)
counts = Counter(mix["src"])
print("p=[0.8, 0.2] first_exhausted:", dict(counts))
assert counts["code"] == 1000 and 200 < counts["web"] < 300  # code ran out first, ~1:4 mix
again = interleave_datasets([big_code, big_web], probabilities=[0.8, 0.2], seed=42)
assert list(again["src"]) == list(mix["src"])                # same seed, same order

# concatenate_datasets: one after the other, no mixing; the columns must match.
both = concatenate_datasets([code, web])
print("concatenated:", len(both), "rows, first web row at index", list(both["src"]).index("web"))
assert len(both) == 9 and list(both["src"]) == ["code"] * 6 + ["web"] * 3
