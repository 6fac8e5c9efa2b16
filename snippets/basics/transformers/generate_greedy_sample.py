"""Greedy and sampled generate() with max_new_tokens, on a tokenizer trained in-process."""
from pydoc_data.topics import topics  # ~465K characters of Python's reference manual
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

# 1. A 512-token byte-level BPE. Special tokens get ids 0/1/2 = pad/bos/eos; LlamaConfig's
#    default bos_token_id=1 and eos_token_id=2 match, and pad_token_id is set below.
bpe = Tokenizer(models.BPE())
bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
bpe.decoder = decoders.ByteLevel()
bpe.train_from_iterator(topics.values(), trainers.BpeTrainer(
    vocab_size=512, special_tokens=["<pad>", "<s>", "</s>"], show_progress=False,
    initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
tok = PreTrainedTokenizerFast(tokenizer_object=bpe, pad_token="<pad>", bos_token="<s>",
                              eos_token="</s>")

# 2. A random tiny model: its text is gibberish, but the mechanics are the real ones.
torch.manual_seed(1)
cfg = LlamaConfig(vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, pad_token_id=tok.pad_token_id)
model = LlamaForCausalLM(cfg).eval()
enc = tok("The for statement is used to", return_tensors="pt")
n_prompt = enc.input_ids.shape[1]

greedy = model.generate(**enc, max_new_tokens=12, do_sample=False)
again = model.generate(**enc, max_new_tokens=12, do_sample=False)
assert torch.equal(greedy, again)  # greedy is deterministic: argmax at every step
assert torch.equal(greedy[0, :n_prompt], enc.input_ids[0])  # output = prompt + new tokens
# max_new_tokens counts only the new part, and is an upper bound: EOS ends a row early.
n_new = greedy.shape[1] - n_prompt
assert n_new == 12 or greedy[0, -1] == tok.eos_token_id
print(f"greedy ({n_new} new):", repr(tok.decode(greedy[0, n_prompt:])))

def sample(seed):
    torch.manual_seed(seed)  # sampling draws from torch's global RNG
    return model.generate(**enc, max_new_tokens=12, do_sample=True, temperature=1.0, top_k=50)

s0, s0_again, s1 = sample(0), sample(0), sample(1)
print("sample0:", repr(tok.decode(s0[0, n_prompt:])))
print("sample1:", repr(tok.decode(s1[0, n_prompt:])))
assert torch.equal(s0, s0_again)  # same seed -> same draw
assert not torch.equal(s0, s1)  # different seed -> (almost surely) a different continuation
