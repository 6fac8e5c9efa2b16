# pytest: gpu, needs-transformers, needs-optimum, needs-gptqmodel
# --8<-- [start:code]
import os
import tempfile

# packing runs on the CPU: skip its C++ build
os.environ.setdefault("GPTQMODEL_DISABLE_PACK_EXT", "1")

import torch
from transformers import AutoModelForCausalLM, GPTQConfig

from _tiny_llama import calibration_texts, make_model, make_tokenizer

tokenizer = make_tokenizer()
with tempfile.TemporaryDirectory() as folder:
    # make_model builds the model in float32, and save_pretrained keeps that dtype on disk
    make_model(hidden_size=256).save_pretrained(f"{folder}/fp32")
    config = GPTQConfig(bits=4, group_size=128, dataset=calibration_texts(), tokenizer=tokenizer,
                        backend="gptq_triton")  # a GPU kernel that needs only the triton package
    # On a GPU the calibration forward passes and the per-layer GPTQ solves run on CUDA, in fp16.
    model = AutoModelForCausalLM.from_pretrained(f"{folder}/fp32", quantization_config=config,
                                                 dtype=torch.float16, device_map="cuda")
    model.save_pretrained(f"{folder}/gptq")
    loaded = AutoModelForCausalLM.from_pretrained(
        f"{folder}/gptq", dtype=torch.float16, device_map="cuda",
        quantization_config=GPTQConfig(bits=4, backend="gptq_triton"))

q_proj = loaded.model.layers[0].self_attn.q_proj
print(type(q_proj).__name__, q_proj.qweight.dtype, tuple(q_proj.qweight.shape),
      q_proj.qweight.device)
prompt = tokenizer("The assert statement", return_tensors="pt").to("cuda")
with torch.no_grad():
    same = (model(**prompt).logits - loaded(**prompt).logits).abs().max().item()
    new_tokens = loaded.generate(**prompt, max_new_tokens=16,
                                 do_sample=False)[0, prompt.input_ids.shape[1]:]
print(f"max |logits quantized - reloaded| = {same:.4f}; generated {len(new_tokens)} tokens")
assert type(q_proj).__name__ == "TritonV2Linear" and q_proj.qweight.is_cuda
assert q_proj.qweight.shape == (256 * 4 // 32, 256) and len(new_tokens) == 16
# --8<-- [end:code]
