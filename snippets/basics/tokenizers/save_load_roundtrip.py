"""save_pretrained -> AutoTokenizer.from_pretrained gives back a tokenizer with identical ids."""
import json
import os
import tempfile

from pydoc_data.topics import topics
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import AutoTokenizer, TokenizersBackend

tok = Tokenizer(models.BPE())
tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
tok.decoder = decoders.ByteLevel()
tok.train_from_iterator(list(topics.values())[:20], trainers.BpeTrainer(
    vocab_size=1000, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    special_tokens=["<|pad|>", "<|bos|>", "<|eos|>"], show_progress=False))
hf_tok = TokenizersBackend(tokenizer_object=tok, bos_token="<|bos|>", eos_token="<|eos|>",
                           pad_token="<|pad|>", add_bos_token=True, model_max_length=256)

texts = ["Return the value.", "An object's identity never changes once it has been created. 🐍"]
before = hf_tok(texts, padding=True)

with tempfile.TemporaryDirectory() as tmp:
    hf_tok.save_pretrained(tmp)
    print("files:", sorted(os.listdir(tmp)))
    with open(os.path.join(tmp, "tokenizer_config.json")) as f:
        config = json.load(f)
    print("tokenizer_config.json:", config)
    # Local folder + HF_HUB_OFFLINE=1: nothing is fetched from the Hub.
    reloaded = AutoTokenizer.from_pretrained(tmp)
    # add_bos_token is not in tokenizer_config.json (transformers 5.24), so repeat it on load.
    flagged = AutoTokenizer.from_pretrained(tmp, add_bos_token=True)

after = reloaded(texts, padding=True)
print("class:", type(reloaded).__name__, "| first ids:", after["input_ids"][0][:6])
assert type(reloaded) is TokenizersBackend
assert after["input_ids"] == before["input_ids"]
assert after["attention_mask"] == before["attention_mask"]
assert (reloaded.bos_token, reloaded.pad_token, reloaded.model_max_length) == (
    "<|bos|>", "<|pad|>", 256)
# tokenizer.json stores the whole pipeline (including the BOS post-processor), so it still adds BOS.
assert after["input_ids"][0][0] == reloaded.bos_token_id
assert reloaded.decode(after["input_ids"][1], skip_special_tokens=True) == texts[1]

# The flag matters once you edit the reloaded tokenizer: setting add_eos_token rebuilds the
# post-processor from add_bos_token/add_eos_token, and the unflagged copy loses its BOS.
reloaded.add_eos_token = flagged.add_eos_token = True
print("after add_eos_token=True:", reloaded("Hi")["input_ids"], "vs", flagged("Hi")["input_ids"])
assert reloaded("Hi")["input_ids"][0] != reloaded.bos_token_id
assert flagged("Hi")["input_ids"][0] == flagged.bos_token_id
