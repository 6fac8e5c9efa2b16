"""Trainer drops dataset columns that model.forward() does not name, before your collator runs."""
import tempfile

import torch
from datasets import Dataset
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import (LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast, PrinterCallback,
                          Trainer, TrainingArguments)

vocab = {"<pad>": 0, "<unk>": 1, **{w: i + 2 for i, w in enumerate("a b c d e f g h".split())}}
wl = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
wl.pre_tokenizer = pre_tokenizers.Whitespace()
tok = PreTrainedTokenizerFast(tokenizer_object=wl, pad_token="<pad>")
data = Dataset.from_dict({"text": ["a b c d", "e f g", "h a b", "c d e f g"] * 2})


def collate(rows):
    """Tokenize raw text at batch time (a common pattern): needs the "text" column."""
    batch = tok([row["text"] for row in rows], padding=True, return_tensors="pt")
    batch["labels"] = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    return batch


def train(**extra):
    """Two steps of Trainer with the collator above; returns the final training loss."""
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(
        vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
        num_attention_heads=4, num_key_value_heads=2, pad_token_id=0))
    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(output_dir=tmp, use_cpu=True, max_steps=2, save_strategy="no",
                                 per_device_train_batch_size=4, disable_tqdm=True, **extra)
        trainer = Trainer(model=model, args=args, train_dataset=data, data_collator=collate)
        trainer.remove_callback(PrinterCallback)
        return trainer.train().training_loss


# WRONG: "text" is not an argument of LlamaForCausalLM.forward, so Trainer removes it
# (remove_unused_columns=True is the default). With no column left it raises; with another
# column left (say "labels"), the collator would get rows without "text": a KeyError.
try:
    train()
except ValueError as err:
    print("ValueError:", str(err)[:71])
    assert "set `remove_unused_columns=False`" in str(err)

# RIGHT: keep the columns when the collator, not the model, consumes them.
loss = train(remove_unused_columns=False)
print(f"remove_unused_columns=False: trained, loss {loss:.2f}")
assert loss > 0
