"""Pitfall: a layer whose width is not a multiple of 32 cannot be packed into GPTQ's int32 words:
quantization calibrates, then fails (ModelCloud/GPTQModel#2924, #328)."""
import os
import tempfile

os.environ.setdefault("GPTQMODEL_DISABLE_PACK_EXT", "1")  # skip a 2-minute C++ build (see above)

import torch
from transformers import AutoModelForCausalLM, GPTQConfig, LlamaConfig, LlamaForCausalLM

from _tiny_llama import calibration_texts, make_tokenizer

torch.manual_seed(0)
# An MLP width of 80 (80 % 32 = 16): gate_proj and up_proj give 80 outputs, down_proj takes 80
# inputs. Real models have such widths (ModelCloud/GPTQModel#2924: 48); here it is made small.
config = LlamaConfig(vocab_size=512, hidden_size=64, intermediate_size=80, num_hidden_layers=1,
                     num_attention_heads=4, num_key_value_heads=2, bos_token_id=0, eos_token_id=1)
common = dict(bits=4, group_size=16, dataset=calibration_texts(), tokenizer=make_tokenizer())
with tempfile.TemporaryDirectory() as folder:
    LlamaForCausalLM(config).save_pretrained(folder)
    try:
        AutoModelForCausalLM.from_pretrained(folder, quantization_config=GPTQConfig(**common))
    except ValueError as error:
        print("wrong:", error)
    # Right: quantize only the layers whose widths pack (here the attention projections); the
    # MLP stays in full precision.
    only = [["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"], ["self_attn.o_proj"]]
    model = AutoModelForCausalLM.from_pretrained(folder, quantization_config=GPTQConfig(
        **common, modules_in_block_to_quantize=only))
layer = model.model.layers[0]
print("right: q_proj", type(layer.self_attn.q_proj).__name__, "| MLP",
      sorted({type(module).__name__ for module in layer.mlp.children()} - {"SiLUActivation"}))
assert type(layer.mlp.down_proj) is torch.nn.Linear
