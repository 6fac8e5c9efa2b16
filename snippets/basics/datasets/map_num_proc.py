"""map(num_proc=2): the rows are cut into 2 contiguous shards, mapped in 2 worker processes,
and joined back in order: the result equals num_proc=1."""
import os

from datasets import Dataset


def tag(batch):
    """Square each x and record which process did the work."""
    return {"sq": [x * x for x in batch["x"]], "pid": [os.getpid()] * len(batch["x"])}


if __name__ == "__main__":  # spawned/forkserver workers import this file again
    ds = Dataset.from_dict({"x": list(range(1000))})
    one = ds.map(tag, batched=True)
    two = ds.map(tag, batched=True, num_proc=2)
    print("same rows, same order:", list(one["sq"]) == list(two["sq"]))
    pids = list(two["pid"])
    print("worker processes:", len(set(pids)), "| first 500 rows from one worker:",
          len(set(pids[:500])) == 1)
    assert list(one["sq"]) == list(two["sq"]) and len(set(pids)) == 2
    assert os.getpid() not in set(pids)       # the parent did none of the mapping
