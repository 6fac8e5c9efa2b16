"""Activation checkpointing (the 5.24 name of gradient checkpointing): same gradients, fewer
tensors kept for the backward pass."""
import tempfile

import torch
from transformers import LlamaConfig, LlamaForCausalLM, TrainingArguments

torch.manual_seed(0)
cfg = LlamaConfig(vocab_size=512, hidden_size=64, intermediate_size=256, num_hidden_layers=4,
                  num_attention_heads=4, num_key_value_heads=2)
ids = torch.randint(0, 512, (2, 128))


def saved_mib_and_grads(checkpointing):
    """MiB of tensors autograd keeps from forward to backward, and the gradients of one step."""
    torch.manual_seed(0)
    model = LlamaForCausalLM(cfg).train()
    if checkpointing:
        model.activation_checkpointing_enable()  # was gradient_checkpointing_enable()
    saved = []

    def keep(t):  # called for every tensor the graph saves for backward
        saved.append(t.numel() * t.element_size())
        return t

    with torch.autograd.graph.saved_tensors_hooks(keep, lambda t: t):
        loss = model(ids, labels=ids).loss
    loss.backward()
    return sum(saved) / 2**20, [p.grad for p in model.parameters()]


plain_mib, plain_grads = saved_mib_and_grads(False)
ckpt_mib, ckpt_grads = saved_mib_and_grads(True)
print(f"saved for backward: {plain_mib:.1f} MiB plain, {ckpt_mib:.1f} MiB checkpointed")
same = all(torch.allclose(a, b, atol=1e-6) for a, b in zip(plain_grads, ckpt_grads))
print("same gradients:", same)
assert same and ckpt_mib < plain_mib / 2

# In Trainer it is one argument; gradient_checkpointing= still works but warns (gone in v6).
with tempfile.TemporaryDirectory() as tmp:
    args = TrainingArguments(output_dir=tmp, use_cpu=True, activation_checkpointing=True)
print("TrainingArguments(activation_checkpointing=True):", args.activation_checkpointing)
