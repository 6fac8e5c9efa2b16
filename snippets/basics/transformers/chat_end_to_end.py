"""Chat inference end to end: chat template -> generate -> decode only the new tokens.

The checkpoint is saved first, with a generation_config.json, and loaded back through the Auto
classes, as a Hub checkpoint would be.
"""
import tempfile

from pydoc_data.topics import topics  # ~465K characters of Python's reference manual
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import (AutoModelForCausalLM, AutoTokenizer, GenerationConfig, LlamaConfig,
                          LlamaForCausalLM, PreTrainedTokenizerFast)

# 1. A byte-level BPE with ChatML-style control tokens, and a chat template that uses them.
bpe = Tokenizer(models.BPE())
bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
bpe.decoder = decoders.ByteLevel()
bpe.train_from_iterator(topics.values(), trainers.BpeTrainer(
    vocab_size=512, special_tokens=["<pad>", "<|im_start|>", "<|im_end|>"], show_progress=False,
    initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
tok = PreTrainedTokenizerFast(tokenizer_object=bpe, pad_token="<pad>", eos_token="<|im_end|>")
tok.chat_template = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")

# 2. A tiny random model whose checkpoint carries its own decoding defaults.
torch.manual_seed(0)
model = LlamaForCausalLM(LlamaConfig(
    vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
    num_attention_heads=4, num_key_value_heads=2, pad_token_id=tok.pad_token_id,
    bos_token_id=None, eos_token_id=tok.eos_token_id))
model.generation_config = GenerationConfig(
    max_new_tokens=6, do_sample=False, eos_token_id=tok.eos_token_id,
    pad_token_id=tok.pad_token_id)

with tempfile.TemporaryDirectory() as ckpt:
    model.save_pretrained(ckpt)  # config.json, generation_config.json, model.safetensors
    tok.save_pretrained(ckpt)  # tokenizer.json, tokenizer_config.json, chat_template.jinja
    tok = AutoTokenizer.from_pretrained(ckpt)
    model = AutoModelForCausalLM.from_pretrained(ckpt)  # reads generation_config.json too

messages = [{"role": "system", "content": "You are terse."},
            {"role": "user", "content": "What does the for statement do?"}]
# add_generation_prompt=True ends the prompt with the assistant header, so the model answers
# instead of continuing the user's turn.
text = tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
print(repr(text[-40:]))
inputs = tok.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                 return_dict=True)  # input_ids and attention_mask
out = model.generate(**inputs)  # no kwargs: max_new_tokens=6 comes from generation_config.json
n_prompt = inputs["input_ids"].shape[1]
new = out[0, n_prompt:]  # the output repeats the prompt: keep only what was generated
print(f"prompt {n_prompt} tokens, generated {len(new)}:", new.tolist())
assert len(new) == 6 and torch.equal(out[0, :n_prompt], inputs["input_ids"][0])
answer = tok.decode(new, skip_special_tokens=True)  # the assistant's reply, no control tokens
print("answer:", repr(answer))
assert "terse" not in answer  # decoding out[0] whole would have repeated the system prompt

# A keyword argument to generate() beats the checkpoint's generation_config.json.
assert model.generate(**inputs, max_new_tokens=2).shape[1] == n_prompt + 2
print("defaults from generation_config.json:", model.generation_config.max_new_tokens,
      model.generation_config.do_sample)
