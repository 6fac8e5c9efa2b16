"""Pitfall: FSDP refuses a 4-bit model whose packed weights are uint8 beside bf16 parameters
(bitsandbytes-foundation/bitsandbytes#1709, huggingface/peft#1432): store the codes in bf16."""
import os
import tempfile

import torch
import torch.distributed as dist
from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
from transformers import AutoModelForCausalLM, BitsAndBytesConfig, LlamaConfig, LlamaForCausalLM

config = LlamaConfig(vocab_size=256, hidden_size=256, intermediate_size=512, num_hidden_layers=1,
                     num_attention_heads=4, num_key_value_heads=2)
# One process is enough to reach FSDP's check: a gloo group of size 1, its store in memory, on
# the loopback interface (no host name lookup).
os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
try:
    with tempfile.TemporaryDirectory() as tmp:
        LlamaForCausalLM(config).save_pretrained(tmp)
        for name, storage in [("wrong", torch.uint8), ("right", torch.bfloat16)]:
            quantization_config = BitsAndBytesConfig(
                load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16,
                bnb_4bit_quant_storage=storage)  # uint8 is the default
            model = AutoModelForCausalLM.from_pretrained(
                tmp, quantization_config=quantization_config, dtype=torch.bfloat16,
                device_map="cpu")
            dtypes = sorted({str(p.dtype).removeprefix("torch.") for p in model.parameters()})
            try:  # FSDP flattens each wrapped module's parameters into one tensor of one dtype
                FSDP(model, device_id=torch.device("cpu"), use_orig_params=True)
                outcome = "FSDP wraps it"
            except ValueError as error:
                outcome = f"ValueError: {error}"
            print(f"{name}: parameter dtypes {dtypes} -> {outcome}")
finally:
    dist.destroy_process_group()
assert outcome == "FSDP wraps it" and dtypes == ["bfloat16"]
