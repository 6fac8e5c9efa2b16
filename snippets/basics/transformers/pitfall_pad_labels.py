"""Padding positions must be -100 in labels, or the loss also trains on predicting <pad>."""
from pydoc_data.topics import topics
import torch
import torch.nn.functional as F
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import (DataCollatorForLanguageModeling, LlamaConfig, LlamaForCausalLM,
                          PreTrainedTokenizerFast)

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
    num_attention_heads=4, num_key_value_heads=2, pad_token_id=tok.pad_token_id)).eval()
batch = tok(["The import statement finds and loads a module", "Comparisons"],
            padding=True, return_tensors="pt")
ids, mask = batch["input_ids"], batch["attention_mask"]

with torch.no_grad():
    logits = model(**batch).logits
    # WRONG: labels=input_ids keeps the pad ids as targets.
    wrong = model(**batch, labels=ids).loss
    # RIGHT: -100 is the ignore_index of the loss; the LM collator does this for you.
    labels = DataCollatorForLanguageModeling(tok, mlm=False)(
        [{"input_ids": r} for r in ids])["labels"]
    right = model(**batch, labels=labels).loss
assert torch.equal(labels, ids.masked_fill(mask == 0, -100))

# Reference: average only over positions whose NEXT token is a real token.
keep = mask[:, 1:].bool()
ref = F.cross_entropy(logits[:, :-1][keep], ids[:, 1:][keep])
print(f"real tokens only {ref.item():.4f}  with -100 {right.item():.4f}  "
      f"pads kept {wrong.item():.4f}")
assert torch.allclose(right, ref, atol=1e-6)
assert not torch.allclose(wrong, ref, atol=1e-3)

# Related trap: with pad_token = eos_token (a common stopgap), the collator also hides real EOS.
tok.pad_token = tok.eos_token
row = tok("x = 1")["input_ids"] + [tok.eos_token_id]
assert DataCollatorForLanguageModeling(tok, mlm=False)(
    [{"input_ids": row}])["labels"][0, -1] == -100
