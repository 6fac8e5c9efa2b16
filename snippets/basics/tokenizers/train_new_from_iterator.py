"""train_new_from_iterator: the same pipeline and special tokens, a vocabulary for new text."""
from pydoc_data.topics import topics
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import TokenizersBackend

# An "existing" tokenizer: byte-level BPE on English prose, with BOS added by a post-processor.
bpe = Tokenizer(models.BPE())
bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
bpe.decoder = decoders.ByteLevel()
bpe.train_from_iterator(list(topics.values())[:40], trainers.BpeTrainer(
    vocab_size=500, special_tokens=["<pad>", "<s>"], show_progress=False,
    initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
bpe.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
old = TokenizersBackend(tokenizer_object=bpe, pad_token="<pad>", bos_token="<s>")

# New domain: Python source. The old vocabulary never saw its indentation and identifiers.
code = [f"def f{i}(values):\n    total = 0\n    for value in values:\n"
        f"        total += value * {i}\n    return total\n" for i in range(200)]
new = old.train_new_from_iterator(code, vocab_size=500, show_progress=False)  # kwargs: trainer

sample = code[7]
for name, tok in [("old", old), ("new", new)]:
    print(f"{name}: {len(tok(sample).input_ids)} tokens for one function, vocabulary {len(tok)}, "
          f"bos {tok.bos_token!r} = {tok.bos_token_id}, pad {tok.pad_token!r} = {tok.pad_token_id}")
assert len(new(sample).input_ids) < 0.6 * len(old(sample).input_ids)
# Kept: the normalizer, pre-tokenizer, decoder, post-processor and special tokens (with their
# ids, which come first in the new vocabulary). Changed: the merges and every other id, so a
# model trained with the old tokenizer cannot use the new one without new embeddings.
assert new.decode(new(sample).input_ids, skip_special_tokens=True) == sample
assert new(sample).input_ids[0] == new.bos_token_id == old.bos_token_id
