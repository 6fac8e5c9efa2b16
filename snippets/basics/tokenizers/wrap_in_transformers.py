"""Wrap a trained tokenizers.Tokenizer as a transformers tokenizer with bos/eos/pad set."""
from pydoc_data.topics import topics
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast, TokenizersBackend

tok = Tokenizer(models.BPE())
tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
tok.decoder = decoders.ByteLevel()
tok.train_from_iterator(list(topics.values())[:20], trainers.BpeTrainer(
    vocab_size=1000, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    special_tokens=["<|pad|>", "<|bos|>", "<|eos|>"], show_progress=False))

# In transformers 5 the class is TokenizersBackend; PreTrainedTokenizerFast is kept as an alias.
assert PreTrainedTokenizerFast is TokenizersBackend
hf_tok = TokenizersBackend(
    tokenizer_object=tok,        # deep-copied: later edits to `tok` do not reach hf_tok
    bos_token="<|bos|>", eos_token="<|eos|>", pad_token="<|pad|>",
    add_bos_token=True,          # makes transformers install a post-processor that prepends BOS
    model_max_length=128,        # the default is ~1e30, which makes truncation=True a no-op
)

ids = hf_tok("Return the value").input_ids
print("ids        :", ids)
print("tokens     :", hf_tok.convert_ids_to_tokens(ids))
print("decode     :", repr(hf_tok.decode(ids)))
print("skip specs :", repr(hf_tok.decode(ids, skip_special_tokens=True)))
print("special ids:", hf_tok.bos_token_id, hf_tok.eos_token_id, hf_tok.pad_token_id)

assert ids[0] == hf_tok.bos_token_id == 1 and ids.count(hf_tok.bos_token_id) == 1
assert hf_tok.decode(ids) == "<|bos|>Return the value"
assert hf_tok.decode(ids, skip_special_tokens=True) == "Return the value"
# add_special_tokens=False bypasses the post-processor: same ids minus the BOS.
assert hf_tok("Return the value", add_special_tokens=False).input_ids == ids[1:]
assert len(hf_tok) == hf_tok.vocab_size == 1000   # nothing added beyond the trained vocab yet
