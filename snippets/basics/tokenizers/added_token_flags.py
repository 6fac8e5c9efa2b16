"""What each AddedToken flag changes, and split_special_tokens."""
from pydoc_data.topics import topics
from tokenizers import (AddedToken, Tokenizer, decoders, models, normalizers, pre_tokenizers,
                        trainers)
from transformers import TokenizersBackend

base = Tokenizer(models.BPE())
base.normalizer = normalizers.Lowercase()  # so that `normalized` has something to do
base.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
base.decoder = decoders.ByteLevel()
base.train_from_iterator(list(topics.values())[:20], trainers.BpeTrainer(
    vocab_size=300, show_progress=False, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))


def pieces(token, text):
    """The pieces of `text` after adding `token` to a copy of the base tokenizer; the added
    token is shown in [brackets], other pieces as the text they cover."""
    tok = Tokenizer.from_str(base.to_str())
    tok.add_tokens([token])
    enc = tok.encode(text)
    return [f"[{text[a:b]}]" if i == tok.token_to_id(token.content) else text[a:b]
            for i, (a, b) in zip(enc.ids, enc.offsets)]


flags = {  # flag -> (token, text)
    "default": (AddedToken("cat"), "cat concat"),
    "single_word=True": (AddedToken("cat", single_word=True), "cat concat"),
    "normalized=True": (AddedToken("cat", normalized=True), "Cat CAT"),
    "normalized=False": (AddedToken("cat", normalized=False), "Cat CAT"),
    "lstrip=True": (AddedToken("<M>", lstrip=True), "a <M> b"),
    "rstrip=True": (AddedToken("<M>", rstrip=True), "a <M> b"),
}
for flag, (token, text) in flags.items():
    print(f"{flag:17}", "".join(pieces(token, text)).replace(" ", "·"))

# special=True: skipped by decode(skip_special_tokens=True), and never split by the model.
tok = TokenizersBackend(tokenizer_object=Tokenizer.from_str(base.to_str()))
tok.add_tokens([AddedToken("<tool>", special=True)])
ids = tok("call <tool> now").input_ids
print("special:", tok.convert_ids_to_tokens(ids), "->",
      repr(tok.decode(ids, skip_special_tokens=True)))
# split_special_tokens=True: special tokens in the text are encoded as ordinary text.
split = tok("call <tool> now", split_special_tokens=True).input_ids
print("split_special_tokens=True:", tok.convert_ids_to_tokens(split))
tool_id = tok.convert_tokens_to_ids("<tool>")
assert tool_id in ids and tool_id not in split
