"""A token added to the vocabulary stays frozen under plain LoRA; trainable_token_indices (or
modules_to_save) trains it."""
import torch
from peft import LoraConfig, get_peft_model
from transformers import LlamaConfig, LlamaForCausalLM

NEW = 128  # e.g. tokenizer.add_tokens(["<tool_call>"]) gave the new token this id


def new_row_after_one_step(**extra):
    """Add one token, wrap with LoRA (+ extra config), train one step on text that uses it.

    Returns (change of the new token's input-embedding row, trainable parameter count).
    """
    torch.manual_seed(0)
    # A fresh config each time: resize_token_embeddings writes the new size into model.config.
    model = LlamaForCausalLM(LlamaConfig(vocab_size=128, hidden_size=64, intermediate_size=128,
                                         num_hidden_layers=2, num_attention_heads=4,
                                         num_key_value_heads=2))
    model.resize_token_embeddings(NEW + 1, mean_resizing=False)  # one row for the new id
    model = get_peft_model(model, LoraConfig(r=8, target_modules="all-linear", **extra))
    embed = model.get_input_embeddings()               # the layer PEFT may have wrapped
    ids = torch.tensor([[3, 7, NEW, 9, NEW, 11]])
    with torch.no_grad():
        before = embed(torch.tensor([NEW])).clone()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    model(input_ids=ids, labels=ids).loss.backward()
    opt.step()
    with torch.no_grad():
        change = (embed(torch.tensor([NEW])) - before).abs().max().item()
    return change, model.get_nb_trainable_parameters()[0]


plain, n_plain = new_row_after_one_step()
tokens, n_tokens = new_row_after_one_step(trainable_token_indices={"embed_tokens": [NEW]})
full, n_full = new_row_after_one_step(modules_to_save=["embed_tokens"])
print(f"plain LoRA:             new row moved by {plain:.3f} | trainable {n_plain:,}")
print(f"trainable_token_indices: new row moved: {tokens > 0} | trainable {n_tokens:,}")
print(f"modules_to_save:         new row moved: {full > 0} | trainable {n_full:,}")
assert plain == 0.0                       # the embedding is frozen like every base weight
assert tokens > 0 and n_tokens == n_plain + 64          # one extra row of width 64
assert full > 0 and n_full == n_plain + 129 * 64        # a full trainable copy of the matrix
