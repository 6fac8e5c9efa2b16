"""Labels for assistant-only training from a chat template's {% generation %} blocks."""
from pydoc_data.topics import topics
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import TokenizersBackend

bpe = Tokenizer(models.BPE())
bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
bpe.decoder = decoders.ByteLevel()
bpe.train_from_iterator(list(topics.values())[:20], trainers.BpeTrainer(
    vocab_size=400, special_tokens=["<|im_start|>", "<|im_end|>"], show_progress=False,
    initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
tok = TokenizersBackend(tokenizer_object=bpe, eos_token="<|im_end|>",
                        extra_special_tokens=["<|im_start|>"])
# {% generation %} ... {% endgeneration %} marks what the assistant writes: its reply and the
# end-of-turn token that teaches it to stop. The role header stays outside: it is the prompt.
tok.chat_template = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
    "{% if m['role'] == 'assistant' %}"
    "{% generation %}{{ m['content'] }}<|im_end|>{% endgeneration %}"
    "{% else %}{{ m['content'] }}<|im_end|>{% endif %}\n{% endfor %}")
chat = [{"role": "user", "content": "Name a loop."},
        {"role": "assistant", "content": "for"},
        {"role": "user", "content": "Another?"},
        {"role": "assistant", "content": "while"}]

enc = tok.apply_chat_template(chat, return_assistant_tokens_mask=True, return_tensors="pt")
ids, mask = enc["input_ids"][0], enc["assistant_masks"][0]
labels = torch.where(mask.bool(), ids, -100)  # -100: no loss on system/user text and headers
print(f"{int(mask.sum())} of {len(ids)} tokens carry a loss")
print("trained on:", repr(tok.decode(ids[mask.bool()])))
assert tok.decode(ids[mask.bool()]) == "for<|im_end|>while<|im_end|>"
assert (labels != -100).sum() == mask.sum()
