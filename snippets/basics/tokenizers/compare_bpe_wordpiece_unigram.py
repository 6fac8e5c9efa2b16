"""Train byte-level BPE, WordPiece and Unigram on the same text and compare their splits."""
from pydoc_data.topics import topics
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

# ~100K characters of Python's reference manual:
# enough to learn a 1000-entry vocab in about a second.
corpus = list(topics.values())[:40]
VOCAB = 1000

# Byte-level BPE (GPT-2 style): the base alphabet is the 256 bytes, so nothing is ever unknown.
bpe = Tokenizer(models.BPE())
bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
bpe.decoder = decoders.ByteLevel()
bpe.train_from_iterator(corpus, trainers.BpeTrainer(
    vocab_size=VOCAB, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))

# WordPiece (BERT style): lowercases, strips accents, marks word-internal pieces with "##".
wordpiece = Tokenizer(models.WordPiece(unk_token="[UNK]"))
wordpiece.normalizer = normalizers.BertNormalizer(lowercase=True)
wordpiece.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
wordpiece.decoder = decoders.WordPiece()
wordpiece.train_from_iterator(corpus, trainers.WordPieceTrainer(
    vocab_size=VOCAB, special_tokens=["[UNK]"], show_progress=False))

# Unigram (SentencePiece style): a space becomes the visible "▁" and is part of the next piece.
unigram = Tokenizer(models.Unigram())
unigram.normalizer = normalizers.NFKC()
unigram.pre_tokenizer = pre_tokenizers.Metaspace()
unigram.decoder = decoders.Metaspace()
unigram.train_from_iterator(corpus, trainers.UnigramTrainer(
    vocab_size=VOCAB, special_tokens=["<unk>"], unk_token="<unk>", show_progress=False))

sentence = "Naïve code iterates over 🐍 tuples."
results = {}
for name, tok in [("bpe", bpe), ("wordpiece", wordpiece), ("unigram", unigram)]:
    enc = tok.encode(sentence)
    results[name] = (enc.tokens, enc.ids, tok.decode(enc.ids))
    print(f"{name:9} {len(enc.ids):2} tokens {enc.tokens}")
    print(f"{'':9} decodes to {results[name][2]!r}")

# Only byte-level BPE is lossless here: "ï" and the emoji become byte tokens, not unknowns.
assert results["bpe"][2] == sentence
# WordPiece turns the whole unsplittable word into [UNK]; Unigram keeps the surface text in
# .tokens but maps it to the <unk> id, so the character vanishes on decode.
assert "[UNK]" in results["wordpiece"][0]
assert unigram.token_to_id("<unk>") in results["unigram"][1] and "ï" not in results["unigram"][2]
assert any(t.startswith("##") for t in results["wordpiece"][0])     # WordPiece continuation marker
assert any(t.startswith("▁") for t in results["unigram"][0])        # Metaspace word-start marker
