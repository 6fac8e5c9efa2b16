"""pipeline("text-generation") wraps tokenize -> generate -> decode around a local model."""
from pydoc_data.topics import topics
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast, pipeline

bpe = Tokenizer(models.BPE())
bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
bpe.decoder = decoders.ByteLevel()
bpe.train_from_iterator(topics.values(), trainers.BpeTrainer(
    vocab_size=512, special_tokens=["<pad>", "<s>", "</s>"], show_progress=False,
    initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
tok = PreTrainedTokenizerFast(tokenizer_object=bpe, pad_token="<pad>", bos_token="<s>",
                              eos_token="</s>")

torch.manual_seed(1)
model = LlamaForCausalLM(LlamaConfig(
    vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
    num_attention_heads=4, num_key_value_heads=2, pad_token_id=tok.pad_token_id)).eval()

# Passing objects (not a Hub id) means nothing is looked up or downloaded.
gen = pipeline("text-generation", model=model, tokenizer=tok)
prompt = "The for statement is used to"
result = gen(prompt, max_new_tokens=10, do_sample=False)
print(result)  # a list with one dict per returned sequence
text = result[0]["generated_text"]
assert text.startswith(prompt)  # by default the prompt is included in the text

# The same thing by hand: the pipeline adds no magic on top of generate().
enc = tok(prompt, return_tensors="pt")
out = model.generate(**enc, max_new_tokens=10, do_sample=False)
assert text == tok.decode(out[0], skip_special_tokens=True)

only_new = gen(prompt, max_new_tokens=10, do_sample=False, return_full_text=False)
assert prompt + only_new[0]["generated_text"] == text
