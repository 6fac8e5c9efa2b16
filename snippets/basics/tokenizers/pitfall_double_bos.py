"""The chat template writes BOS and the tokenizer adds it again: two BOS tokens."""
from pydoc_data.topics import topics
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import TokenizersBackend

tok = Tokenizer(models.BPE())
tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
tok.decoder = decoders.ByteLevel()
tok.train_from_iterator(list(topics.values())[:20], trainers.BpeTrainer(
    vocab_size=1000, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    special_tokens=["<|pad|>", "<|bos|>", "<|eos|>", "<|user|>", "<|assistant|>"],
    show_progress=False))
hf_tok = TokenizersBackend(tokenizer_object=tok, bos_token="<|bos|>", eos_token="<|eos|>",
                           pad_token="<|pad|>", add_bos_token=True)   # encode() prepends BOS
hf_tok.chat_template = (                                              # ... and so does the template
    "{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{{ eos_token }}"
    "{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}")
messages = [{"role": "user", "content": "Is a tuple mutable?"}]
bos = hf_tok.bos_token_id

text = hf_tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
wrong = hf_tok(text)["input_ids"]                                    # WRONG: BOS twice
print("wrong:", hf_tok.convert_ids_to_tokens(wrong[:3]))
assert wrong[:2] == [bos, bos]

# RIGHT: either let apply_chat_template tokenize (it passes add_special_tokens=False) ...
right = hf_tok.apply_chat_template(messages, add_generation_prompt=True)["input_ids"]
# ... or, when you must render text first, turn the tokenizer's own specials off.
also_right = hf_tok(text, add_special_tokens=False)["input_ids"]
print("right:", hf_tok.convert_ids_to_tokens(right[:3]))
assert right == also_right == wrong[1:]
assert right.count(bos) == 1
