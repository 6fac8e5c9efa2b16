"""The CPU onnxruntime wheel has no CUDA provider: ORTModel raises, a bare session falls back."""
import os
import tempfile
import warnings

import onnxruntime as ort
import torch
from optimum.onnxruntime import ORTModelForCausalLM
from transformers import LlamaConfig, LlamaForCausalLM

torch.manual_seed(0)
config = LlamaConfig(vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=1,
                     num_attention_heads=4, num_key_value_heads=2)
# This environment has the `onnxruntime` wheel, which is built without CUDA
assert "CUDAExecutionProvider" not in ort.get_available_providers()

with tempfile.TemporaryDirectory() as tmp:
    LlamaForCausalLM(config).save_pretrained(os.path.join(tmp, "pt"))
    folder = os.path.join(tmp, "onnx")
    exported = ORTModelForCausalLM.from_pretrained(os.path.join(tmp, "pt"), export=True)
    exported.save_pretrained(folder)

    # WRONG: ask for the GPU provider without checking the installed wheel provides it
    try:
        ORTModelForCausalLM.from_pretrained(folder, provider="CUDAExecutionProvider")
        raise AssertionError("expected a ValueError")
    except ValueError as err:
        assert str(err).startswith("Asked to use CUDAExecutionProvider as an ONNX Runtime")
        print("ORTModel:", str(err).split(", but")[0], "-> ValueError")
    # ONNX Runtime itself only warns, and the session quietly runs on the CPU
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        session = ort.InferenceSession(os.path.join(folder, "model.onnx"),
                                       providers=["CUDAExecutionProvider", "CPUExecutionProvider"])
    assert any("CUDAExecutionProvider" in str(w.message) for w in caught)
    print("InferenceSession: warning, runs on", session.get_providers())

    # RIGHT: pick from what the wheel offers, and check what the model was given
    wanted = "CUDAExecutionProvider"
    provider = wanted if wanted in ort.get_available_providers() else "CPUExecutionProvider"
    model = ORTModelForCausalLM.from_pretrained(folder, provider=provider)
    assert model.providers[0] == provider
    print("ORTModel with a checked provider runs on", model.providers)
