"""Tokenize documents, concatenate them, and cut the stream into equal blocks for a causal LM."""
from itertools import chain

from datasets import Dataset
from pydoc_data.topics import topics  # ~465K characters of Python's reference manual, offline
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

# A small byte-level BPE tokenizer trained here, so nothing is downloaded.
tokenizer = Tokenizer(models.BPE())
tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
tokenizer.decoder = decoders.ByteLevel()
tokenizer.train_from_iterator(topics.values(), trainers.BpeTrainer(
    vocab_size=1000, special_tokens=["<|endoftext|>"], show_progress=False,
    initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
eos = tokenizer.token_to_id("<|endoftext|>")

docs = Dataset.from_dict({"text": list(topics.values())})  # 79 documents of very unequal length

def tokenize(batch):
    # An EOS after every document tells the model where one text stops and the next begins.
    return {"input_ids": [enc.ids + [eos] for enc in tokenizer.encode_batch(batch["text"])]}

tokenized = docs.map(tokenize, batched=True, remove_columns=["text"])

block_size = 128

def group_texts(batch):
    stream = list(chain.from_iterable(batch["input_ids"]))
    usable = len(stream) // block_size * block_size      # drop the tail that cannot fill a block
    blocks = [stream[i:i + block_size] for i in range(0, usable, block_size)]
    # Labels are a plain copy: a causal-LM model shifts them by one position internally.
    return {"input_ids": blocks, "labels": [list(b) for b in blocks]}

# batch_size=None hands the whole dataset to one call, so only the very end of the stream is cut.
# With a finite batch_size every batch drops its own remainder (see the note on the page).
packed = tokenized.map(group_texts, batched=True, batch_size=None, remove_columns=["input_ids"])

# ds[:] reads a whole table in one go; iterating ds["col"] would convert row by row (slower).
all_ids = list(chain.from_iterable(tokenized[:]["input_ids"]))
blocks = packed[:]
print(f"{len(docs)} docs -> {len(all_ids)} tokens -> {packed.num_rows} blocks of {block_size}")
assert {len(ids) for ids in blocks["input_ids"]} == {block_size}  # every block is full
kept = list(chain.from_iterable(blocks["input_ids"]))
assert kept == all_ids[:len(kept)]                                 # same tokens, same order
assert 0 <= len(all_ids) - len(kept) < block_size                  # only the tail remainder lost
assert blocks["labels"] == blocks["input_ids"]
print("lost at the tail:", len(all_ids) - len(kept), "tokens")

# The default batch_size=1000 (or any finite one) packs each batch on its own: 79 docs in batches
# of 20 -> 4 batches, each throwing away its own remainder.
per_batch = tokenized.map(group_texts, batched=True, batch_size=20, remove_columns=["input_ids"])
lost_per_batch = len(all_ids) - per_batch.num_rows * block_size
print("lost with batch_size=20:", lost_per_batch, "tokens")
assert lost_per_batch > len(all_ids) - len(kept)
