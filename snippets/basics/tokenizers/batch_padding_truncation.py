"""Pad and truncate a batch into rectangular tensors; the attention mask marks the real tokens."""
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
                           pad_token="<|pad|>", add_bos_token=True)

texts = ["A tuple.", "The for statement iterates over the items of any sequence, in order."]
lengths = [len(hf_tok(t).input_ids) for t in texts]       # unpadded lengths, BOS included
batch = hf_tok(texts, padding=True, truncation=True, max_length=12, return_tensors="pt")
print("lengths      :", lengths)
print("input_ids    :\n", batch["input_ids"])
print("attention    :\n", batch["attention_mask"])

assert tuple(batch["input_ids"].shape) == (2, 12)           # padded to the longest, cut at 12
assert batch["attention_mask"].sum(1).tolist() == [min(n, 12) for n in lengths]
# Every masked-out slot holds the pad id; padding goes on the right by default.
pad_slots = batch["attention_mask"] == 0
assert (batch["input_ids"][pad_slots] == hf_tok.pad_token_id).all()
assert batch["attention_mask"][0, -1] == 0 and hf_tok.padding_side == "right"

# padding="max_length" pads every row to max_length even if the batch is shorter.
short = hf_tok(["A tuple.", "A list."], padding="max_length", max_length=12, return_tensors="pt")
assert tuple(short["input_ids"].shape) == (2, 12)

hf_tok.padding_side = "left"                                # what decoder-only generation wants
left = hf_tok(texts, padding=True, return_tensors="pt")
print("left padded  :\n", left["input_ids"][0])
assert left["attention_mask"][0, 0] == 0 and left["attention_mask"][0, -1] == 1
