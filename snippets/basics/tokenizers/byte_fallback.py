"""SentencePiece-style BPE with byte_fallback=True: characters never seen in training still
round-trip, as <0xNN> byte tokens, instead of turning into <unk>."""
import json

from pydoc_data.topics import topics
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers


def sentencepiece_style(byte_fallback):
    """A Llama-2-style BPE: spaces become "▁", no byte-level pre-tokenizer, optional byte tokens.

    Trained on ASCII-only text, so every non-ASCII character is unseen.
    """
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.normalizer = normalizers.Replace(" ", "▁")
    tok.pre_tokenizer = pre_tokenizers.Split(Regex("▁[^▁]*|[^▁]+"), behavior="isolated")
    ascii_text = (t.encode("ascii", "ignore").decode() for t in list(topics.values())[:20])
    tok.train_from_iterator(ascii_text, trainers.BpeTrainer(
        vocab_size=600, special_tokens=["<unk>"], show_progress=False))
    model = json.loads(tok.to_str())["model"]  # rebuild the trained model with byte tokens
    vocab, merges = model["vocab"], [tuple(pair) for pair in model["merges"]]
    if byte_fallback:  # SentencePiece keeps one token per byte value: <0x00> ... <0xFF>
        vocab.update({f"<0x{b:02X}>": len(vocab) + b for b in range(256)})
    tok.model = models.BPE(vocab, merges, unk_token="<unk>", byte_fallback=byte_fallback)
    # Decoding: "▁" back to spaces, runs of <0xNN> tokens back to UTF-8 characters.
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(),
                                     decoders.Fuse()])
    return tok


text = "naïve café, 日本 🙂"
for fallback in (False, True):
    tok = sentencepiece_style(fallback)
    enc = tok.encode(text)
    back = tok.decode(enc.ids)
    print(f"byte_fallback={fallback}: {len(enc.ids)} tokens, round trip {back == text}:",
          repr(back))
    print("   ", enc.tokens[:8])
assert back == text  # the last one, with byte fallback
assert "<0xF0>" in enc.tokens  # 🙂 is 4 UTF-8 bytes: F0 9F 99 82
