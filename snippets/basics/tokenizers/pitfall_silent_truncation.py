"""truncation=True drops the tail without a word; overflow windows keep every token."""
from pydoc_data.topics import topics
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import TokenizersBackend

tok = Tokenizer(models.BPE())
tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
tok.decoder = decoders.ByteLevel()
tok.train_from_iterator(list(topics.values())[:20], trainers.BpeTrainer(
    vocab_size=1000, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    special_tokens=["<|pad|>", "<|bos|>", "<|eos|>"], show_progress=False))
hf_tok = TokenizersBackend(tokenizer_object=tok, bos_token="<|bos|>", eos_token="<|eos|>",
                           pad_token="<|pad|>")

doc = topics["for"][:400]                     # a paragraph that is longer than 32 tokens
full = hf_tok(doc)["input_ids"]

# WRONG: no error, no warning; everything after token 32 is simply gone.
cut = hf_tok(doc, truncation=True, max_length=32)["input_ids"]
print(f"{len(full)} tokens -> {len(cut)} kept; the text now ends with {hf_tok.decode(cut)[-25:]!r}")
assert len(cut) == 32 < len(full) and hf_tok.decode(cut) != doc

# RIGHT: ask for the overflow as extra windows; stride=8 repeats 8 tokens between neighbours
# so no window starts blind. Strip the overlap and the windows rebuild the whole document.
windows = hf_tok(doc, truncation=True, max_length=32, stride=8,
                 return_overflowing_tokens=True)["input_ids"]
rebuilt = windows[0] + [t for w in windows[1:] for t in w[8:]]
print(f"{len(windows)} windows of <= 32 tokens")
assert all(len(w) <= 32 for w in windows)
assert rebuilt == full and hf_tok.decode(rebuilt) == doc
