"""Pitfall: a `datasets.Dataset`, or one of its columns, as GPTQConfig's calibration set; it takes
a list of strings (AutoGPTQ/AutoGPTQ#336, hiyouga/LlamaFactory#5235)."""
import datasets
from transformers import GPTQConfig

from _tiny_llama import calibration_texts, make_tokenizer

tokenizer = make_tokenizer()
table = datasets.Dataset.from_dict({"text": calibration_texts()})  # e.g. from load_dataset()
# In datasets 4 and later, table["text"] is a lazy Column object, not a list.
for wrong in (table, table["text"]):
    try:
        GPTQConfig(bits=4, group_size=32, dataset=wrong, tokenizer=tokenizer)
    except ValueError as error:
        message = " ".join(str(error).split())  # the message spans lines, then lists the data
        print(f"wrong: a {type(wrong).__name__}: ValueError: {message.split(', but')[0]}")
config = GPTQConfig(bits=4, group_size=32, dataset=list(table["text"]), tokenizer=tokenizer)
first = config.dataset[0][:18]
print(f"right: a list of {len(config.dataset)} strings, the first starts {first!r}")
assert isinstance(config.dataset, list) and isinstance(config.dataset[0], str)
