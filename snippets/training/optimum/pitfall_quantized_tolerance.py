"""An int8 model is close to its float32 original, not equal: test it with a tolerance that fits."""
import tempfile

import torch
import torch.nn.functional as F
from optimum.onnxruntime import ORTModelForCausalLM, ORTQuantizer
from optimum.onnxruntime.configuration import AutoQuantizationConfig
from transformers import LlamaConfig, LlamaForCausalLM

config = LlamaConfig(vocab_size=1024, hidden_size=128, intermediate_size=256, num_hidden_layers=2,
                     num_attention_heads=4, num_key_value_heads=2)
torch.manual_seed(0)
model = LlamaForCausalLM(config).eval()
other = LlamaForCausalLM(config).eval()  # a different random model: what a real bug looks like

with tempfile.TemporaryDirectory() as tmp:
    model.save_pretrained(tmp)
    fp32 = ORTModelForCausalLM.from_pretrained(tmp, export=True)
    ORTQuantizer.from_pretrained(fp32).quantize(
        quantization_config=AutoQuantizationConfig.avx2(is_static=False), save_dir=tmp + "/int8")
    int8 = ORTModelForCausalLM.from_pretrained(tmp + "/int8", file_name="model_quantized.onnx")

input_ids = torch.randint(0, 1024, (32, 32))  # 1024 positions
mask = torch.ones_like(input_ids)
with torch.no_grad():
    ref = model(input_ids=input_ids, attention_mask=mask).logits
    wrong_model = other(input_ids=input_ids, attention_mask=mask).logits
q = int8(input_ids=input_ids, attention_mask=mask).logits

# WRONG: the float32 habit. allclose's default tolerance (1e-5 relative, 1e-8 absolute) fails a
# healthy int8 model, which tempts people to loosen atol until it passes, bugs included.
print("allclose(int8, fp32) with default tolerance:", torch.allclose(q, ref))
assert not torch.allclose(q, ref)


# RIGHT: measure what quantization is allowed to change, on the scale of the output: how far the
# next-token distributions move (KL divergence) and how often the top-1 token stays the same.
def kl(logits):  # mean KL(fp32 || candidate) per position, in nats
    return F.kl_div(logits.log_softmax(-1), ref.log_softmax(-1), log_target=True,
                    reduction="none").sum(-1).mean().item()


def top1(logits):  # the fraction of positions where the most likely next token is the same
    return (logits.argmax(-1) == ref.argmax(-1)).float().mean().item()


print(f"int8 model : KL {kl(q):.1e} nats, top-1 agreement {top1(q):.3f}")
print(f"other model: KL {kl(wrong_model):.1e} nats, top-1 agreement {top1(wrong_model):.3f}")
assert kl(q) < 0.05 * kl(wrong_model) and top1(q) > 0.9  # tells a quantized model from a wrong one
assert top1(wrong_model) < 0.1
