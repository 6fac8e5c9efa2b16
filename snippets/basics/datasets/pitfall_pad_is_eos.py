"""pad_token = eos_token makes the causal-LM collator mask every real EOS in the labels."""
from tokenizers import Tokenizer, models, pre_tokenizers, trainers
from transformers import DataCollatorForLanguageModeling, PreTrainedTokenizerFast

texts = ["the for statement", "the with statement", "yield"]
raw = Tokenizer(models.WordLevel(unk_token="<unk>"))
raw.pre_tokenizer = pre_tokenizers.Whitespace()
raw.train_from_iterator(texts,
                        trainers.WordLevelTrainer(special_tokens=["<unk>", "<eos>", "<pad>"]))

def batch_labels(tokenizer):
    eos = tokenizer.eos_token_id
    # each text ends in EOS
    rows = [{"input_ids": tokenizer(t)["input_ids"] + [eos]} for t in texts]
    batch = DataCollatorForLanguageModeling(tokenizer, mlm=False)(rows)
    return batch["input_ids"], batch["labels"], eos

# WRONG: reusing EOS as the pad token (a common shortcut when a tokenizer has no pad token).
shared = PreTrainedTokenizerFast(tokenizer_object=raw, eos_token="<eos>", pad_token="<eos>")
ids, labels, eos = batch_labels(shared)
print("WRONG labels:\n", labels)
# The collator sets labels to -100 wherever input_ids == pad_token_id, so the real EOS at the end
# of each text is ignored too: the model is never trained to stop.
assert (labels[ids == eos] == -100).all()

# RIGHT: a pad token of its own; only padding is masked, every EOS keeps its label.
separate = PreTrainedTokenizerFast(tokenizer_object=raw, eos_token="<eos>", pad_token="<pad>")
ids, labels, eos = batch_labels(separate)
print("RIGHT labels:\n", labels)
assert (labels[ids == eos] == eos).all() and (ids == eos).sum() == len(texts)
assert (labels[ids == separate.pad_token_id] == -100).all()
