"""A short Trainer run on CPU: the eval loss after training is below the loss before it."""
import tempfile

from pydoc_data.topics import topics
import torch
from datasets import Dataset
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import (DataCollatorForLanguageModeling, LlamaConfig, LlamaForCausalLM,
                          PreTrainedTokenizerFast, PrinterCallback, Trainer, TrainingArguments)

bpe = Tokenizer(models.BPE())
bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
bpe.decoder = decoders.ByteLevel()
bpe.train_from_iterator(topics.values(), trainers.BpeTrainer(
    vocab_size=512, special_tokens=["<pad>", "<s>", "</s>"], show_progress=False,
    initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
tok = PreTrainedTokenizerFast(tokenizer_object=bpe, pad_token="<pad>", bos_token="<s>",
                              eos_token="</s>")

# Cut one long token stream into equal 32-token blocks: no padding needed.
stream = tok(topics["for"] + topics["while"] + topics["if"] + topics["try"])["input_ids"]
blocks = [stream[i:i + 32] for i in range(0, len(stream) - 32, 32)]
data = Dataset.from_dict({"input_ids": blocks}).train_test_split(test_size=16, seed=0)

torch.manual_seed(0)
model = LlamaForCausalLM(LlamaConfig(
    vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
    num_attention_heads=4, num_key_value_heads=2, pad_token_id=tok.pad_token_id))

with tempfile.TemporaryDirectory() as tmp:
    args = TrainingArguments(
        output_dir=tmp, use_cpu=True, report_to="none", seed=0,
        num_train_epochs=2, per_device_train_batch_size=8, per_device_eval_batch_size=16,
        learning_rate=3e-3, eval_strategy="epoch", logging_steps=10, save_strategy="no",
        disable_tqdm=True)  # progress bars off: a PrinterCallback prints each log dict instead
    trainer = Trainer(
        model=model, args=args, train_dataset=data["train"], eval_dataset=data["test"],
        processing_class=tok,  # replaces the old tokenizer= argument
        data_collator=DataCollatorForLanguageModeling(tok, mlm=False))  # labels = input_ids
    trainer.remove_callback(PrinterCallback)  # its dicts hold timings; the losses are printed below
    before = trainer.evaluate()["eval_loss"]
    trainer.train()
    after = trainer.evaluate()["eval_loss"]

# Everything Trainer logged (every logging_steps, and each evaluation) is in its log history.
logged = [entry for entry in trainer.state.log_history if "loss" in entry]  # the training losses
print("train loss:", " | ".join(f"step {entry['step']}: {entry['loss']:.3f}" for entry in logged))
print(f"{len(data['train'])} train blocks; eval loss {before:.3f} -> {after:.3f}")
assert after < before - 0.5
