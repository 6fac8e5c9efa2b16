"""Adding tokens grows the tokenizer, not the model: resize the embeddings to len(tokenizer)."""
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
                           pad_token="<|pad|>")
model = LlamaForCausalLM(LlamaConfig(
    vocab_size=len(hf_tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
    num_attention_heads=4, num_key_value_heads=2)).eval()

added = hf_tok.add_tokens(["<|tool|>", "<|/tool|>"], special_tokens=True)
ids = hf_tok("<|tool|>len(x)<|/tool|>", return_tensors="pt")["input_ids"]
print(f"added {added}: len(tokenizer)={len(hf_tok)}, tokenizer.vocab_size={hf_tok.vocab_size}, "
      f"embedding rows={model.get_input_embeddings().num_embeddings}, max id={ids.max().item()}")
# vocab_size counts only the trained vocabulary; len() includes added tokens. Size models by len().
assert hf_tok.vocab_size == 1000 and len(hf_tok) == 1002

# WRONG: the new ids (1000, 1001) are past the end of the 1000-row embedding table.
try:
    model(input_ids=ids)
    raise AssertionError("expected an out-of-range embedding lookup")
except IndexError as err:
    print("without resize:", type(err).__name__, "-", str(err).splitlines()[0])

# RIGHT: grow the input embeddings and the lm_head to len(tokenizer), then train the new rows.
model.resize_token_embeddings(len(hf_tok))
with torch.no_grad():
    logits = model(input_ids=ids).logits
assert model.get_input_embeddings().num_embeddings == len(hf_tok)
assert logits.shape[-1] == len(hf_tok) == model.config.vocab_size
print("after resize: logits", tuple(logits.shape))
