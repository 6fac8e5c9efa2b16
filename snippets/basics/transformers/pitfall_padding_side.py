"""Batched generation with a decoder-only model needs LEFT padding."""
from pydoc_data.topics import topics
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

bpe = Tokenizer(models.BPE())
bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
bpe.decoder = decoders.ByteLevel()
bpe.train_from_iterator(topics.values(), trainers.BpeTrainer(
    vocab_size=512, special_tokens=["<pad>", "<s>", "</s>"], show_progress=False,
    initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
tok = PreTrainedTokenizerFast(tokenizer_object=bpe, pad_token="<pad>", bos_token="<s>",
                              eos_token="</s>")

torch.manual_seed(0)
model = LlamaForCausalLM(LlamaConfig(
    vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
    num_attention_heads=4, num_key_value_heads=2, pad_token_id=tok.pad_token_id,
    eos_token_id=None)).eval()  # no EOS: all rows run exactly max_new_tokens
prompts = ["The while statement is used for repeated execution", "A class"]

def new_tokens(batch):
    out = model.generate(**batch, max_new_tokens=8, do_sample=False)
    return out[:, batch["input_ids"].shape[1]:]  # generate() appends after the padded width

# Reference: each prompt on its own, no padding at all.
alone = [new_tokens(tok(p, return_tensors="pt"))[0] for p in prompts]

# WRONG: the tokenizer's default is right padding. The short row's next token is then
# predicted from a <pad> position, and new tokens are written after the pads.
assert tok.padding_side == "right"
right = new_tokens(tok(prompts, padding=True, return_tensors="pt"))
assert torch.equal(right[0], alone[0])  # the longest row has no padding, so it is fine
assert not torch.equal(right[1], alone[1])  # the padded row continues differently

# RIGHT: left padding puts every prompt's last real token in the last column.
tok.padding_side = "left"
left = new_tokens(tok(prompts, padding=True, return_tensors="pt"))
assert torch.equal(left[0], alone[0]) and torch.equal(left[1], alone[1])
print("alone:", [t.tolist() for t in alone])
print("right:", right.tolist())
print("left :", left.tolist())
