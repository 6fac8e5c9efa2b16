"""ORTQuantizer quantizes every MatMul, the attention products too;
on long inputs that costs accuracy."""
import tempfile

import onnx
import torch
import torch.nn.functional as F
from optimum.onnxruntime import ORTModelForCausalLM, ORTQuantizer
from optimum.onnxruntime.configuration import AutoQuantizationConfig
from transformers import LlamaConfig, LlamaForCausalLM

torch.manual_seed(0)
config = LlamaConfig(vocab_size=1024, hidden_size=128, intermediate_size=256, num_hidden_layers=2,
                     num_attention_heads=4, num_key_value_heads=2)
model = LlamaForCausalLM(config).eval()

with tempfile.TemporaryDirectory() as tmp:
    model.save_pretrained(tmp)
    fp32 = ORTModelForCausalLM.from_pretrained(tmp, export=True)
    graph = onnx.load(fp32.model_save_dir / "model.onnx").graph
    weights = {init.name for init in graph.initializer}
    # MatMuls whose second input is computed, not stored: Q @ K^T, softmax @ V, and the rotary
    # embedding's inv_freq @ positions. ORT's own quantize_dynamic() skips these by default
    # (MatMulConstBOnly); Optimum's ORTQuantizer does not pass that option, so it quantizes them.
    no_weight = [n.name for n in graph.node if n.op_type == "MatMul" and n.input[1] not in weights]
    print("MatMuls without a weight:", no_weight)

    variants = {"every MatMul (preset)": AutoQuantizationConfig.avx2(is_static=False),
                "weight MatMuls only": AutoQuantizationConfig.avx2(is_static=False,
                                                                   nodes_to_exclude=no_weight)}
    int8 = {}
    for i, (name, qconfig) in enumerate(variants.items()):
        ORTQuantizer.from_pretrained(fp32).quantize(quantization_config=qconfig,
                                                    save_dir=f"{tmp}/q{i}")
        int8[name] = ORTModelForCausalLM.from_pretrained(f"{tmp}/q{i}",
                                                         file_name="model_quantized.onnx")

kl_of = {}
for length in [16, 1024]:  # 1024 positions either way: 64 short sequences or one long one
    input_ids = torch.randint(0, 1024, (1024 // length, length))
    mask = torch.ones_like(input_ids)
    with torch.no_grad():
        ref = model(input_ids=input_ids, attention_mask=mask).logits.log_softmax(-1)
    for name, ort_model in int8.items():
        out = ort_model(input_ids=input_ids, attention_mask=mask).logits.log_softmax(-1)
        kl = F.kl_div(out, ref, log_target=True, reduction="none").sum(-1).mean().item()
        top1 = (out.argmax(-1) == ref.argmax(-1)).float().mean().item()
        print(f"{length:>5} tokens, {name:<22}: KL {kl:.1e}, top-1 agreement {top1:.3f}")
        kl_of[name, length] = kl
# WRONG: with 1024 keys each attention weight is ~1/1024, and one 8-bit scale for the whole
# softmax output rounds most of them to zero. The error grows with the input length.
assert kl_of["every MatMul (preset)", 1024] > 20 * kl_of["every MatMul (preset)", 16]
# RIGHT: quantize only the MatMuls that hold weights; the error stays small at any length.
assert kl_of["weight MatMuls only", 1024] < 3 * kl_of["weight MatMuls only", 16]
assert kl_of["every MatMul (preset)", 1024] > 20 * kl_of["weight MatMuls only", 1024]
