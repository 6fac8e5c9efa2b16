# pytest: gpu, needs-transformers, needs-tokenizers
# --8<-- [start:code]
"""The same left-padded batch on a GPU: BatchEncoding.to("cuda") moves ids and mask together."""
import torch
from pydoc_data.topics import topics
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, TokenizersBackend

device = "cuda"  # the only change from the CPU tab
torch.manual_seed(0)
tok = Tokenizer(models.BPE())
tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
tok.decoder = decoders.ByteLevel()
tok.train_from_iterator(list(topics.values())[:20], trainers.BpeTrainer(
    vocab_size=1000, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    special_tokens=["<|pad|>", "<|bos|>", "<|eos|>"], show_progress=False))
hf_tok = TokenizersBackend(tokenizer_object=tok, bos_token="<|bos|>", eos_token="<|eos|>",
                           pad_token="<|pad|>", add_bos_token=True, padding_side="left")
model = LlamaForCausalLM(LlamaConfig(
    vocab_size=len(hf_tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
    num_attention_heads=4, num_key_value_heads=2,
    pad_token_id=hf_tok.pad_token_id)).to(device).eval()

prompts = ["A tuple", "The for statement iterates over the items"]
batch = hf_tok(prompts, padding=True, return_tensors="pt").to(device)  # moves every tensor
alone = hf_tok(prompts[:1], return_tensors="pt").to(device)
n = alone["input_ids"].shape[1]                       # real tokens of the short prompt
with torch.no_grad():
    ref = model(**alone).logits[0]
    out = model(**batch).logits[0, -n:]               # its real positions sit at the right end
    # Overwrite the pad slots with arbitrary ids: if the mask works, the output cannot change.
    noisy_ids = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, 7)
    noisy = model(input_ids=noisy_ids, attention_mask=batch["attention_mask"]).logits[0, -n:]

print(device, "| pads in row 0:", int((batch["attention_mask"][0] == 0).sum()),
      "| max |batched - alone|:", (out - ref).abs().max().item())
assert batch["input_ids"].device.type == device
assert torch.allclose(out, ref, atol=1e-4) and torch.allclose(noisy, out, atol=1e-5)
# --8<-- [end:code]
