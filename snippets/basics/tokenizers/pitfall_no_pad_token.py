"""A tokenizer without a pad token cannot pad; reusing EOS as pad also hides EOS from the loss."""
from pydoc_data.topics import topics
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import DataCollatorForLanguageModeling, TokenizersBackend

bpe = Tokenizer(models.BPE())
bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
bpe.decoder = decoders.ByteLevel()
bpe.train_from_iterator(list(topics.values())[:20], trainers.BpeTrainer(
    vocab_size=400, special_tokens=["<|endoftext|>"], show_progress=False,
    initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))


def gpt2_style():
    """Like GPT-2's tokenizer: one special token, used as EOS, and no pad token."""
    return TokenizersBackend(tokenizer_object=Tokenizer.from_str(bpe.to_str()),
                             eos_token="<|endoftext|>")


rows = ["for x in y:<|endoftext|>", "while True: pass<|endoftext|>"]  # each ends with EOS
tok = gpt2_style()
try:
    tok(rows, padding=True)
except ValueError as err:
    print("ValueError:", str(err)[:64])


def eos_labels_kept(tok):
    """How many EOS tokens keep their label after the causal-LM collator."""
    batch = DataCollatorForLanguageModeling(tok, mlm=False)([tok(r) for r in rows])
    return int(((batch["input_ids"] == tok.eos_token_id) & (batch["labels"] != -100)).sum())


# The quick fix in most reports: pad with EOS. Padding works, but the collator sets the label
# of every pad id to -100, and the real EOS tokens have that id too.
tok.pad_token = tok.eos_token
print("pad = eos: EOS labels kept", eos_labels_kept(tok), "of 2")
assert eos_labels_kept(tok) == 0  # the model is never taught to stop

# RIGHT: a pad token of its own (the model then needs resize_token_embeddings(len(tok))).
tok = gpt2_style()
tok.add_special_tokens({"pad_token": "<pad>"})
print("own <pad>: EOS labels kept", eos_labels_kept(tok), "of 2")
assert eos_labels_kept(tok) == 2 and tok.pad_token_id == len(tok) - 1
