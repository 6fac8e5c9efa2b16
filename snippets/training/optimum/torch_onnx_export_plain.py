"""Without Optimum: torch.onnx.export (the torch.export-based exporter) + a bare
InferenceSession."""
import os
import tempfile

import numpy as np
import onnxruntime
import torch
from transformers import LlamaConfig, LlamaForCausalLM

torch.manual_seed(0)
config = LlamaConfig(vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                     num_attention_heads=4, num_key_value_heads=2)
model = LlamaForCausalLM(config).eval()


class LogitsOnly(torch.nn.Module):
    """ONNX graphs take and return tensors: drop the cache and the ModelOutput wrapper."""

    def __init__(self, lm):
        super().__init__()
        self.lm = lm

    def forward(self, input_ids):
        return self.lm(input_ids=input_ids, use_cache=False).logits


example = torch.randint(0, 128, (2, 8))
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "llama.onnx")
    torch.onnx.export(LogitsOnly(model).eval(), (example,), path, input_names=["input_ids"],
                      output_names=["logits"], verbose=False,
                      dynamic_shapes=({0: "batch", 1: "seq"},))  # both axes may change at run time
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    print("input", session.get_inputs()[0].shape, "-> output", session.get_outputs()[0].shape)

    for shape in [(2, 8), (1, 13)]:  # the export example, then another batch size and length
        ids = torch.randint(0, 128, shape)
        (logits,) = session.run(None, {"input_ids": ids.numpy()})  # numpy in, numpy out
        with torch.no_grad():
            expected = model(input_ids=ids).logits.numpy()
        diff = np.abs(logits - expected).max()  # float rounding (~1e-7): its digits vary by CPU
        print(shape, "max |ORT - PyTorch| < 1e-5:", diff < 1e-5)
        assert np.allclose(logits, expected, atol=1e-5)
