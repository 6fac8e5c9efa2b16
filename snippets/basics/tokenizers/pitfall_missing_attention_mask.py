"""A padded batch without its attention mask: the model attends to the pad tokens."""
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
                           pad_token="<|pad|>", add_bos_token=True, padding_side="left")
model = LlamaForCausalLM(LlamaConfig(
    vocab_size=len(hf_tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
    num_attention_heads=4, num_key_value_heads=2, pad_token_id=hf_tok.pad_token_id)).eval()

prompts = ["A tuple", "The for statement iterates over the items"]
batch = hf_tok(prompts, padding=True, return_tensors="pt")
with torch.no_grad():
    alone = model(**hf_tok(prompts[:1], return_tensors="pt")).logits[0, -1]
    no_mask = model(input_ids=batch["input_ids"]).logits[0, -1]        # WRONG: mask dropped
    with_mask = model(**batch).logits[0, -1]                            # RIGHT: ids + mask

print(f"max |diff| without mask: {(no_mask - alone).abs().max().item():.3f}")
# With the mask only float32 rounding is left, whose digits depend on the CPU: compare it.
print("max |diff| with mask < 1e-4:", (with_mask - alone).abs().max().item() < 1e-4)
# Without the mask the short row's real tokens attend to the <|pad|> slots in front of them.
assert not torch.allclose(no_mask, alone, atol=1e-3)
# With it, padding is invisible: same next-token logits as running the prompt on its own.
assert torch.allclose(with_mask, alone, atol=1e-4)

# Why the bug hides: with RIGHT padding, causal attention already stops real tokens from seeing
# the pads after them, so the last real position is right even without a mask.
hf_tok.padding_side = "right"
right = hf_tok(prompts, padding=True, return_tensors="pt")
last_real = right["attention_mask"][0].sum() - 1
with torch.no_grad():
    right_no_mask = model(input_ids=right["input_ids"]).logits[0, last_real]
assert torch.allclose(right_no_mask, alone, atol=1e-4)
