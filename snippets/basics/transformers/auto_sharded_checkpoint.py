"""The Auto* flow from a local folder holding a sharded safetensors checkpoint."""
import json
import os
import tempfile

import torch
from transformers import AutoConfig, AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM

torch.manual_seed(0)
cfg = LlamaConfig(vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2)
original = LlamaForCausalLM(cfg).to(torch.bfloat16)  # a checkpoint stored in bf16, as most are
ids = torch.randint(3, 512, (1, 8))

with tempfile.TemporaryDirectory() as ckpt:
    # Each shard holds whole tensors up to max_shard_size (default "50GB"); the index maps
    # every tensor name to its shard, so a loader can open only the shards it needs.
    original.save_pretrained(ckpt, max_shard_size="100KB")
    print(sorted(os.listdir(ckpt)))
    with open(os.path.join(ckpt, "model.safetensors.index.json")) as f:
        index = json.load(f)
    print("index:", index["metadata"], "->", index["weight_map"]["lm_head.weight"])

    config = AutoConfig.from_pretrained(ckpt)  # reads config.json, picks LlamaConfig
    print(type(config).__name__, config.model_type, config.dtype)
    # dtype defaults to "auto": the dtype recorded in config.json (else that of the weights).
    auto = AutoModelForCausalLM.from_pretrained(ckpt)
    fp32 = AutoModelForCausalLM.from_pretrained(ckpt, dtype=torch.float32)
    # Any device_map needs accelerate installed. "auto" fills the GPUs first, then CPU RAM,
    # then disk; on a machine with only a CPU it puts everything on the CPU.
    placed = AutoModelForCausalLM.from_pretrained(ckpt, device_map="auto")

print("dtype='auto' ->", auto.dtype, "| dtype=float32 ->", fp32.dtype, "| device_map='auto' ->",
      placed.device)
assert auto.dtype == torch.bfloat16 and fp32.dtype == torch.float32
# The three shards reassemble exactly the tensors that were saved.
saved, loaded = original.state_dict(), auto.state_dict()
assert saved.keys() == loaded.keys() and all(torch.equal(saved[k], loaded[k]) for k in saved)
with torch.no_grad():
    assert torch.equal(placed(ids).logits, auto(ids).logits)
print("every tensor equal after the sharded round trip:", True)
