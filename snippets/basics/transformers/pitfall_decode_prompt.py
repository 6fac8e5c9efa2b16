"""generate() returns the prompt followed by the answer: decode only the new tokens."""
from pydoc_data.topics import topics
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, TokenizersBackend

bpe = Tokenizer(models.BPE())
bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
bpe.decoder = decoders.ByteLevel()
bpe.train_from_iterator(list(topics.values())[:20], trainers.BpeTrainer(
    vocab_size=400, special_tokens=["<pad>", "<|im_start|>", "<|im_end|>"], show_progress=False,
    initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
tok = TokenizersBackend(tokenizer_object=bpe, pad_token="<pad>", eos_token="<|im_end|>",
                        extra_special_tokens=["<|im_start|>"], padding_side="left")
tok.chat_template = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}"
                     "<|im_end|>\n{% endfor %}<|im_start|>assistant\n")
torch.manual_seed(0)
model = LlamaForCausalLM(LlamaConfig(
    vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
    num_attention_heads=4, num_key_value_heads=2, pad_token_id=tok.pad_token_id,
    eos_token_id=None)).eval()
chats = [[{"role": "user", "content": "Name a loop."}],
         [{"role": "user", "content": "What does the with statement guarantee?"}]]
inputs = tok.apply_chat_template(chats, padding=True, return_tensors="pt")  # left-padded batch
out = model.generate(**inputs, max_new_tokens=5, do_sample=False)

# WRONG: decoding the whole output repeats the prompt (roles and all) before the answer.
wrong = tok.batch_decode(out, skip_special_tokens=True)
print("wrong:", repr(wrong[0][:27]), "...")
assert wrong[0].startswith("user\nName a loop.")

# RIGHT: with left padding every row's prompt ends at the same column, so one slice removes
# all prompts; what is left is exactly the new tokens.
new = out[:, inputs["input_ids"].shape[1]:]
right = tok.batch_decode(new, skip_special_tokens=True)
print("right: new tokens per row", [len(row) for row in new.tolist()], "| prompt in the text:",
      any("Name a loop" in text for text in right))
assert new.shape == (2, 5) and not any("user" in text for text in right)
