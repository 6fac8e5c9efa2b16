"""Resuming from a checkpoint ends with the same weights as the run that was never stopped."""
import os
import tempfile

import torch
from datasets import Dataset
from transformers import (LlamaConfig, LlamaForCausalLM, PrinterCallback, Trainer,
                          TrainerCallback, TrainingArguments)

torch.manual_seed(0)
data = Dataset.from_dict({"input_ids": torch.randint(0, 64, (32, 16)).tolist()})
data = data.map(lambda row: {"labels": row["input_ids"]})  # equal lengths: no collator needed


class StopAt(TrainerCallback):
    """Ends training after `step` optimizer steps, as a crash or a preempted job would."""

    def __init__(self, step):
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        control.should_training_stop = state.global_step >= self.step


def run(out_dir, stop_at=None, resume=None):
    """Train 4 steps (AdamW, linear decay, dropout 0.1), saving a checkpoint every 2 steps."""
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(
        vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, attention_dropout=0.1))
    args = TrainingArguments(
        output_dir=out_dir, use_cpu=True, seed=0, max_steps=4, per_device_train_batch_size=8,
        learning_rate=1e-2, save_strategy="steps", save_steps=2, disable_tqdm=True)
    trainer = Trainer(model=model, args=args, train_dataset=data,
                      callbacks=[StopAt(stop_at)] if stop_at else None)
    trainer.remove_callback(PrinterCallback)
    trainer.train(resume_from_checkpoint=resume)
    return trainer


with tempfile.TemporaryDirectory() as straight, tempfile.TemporaryDirectory() as broken:
    reference = run(straight).model
    run(broken, stop_at=3)  # "crashes" after step 3; the last checkpoint is step 2
    print("checkpoints:", sorted(os.listdir(broken)))
    print("in checkpoint-2:", sorted(os.listdir(os.path.join(broken, "checkpoint-2"))))
    # A fresh process would rebuild model and Trainer the same way, then resume: weights,
    # optimizer and scheduler state, RNG states and the data position all come back.
    resumed = run(broken, resume=os.path.join(broken, "checkpoint-2"))  # or resume=True: the last
    print("resumed at step 2, finished at step", resumed.state.global_step)

same = all(torch.equal(a, b) for a, b in zip(reference.parameters(), resumed.model.parameters()))
print("final weights equal to the uninterrupted run:", same)
assert same
