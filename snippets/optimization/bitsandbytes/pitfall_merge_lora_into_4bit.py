"""Pitfall: merging a QLoRA adapter into the 4-bit model re-quantizes the sum, and merging it into
the original 16/32-bit weights adds it to weights it was not trained with
(huggingface/peft#2321, huggingface/peft#2105). Merge into the dequantized base instead."""
import tempfile
import warnings

import torch
from bitsandbytes.functional import dequantize_4bit
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import AutoModelForCausalLM, BitsAndBytesConfig, LlamaConfig, LlamaForCausalLM

config = LlamaConfig(vocab_size=256, hidden_size=256, intermediate_size=512, num_hidden_layers=1,
                     num_attention_heads=4, num_key_value_heads=2)
nf4 = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4")


def load_4bit(folder):
    return AutoModelForCausalLM.from_pretrained(folder, quantization_config=nf4, device_map="cpu")


def up_proj_weight(model):
    """The float weight that model's first up_proj multiplies by (dequantized if it is 4-bit)."""
    weight = model.model.layers[0].mlp.up_proj.weight
    quant_state = getattr(weight, "quant_state", None)
    return dequantize_4bit(weight.data, quant_state) if quant_state is not None else weight.data


torch.manual_seed(0)
with tempfile.TemporaryDirectory() as tmp, torch.no_grad():
    LlamaForCausalLM(config).save_pretrained(f"{tmp}/base")
    # A QLoRA model as after training: the 4-bit base plus an adapter (random, not zero, here).
    qlora = get_peft_model(load_4bit(f"{tmp}/base"),
                           LoraConfig(r=8, target_modules=["up_proj"], init_lora_weights=False))
    for name, param in qlora.named_parameters():
        if "lora_B" in name:
            param.mul_(0.1)  # an update about 10 % of the weights' size
    qlora.save_pretrained(f"{tmp}/adapter")
    layer = qlora.base_model.model.model.layers[0].mlp.up_proj
    delta = layer.get_delta_weight("default")  # scaling * B @ A, what training learned
    trained = up_proj_weight(qlora.base_model.model) + delta  # what the trained model computes

    def lost(weight):
        return f"{((weight - trained).norm() / delta.norm()).item():.0%} of the update"

    # Wrong 1: merge into the 4-bit layers; PEFT warns, and the sum is rounded to NF4 again.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        merged_4bit = qlora.merge_and_unload()
    print("wrong, into the 4-bit model:", {str(w.message) for w in caught
                                          if "rounding" in str(w.message)})
    print(f"  weight off by {lost(up_proj_weight(merged_4bit))}")
    # Wrong 2: merge into the original fp32 checkpoint, whose weights the adapter never saw.
    original = PeftModel.from_pretrained(LlamaForCausalLM.from_pretrained(f"{tmp}/base"),
                                         f"{tmp}/adapter").merge_and_unload()
    print(f"wrong, into the original fp32 weights: off by {lost(up_proj_weight(original))}")
    # Right: dequantize the 4-bit base (the weights the adapter was trained on), then merge.
    right = PeftModel.from_pretrained(load_4bit(f"{tmp}/base").dequantize(),
                                      f"{tmp}/adapter").merge_and_unload()
    print(f"right, into the dequantized base: off by {lost(up_proj_weight(right))}")
    assert (up_proj_weight(right) - trained).norm() < 1e-3 * delta.norm()
