"""A map that changes the number of rows must be batched and must drop the old columns."""
import pyarrow as pa
from datasets import Dataset

ds = Dataset.from_dict({"text": ["a b c", "d e", "f"]})  # 3 rows in, 6 words out

def split_words(batch):
    return {"word": [w for text in batch["text"] for w in text.split()]}

# WRONG: the kept column "text" still has 3 values per batch while "word" has 6.
try:
    ds.map(split_words, batched=True)
    raise AssertionError("expected a length mismatch")
except pa.ArrowInvalid as err:
    print("WRONG ->", err)
    assert "expected length 3 but got length 6" in str(err)

# WRONG too: without batched=True one row in is always one row out, so the list of words
# becomes a single nested value instead of new rows.
nested = ds.map(lambda row: {"word": row["text"].split()})
assert nested.num_rows == 3 and nested[0]["word"] == ["a", "b", "c"]

# RIGHT: batched=True lets a batch of 3 come back as 6, and remove_columns drops "text".
words = ds.map(split_words, batched=True, remove_columns=["text"])
print("RIGHT ->", words.num_rows, "rows:", list(words["word"]))
assert words.num_rows == 6 and words["word"] == ["a", "b", "c", "d", "e", "f"]
