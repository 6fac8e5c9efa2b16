"""Walk one string through the five stages of a tokenizers.Tokenizer by hand."""
from pydoc_data.topics import topics
from tokenizers import (Tokenizer, decoders, models, normalizers, pre_tokenizers, processors,
                        trainers)

tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
tok.normalizer = normalizers.Sequence(
    [normalizers.NFD(), normalizers.StripAccents(), normalizers.Lowercase()])
tok.pre_tokenizer = pre_tokenizers.Whitespace()
tok.decoder = decoders.WordPiece()
tok.train_from_iterator(list(topics.values())[:40], trainers.WordPieceTrainer(
    vocab_size=1000, special_tokens=["[UNK]", "[CLS]", "[SEP]"], show_progress=False))
# The post-processor is set after training because it needs the ids the trainer gave [CLS]/[SEP].
tok.post_processor = processors.TemplateProcessing(
    single="[CLS] $A [SEP]",
    pair="[CLS] $A [SEP] $B:1 [SEP]:1",  # ":1" sets type_id 1 on the second segment
    special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))],
)

text = "Déjà vu: Generators YIELD values."
normalized = tok.normalizer.normalize_str(text)                # 1. clean up the characters
words = tok.pre_tokenizer.pre_tokenize_str(normalized)         # 2. cut into words (with offsets)
pieces = [t.value for w, _ in words for t in tok.model.tokenize(w)]  # 3. model: words -> subwords
print("normalized :", normalized)
print("pre-tokens :", [w for w, _ in words])
print("model      :", pieces)

enc = tok.encode(text)                                         # 4. post-processor adds specials
print("encoded    :", enc.tokens)
print("decoded    :", tok.decoder.decode(pieces))             # 5. decoder glues "##" pieces

assert normalized == "deja vu: generators yield values."
assert enc.tokens == ["[CLS]", *pieces, "[SEP]"]
assert tok.encode(text, add_special_tokens=False).tokens == pieces
# Lossy: case and accents are gone, and WordPiece never stored where the spaces were, so the
# decoder guesses ("vu :" gets a space that the input did not have).
assert tok.decoder.decode(pieces) == "deja vu : generators yield values."

pair = tok.encode("first part", "second part")
print("pair types :", list(zip(pair.tokens, pair.type_ids)))
assert pair.type_ids[-1] == 1 and pair.type_ids[0] == 0
