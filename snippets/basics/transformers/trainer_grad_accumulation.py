"""Gradient accumulation: 2 micro-batches of 4 train exactly like one batch of 8, even when the
micro-batches hold different numbers of label tokens."""
import tempfile

import torch
from datasets import Dataset
from transformers import (DataCollatorForLanguageModeling, LlamaConfig, LlamaForCausalLM,
                          PreTrainedTokenizerFast, PrinterCallback, Trainer, TrainingArguments)
from tokenizers import Tokenizer, models

# A word-level tokenizer is enough here: the collator only needs pad_token and padding.
vocab = {"<pad>": 0, **{f"w{i}": i for i in range(1, 64)}}
tok = PreTrainedTokenizerFast(tokenizer_object=Tokenizer(models.WordLevel(vocab, unk_token="w1")),
                              pad_token="<pad>")
torch.manual_seed(0)
rows = [torch.randint(1, 64, (n,)).tolist() for n in [4, 20, 6, 18, 5, 22, 7, 16] * 2]
data = Dataset.from_dict({"input_ids": rows})  # lengths 4..22: the padding differs per batch
collate = DataCollatorForLanguageModeling(tok, mlm=False)  # labels -100 on padding


def new_model():
    """The same tiny Llama (same initial weights) on every call."""
    torch.manual_seed(0)
    return LlamaForCausalLM(LlamaConfig(
        vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, pad_token_id=0))


def train(batch_size, accumulation):
    """Weights after one epoch (16 rows: 2 optimizer steps of 8 rows each) with plain SGD."""
    model = new_model()
    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(
            output_dir=tmp, use_cpu=True, seed=0, num_train_epochs=1, learning_rate=0.5,
            optim="sgd", lr_scheduler_type="constant", save_strategy="no", disable_tqdm=True,
            per_device_train_batch_size=batch_size, gradient_accumulation_steps=accumulation)
        trainer = Trainer(model=model, args=args, train_dataset=data, data_collator=collate)
        trainer.remove_callback(PrinterCallback)
        trainer.train()
    assert trainer.state.global_step == 2  # optimizer steps, not micro-batches
    return torch.cat([p.detach().flatten() for p in model.parameters()])


one_batch, accumulated = train(8, 1), train(4, 2)
moved = (one_batch - torch.cat([p.flatten() for p in new_model().parameters()])).abs().max()
diff = (one_batch - accumulated).abs().max()
print(f"weights moved by up to {moved:.2f}; batch 8 vs 4 x 2 accumulated, max |diff| < 1e-5:",
      bool(diff < 1e-5))
assert moved > 0.01 and diff < 1e-5

# Why the normalisation matters: the mean of two micro-batch means is not the batch mean when
# the micro-batches hold different numbers of label tokens. Trainer instead passes
# num_items_in_batch (label tokens in the whole accumulated batch) to the model's loss, which
# then sums over tokens and divides once.
model = new_model().eval()
full, halves = collate(rows[:8]), [collate(rows[:4]), collate(rows[4:8])]
with torch.no_grad():
    batch_mean = model(**full).loss.item()
    mean_of_means = sum(model(**h).loss.item() for h in halves) / 2
    tokens = (full["labels"][:, 1:] != -100).sum()  # label tokens after the shift
    summed = sum(model(**h, num_items_in_batch=tokens).loss.item() for h in halves)
print(f"batch mean {batch_mean:.4f} | mean of micro-batch means {mean_of_means:.4f} | "
      f"sum with num_items_in_batch {summed:.4f}")
assert abs(summed - batch_mean) < 1e-5 and abs(mean_of_means - batch_mean) > 1e-4
