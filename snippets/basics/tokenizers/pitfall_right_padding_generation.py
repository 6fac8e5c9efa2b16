"""Batched generation with a decoder-only model: right padding breaks it, left padding does not."""
import torch
from pydoc_data.topics import topics
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, TokenizersBackend
torch.manual_seed(0)
tok = Tokenizer(models.BPE())
tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
tok.decoder = decoders.ByteLevel()
tok.train_from_iterator(list(topics.values())[:20], trainers.BpeTrainer(
    vocab_size=1000, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    special_tokens=["<|pad|>", "<|bos|>", "<|eos|>"], show_progress=False))
hf_tok = TokenizersBackend(tokenizer_object=tok, bos_token="<|bos|>", eos_token="<|eos|>",
                           pad_token="<|pad|>", add_bos_token=True)
model = LlamaForCausalLM(LlamaConfig(
    vocab_size=len(hf_tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
    num_attention_heads=4, num_key_value_heads=2, pad_token_id=hf_tok.pad_token_id,
    bos_token_id=hf_tok.bos_token_id, eos_token_id=hf_tok.eos_token_id)).eval()

prompts = ["A tuple", "The for statement iterates over the items"]
gen = dict(max_new_tokens=4, do_sample=False)


def continuation_of_short_prompt(side):
    hf_tok.padding_side = side
    batch = hf_tok(prompts, padding=True, return_tensors="pt")
    out = model.generate(**batch, **gen)
    return out[0, batch["input_ids"].shape[1]:].tolist()   # new tokens of "A tuple"


alone = hf_tok(prompts[:1], return_tensors="pt")
reference = model.generate(**alone, **gen)[0, alone["input_ids"].shape[1]:].tolist()
right, left = continuation_of_short_prompt("right"), continuation_of_short_prompt("left")
print("alone:", reference, "| right-padded:", right, "| left-padded:", left)

# WRONG: with right padding the short row's first new token is predicted after <|pad|> slots
# (generate() also logs "right-padding was detected", but nothing stops the run).
assert right != reference
# RIGHT: left padding puts the prompt's last real token at the end, where generate() reads.
assert left == reference
