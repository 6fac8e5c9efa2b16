"""Offsets point into the ORIGINAL string, even after the normalizer rewrote it."""
from pydoc_data.topics import topics
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers

tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
tok.normalizer = normalizers.BertNormalizer(lowercase=True)  # lowercases AND strips accents
tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
tok.train_from_iterator(list(topics.values())[:40], trainers.WordPieceTrainer(
    vocab_size=1000, special_tokens=["[UNK]", "[CLS]", "[SEP]"], show_progress=False))
tok.post_processor = processors.TemplateProcessing(
    single="[CLS] $A [SEP]",
    special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))])

text = "Raise a RÉSUMÉ exception"
enc = tok.encode(text)
for token, (start, end), word, special in zip(
        enc.tokens, enc.offsets, enc.word_ids, enc.special_tokens_mask):
    print(f"{token:10} {start:2}-{end:<2} word={word}  special={special}  text={text[start:end]!r}")

# The model saw "resume" pieces, but slicing the original text with the offsets gives back "RÉSUMÉ".
resume_tokens = [i for i, w in enumerate(enc.word_ids) if w == 2]
start, end = enc.offsets[resume_tokens[0]][0], enc.offsets[resume_tokens[-1]][1]
assert text[start:end] == "RÉSUMÉ"
assert enc.word_to_chars(2) == (start, end)
# Special tokens come from the post-processor, not from the text: empty span, no word, mask 1.
assert enc.offsets[0] == (0, 0) and enc.word_ids[0] is None and enc.special_tokens_mask[0] == 1
# And the reverse lookup: which token covers character 9 (the "S" of RÉSUMÉ)?
print("char 9 ->", enc.tokens[enc.char_to_token(9)])
assert enc.char_to_token(9) in resume_tokens
