"""Dynamic int8 quantization with ORTQuantizer: the file shrinks ~3x, the logits move a little."""
import os
import tempfile
from collections import Counter

import onnx
import torch
from optimum.onnxruntime import ORTModelForCausalLM, ORTQuantizer
from optimum.onnxruntime.configuration import AutoQuantizationConfig
from transformers import LlamaConfig, LlamaForCausalLM

torch.manual_seed(0)
config = LlamaConfig(vocab_size=1024, hidden_size=128, intermediate_size=256, num_hidden_layers=2,
                     num_attention_heads=4, num_key_value_heads=2)
model = LlamaForCausalLM(config).eval()

with tempfile.TemporaryDirectory() as tmp:
    model.save_pretrained(os.path.join(tmp, "pt"))
    fp32 = ORTModelForCausalLM.from_pretrained(os.path.join(tmp, "pt"), export=True)
    fp32.save_pretrained(os.path.join(tmp, "fp32"))

    # Dynamic: weights are stored as 8-bit integers now; each activation's scale is computed at run
    # time from its own min/max, so no calibration data is needed. avx2 is what this CPU has (no
    # AVX-512 VNNI); its preset uses unsigned 8-bit weights, one scale per output channel.
    qconfig = AutoQuantizationConfig.avx2(is_static=False)
    quantizer = ORTQuantizer.from_pretrained(fp32)
    quantizer.quantize(quantization_config=qconfig, save_dir=os.path.join(tmp, "int8"))
    print("int8 folder:", sorted(os.listdir(os.path.join(tmp, "int8"))))
    int8 = ORTModelForCausalLM.from_pretrained(os.path.join(tmp, "int8"),
                                               file_name="model_quantized.onnx")

    size_fp32 = os.path.getsize(os.path.join(tmp, "fp32", "model.onnx"))
    size_int8 = os.path.getsize(os.path.join(tmp, "int8", "model_quantized.onnx"))
    for name in ["fp32/model.onnx", "int8/model_quantized.onnx"]:  # what changed in the graph
        ops = Counter(node.op_type for node in onnx.load(os.path.join(tmp, name)).graph.node)
        print(f"{name:<26}",
              {op: ops[op] for op in ["MatMul", "MatMulInteger", "DynamicQuantizeLinear"]})
print(f"model.onnx {size_fp32 / 1e6:.2f} MB -> model_quantized.onnx {size_int8 / 1e6:.2f} MB "
      f"({size_fp32 / size_int8:.1f}x smaller)")
assert size_int8 < size_fp32 / 3  # float32 -> int8 is 4x on the weights; scales and graph add a bit

# 1024 positions: a flip or two moves top-1 by 0.1-0.2%
input_ids = torch.randint(0, 1024, (32, 32))
mask = torch.ones_like(input_ids)
with torch.no_grad():
    ref = model(input_ids=input_ids, attention_mask=mask).logits
q = int8(input_ids=input_ids, attention_mask=mask).logits
rel = ((q - ref).abs().max() / ref.abs().max()).item()  # error relative to the logits' range
top1 = (q.argmax(-1) == ref.argmax(-1)).float().mean().item()  # fraction of positions
print(f"max |int8 - fp32| / max |fp32| = {rel:.3f}; top-1 agreement {top1:.3f}")
assert rel < 0.1 and top1 > 0.9  # close, not equal: see the pitfall on tolerances
