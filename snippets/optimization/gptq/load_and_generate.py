# pytest: slow
# --8<-- [start:code]
import os
import tempfile

os.environ.setdefault("GPTQMODEL_DISABLE_PACK_EXT", "1")  # skip a 2-minute C++ build (see above)

import torch
from transformers import AutoModelForCausalLM, GPTQConfig

from _tiny_llama import calibration_texts, make_model, make_tokenizer

tokenizer = make_tokenizer()
with tempfile.TemporaryDirectory() as folder:
    make_model().save_pretrained(f"{folder}/fp32")
    quantize = GPTQConfig(bits=4, group_size=32, dataset=calibration_texts(), tokenizer=tokenizer)
    AutoModelForCausalLM.from_pretrained(
        f"{folder}/fp32", quantization_config=quantize).save_pretrained(f"{folder}/gptq")

    fp32 = AutoModelForCausalLM.from_pretrained(f"{folder}/fp32")
    # A saved GPTQ checkpoint loads like any other: config.json says how it was quantized.
    auto = AutoModelForCausalLM.from_pretrained(f"{folder}/gptq")
    # At load time only the kernel can be chosen (backend, max_input_length); the rest is ignored.
    # gptq_torch dequantizes to float and multiplies; it torch.compile()s that step on first use.
    torch_kernel = AutoModelForCausalLM.from_pretrained(
        f"{folder}/gptq", quantization_config=GPTQConfig(bits=4, backend="gptq_torch"))

prompt = tokenizer("The assert statement", return_tensors="pt")
with torch.no_grad():
    logits = {name: m(**prompt).logits for name, m in
              [("fp32", fp32), ("auto", auto), ("gptq_torch", torch_kernel)]}
    tokens = {name: m.generate(**prompt, max_new_tokens=12,
                               do_sample=False)[0, prompt.input_ids.shape[1]:]
              for name, m in [("fp32", fp32), ("auto", auto), ("gptq_torch", torch_kernel)]}

print("backend auto picked", type(auto.model.layers[0].mlp.down_proj).__name__,
      "| backend gptq_torch picked", type(torch_kernel.model.layers[0].mlp.down_proj).__name__)
scale = logits["fp32"].abs().max()
gap = {pair: ((logits[pair[0]] - logits[pair[1]]).abs().max() / scale).item()
       for pair in [("auto", "fp32"), ("gptq_torch", "fp32"), ("auto", "gptq_torch")]}
for (a, b), value in gap.items():
    print(f"max |logits {a} - {b}| / max |fp32| = {value:.3f}")
# The logits are almost flat, so where the greedy tokens of the 4-bit models leave fp32's
# depends on the last bits of each CPU's kernels: print the fp32 tokens and the counts only.
print("fp32 generates", tokens["fp32"].tolist())
print("new tokens, fp32 / auto / gptq_torch:", [len(ids) for ids in tokens.values()])
assert gap[("auto", "gptq_torch")] < 0.02  # two kernels, the same 4-bit weights
assert gap[("gptq_torch", "fp32")] < 0.2  # 4-bit weights: close to fp32, not equal
assert all(len(ids) == 12 for ids in tokens.values())
# --8<-- [end:code]
