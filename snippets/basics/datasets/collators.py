"""Data collators pad a list of rows into a batch; for causal LM they also build the labels."""
import torch
from datasets import Dataset
from pydoc_data.topics import topics
from tokenizers import Tokenizer, models, pre_tokenizers, trainers
from torch.utils.data import DataLoader
from transformers import (DataCollatorForLanguageModeling, DataCollatorWithPadding,
                          PreTrainedTokenizerFast)

# A tiny tokenizer trained in-process, wrapped so that transformers' padding logic can use it.
raw = Tokenizer(models.BPE())
raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
raw.train_from_iterator(list(topics.values())[:10], trainers.BpeTrainer(
    vocab_size=400, special_tokens=["<|endoftext|>", "<pad>"], show_progress=False))
tokenizer = PreTrainedTokenizerFast(tokenizer_object=raw, eos_token="<|endoftext|>",
                                    pad_token="<pad>")

texts = ["The for statement", "A with statement wraps a block", "yield"]
ds = Dataset.from_dict({"text": texts}).map(
    lambda batch: tokenizer(batch["text"]), batched=True, remove_columns=["text"])
print(ds.column_names)  # ['input_ids', 'attention_mask']: unpadded, each row its own length

# 1) Dynamic padding: pad to the longest row of *this* batch, not to a global max_length.
pad_collator = DataCollatorWithPadding(tokenizer)
batch = next(iter(DataLoader(ds, batch_size=3, collate_fn=pad_collator)))
lengths = [len(ids) for ids in ds["input_ids"]]
assert batch["input_ids"].shape == (3, max(lengths))
assert batch["attention_mask"].sum(dim=1).tolist() == lengths  # 1 on real tokens, 0 on padding
print(batch["input_ids"])

# 2) Causal LM: labels = input_ids with every padding position set to -100, which
#    torch.nn.functional.cross_entropy ignores (ignore_index=-100), so padding adds no loss.
lm_collator = DataCollatorForLanguageModeling(tokenizer, mlm=False)
lm_batch = lm_collator([ds[i] for i in range(3)])
padding = lm_batch["attention_mask"] == 0
assert (lm_batch["labels"][padding] == -100).all()
assert torch.equal(lm_batch["labels"][~padding], lm_batch["input_ids"][~padding])
print(lm_batch["labels"])
