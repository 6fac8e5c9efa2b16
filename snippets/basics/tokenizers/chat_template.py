"""A chat template of our own: render messages to text, then to ids, ready for generation."""
from pydoc_data.topics import topics
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import TokenizersBackend

ROLES = ["<|system|>", "<|user|>", "<|assistant|>"]
tok = Tokenizer(models.BPE())
tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
tok.decoder = decoders.ByteLevel()
tok.train_from_iterator(list(topics.values())[:20], trainers.BpeTrainer(
    vocab_size=1000, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    special_tokens=["<|pad|>", "<|bos|>", "<|eos|>", *ROLES], show_progress=False))
hf_tok = TokenizersBackend(tokenizer_object=tok, bos_token="<|bos|>", eos_token="<|eos|>",
                           pad_token="<|pad|>", add_bos_token=True)

# Jinja: one BOS, then "<|role|>content<|eos|>" per message; the generation prompt opens an
# assistant turn and stops, so the model's next token is the start of the answer.
hf_tok.chat_template = (
    "{{ bos_token }}"
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{{ eos_token }}{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
messages = [{"role": "system", "content": "Answer briefly."},
            {"role": "user", "content": "What does yield do?"}]

text = hf_tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
print(repr(text))
# tokenize=True (the default) returns a BatchEncoding in transformers 5; it encodes the text with
# add_special_tokens=False because the template already wrote the BOS.
enc = hf_tok.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt")
ids = enc["input_ids"][0].tolist()
print(ids)

assert text == ("<|bos|><|system|>Answer briefly.<|eos|>"
                "<|user|>What does yield do?<|eos|><|assistant|>")
assert ids.count(hf_tok.bos_token_id) == 1 and ids[0] == hf_tok.bos_token_id
assert ids[-1] == hf_tok.convert_tokens_to_ids("<|assistant|>")   # one id, never split
assert hf_tok.decode(ids) == text
without_prompt = hf_tok.apply_chat_template(messages, tokenize=False)
assert without_prompt + "<|assistant|>" == text
