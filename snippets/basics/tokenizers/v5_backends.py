"""transformers 5 tokenizer classes: one Rust-backed class per model, and use_fast is ignored."""
import json
import os
import tempfile

from pydoc_data.topics import topics
import transformers
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import AutoTokenizer, TokenizersBackend

# The old names are aliases now: "fast" and "slow" classes of a model are the same class.
print("PreTrainedTokenizerFast is TokenizersBackend:",
      transformers.PreTrainedTokenizerFast is TokenizersBackend)
print("LlamaTokenizerFast is LlamaTokenizer:",
      transformers.LlamaTokenizerFast is transformers.LlamaTokenizer)
for name in ["LlamaTokenizer", "GPT2Tokenizer", "BertTokenizer"]:
    assert issubclass(getattr(transformers, name), TokenizersBackend)  # all on the Rust library

bpe = Tokenizer(models.BPE())
bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
bpe.decoder = decoders.ByteLevel()
bpe.train_from_iterator(list(topics.values())[:20], trainers.BpeTrainer(
    vocab_size=400, special_tokens=["<pad>"], show_progress=False,
    initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
with tempfile.TemporaryDirectory() as folder:
    TokenizersBackend(tokenizer_object=bpe, pad_token="<pad>").save_pretrained(folder)
    with open(os.path.join(folder, "tokenizer_config.json")) as f:
        config = json.load(f)
    print("tokenizer_config.json:", {k: config[k] for k in ("backend", "tokenizer_class")})
    # AutoTokenizer pops use_fast and never reads it: both calls build the same class.
    slow = AutoTokenizer.from_pretrained(folder, use_fast=False)
    fast = AutoTokenizer.from_pretrained(folder, use_fast=True)
print("use_fast=False ->", type(slow).__name__, "| use_fast=True ->", type(fast).__name__)
assert type(slow) is type(fast) is TokenizersBackend and slow.is_fast
text = "for x in range(3): yield x"
assert slow(text).input_ids == fast(text).input_ids
