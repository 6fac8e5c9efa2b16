# pytest: gpu, needs-transformers, needs-optimum-onnx, needs-onnxruntime-gpu
# --8<-- [start:code]
"""The same export on a GPU: ONNX Runtime's CUDA execution provider (package onnxruntime-gpu)."""
import tempfile

import onnxruntime
import torch
from optimum.onnxruntime import ORTModelForCausalLM
from transformers import LlamaConfig, LlamaForCausalLM

# The CPU wheel `onnxruntime` has no CUDA provider;
# `onnxruntime-gpu` must replace it (not sit beside it).
assert "CUDAExecutionProvider" in onnxruntime.get_available_providers(), "install onnxruntime-gpu"
torch.manual_seed(0)
config = LlamaConfig(vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                     num_attention_heads=4, num_key_value_heads=2)
model = LlamaForCausalLM(config).eval()
with tempfile.TemporaryDirectory() as tmp:
    model.save_pretrained(tmp)
    ort_model = ORTModelForCausalLM.from_pretrained(tmp, export=True,
                                                    provider="CUDAExecutionProvider")
model.to("cuda")

# ORT falls back to the CPU, with only a log line, when the CUDA libraries fail to load: check.
print(ort_model.session.get_providers(), ort_model.device, "io binding:", ort_model.use_io_binding)
assert ort_model.session.get_providers()[0] == "CUDAExecutionProvider"

input_ids = torch.randint(3, 128, (2, 8), device="cuda")
mask = torch.ones_like(input_ids)
with torch.no_grad():
    expected = model(input_ids=input_ids, attention_mask=mask).logits
got = ort_model(input_ids=input_ids, attention_mask=mask).logits
# With IO binding (on by default for CUDA) ORT reads and writes CUDA tensors: no copy to the host.
assert got.device.type == "cuda"
print("max |ORT CUDA - PyTorch CUDA| =", (got - expected).abs().max().item())
assert torch.allclose(got, expected, atol=1e-3)  # GPU kernels (and TF32) round differently from CPU

tokens = ort_model.generate(input_ids, attention_mask=mask, max_new_tokens=8, do_sample=False,
                            pad_token_id=config.eos_token_id)
print("generated", tuple(tokens.shape), "on", tokens.device)
assert tokens.shape == (2, 16)
# --8<-- [end:code]
