"""ORTQuantizer refuses a folder that holds two .onnx files; name the one to quantize."""
import os
import tempfile

import torch
from optimum.onnxruntime import ORTModelForCausalLM, ORTQuantizer
from optimum.onnxruntime.configuration import AutoQuantizationConfig
from transformers import LlamaConfig, LlamaForCausalLM

torch.manual_seed(0)
config = LlamaConfig(vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=1,
                     num_attention_heads=4, num_key_value_heads=2)
qconfig = AutoQuantizationConfig.avx2(is_static=False)

with tempfile.TemporaryDirectory() as tmp:
    LlamaForCausalLM(config).save_pretrained(os.path.join(tmp, "pt"))
    folder = os.path.join(tmp, "onnx")
    exported = ORTModelForCausalLM.from_pretrained(os.path.join(tmp, "pt"), export=True)
    exported.save_pretrained(folder)
    # A first quantization writes its result next to the model it read: now the folder has two.
    ORTQuantizer.from_pretrained(folder).quantize(quantization_config=qconfig, save_dir=folder)
    print("files:", sorted(f for f in os.listdir(folder) if f.endswith(".onnx")))

    # WRONG: the same call again (a re-run of the script, a second config to try)
    try:
        ORTQuantizer.from_pretrained(folder)
        raise AssertionError("expected a RuntimeError")
    except RuntimeError as err:
        assert "does not support multi-file quantization" in str(err)
        first_sentence = str(err).replace(folder, "<folder>").split(". ")[0]
        print(f"without file_name: RuntimeError: {first_sentence}")

    # RIGHT: say which file to read; the output goes to another folder so nothing is overwritten
    quantizer = ORTQuantizer.from_pretrained(folder, file_name="model.onnx")
    quantizer.quantize(quantization_config=qconfig, save_dir=os.path.join(tmp, "int8"))
    written = [f for f in os.listdir(os.path.join(tmp, "int8")) if f.endswith(".onnx")]
    assert written == ["model_quantized.onnx"]
    print("with file_name='model.onnx': wrote", written)
