import json
import os
import tempfile

# gptqmodel packs the int4 weights with a C++ extension that it compiles on first use (about
# 2 minutes on 2 cores); its pure-PyTorch packer is instant for a model this small.
os.environ.setdefault("GPTQMODEL_DISABLE_PACK_EXT", "1")

from safetensors import safe_open
from transformers import AutoModelForCausalLM, GPTQConfig

from _tiny_llama import calibration_texts, make_model, make_tokenizer

with tempfile.TemporaryDirectory() as folder:
    make_model().save_pretrained(f"{folder}/fp32")
    config = GPTQConfig(bits=4, group_size=32, dataset=calibration_texts(),
                        tokenizer=make_tokenizer())
    # Loading with a GPTQConfig that has a dataset runs the calibration and quantizes,
    # block by block.
    model = AutoModelForCausalLM.from_pretrained(f"{folder}/fp32", quantization_config=config)
    model.save_pretrained(f"{folder}/gptq")

    print("q_proj is now", type(model.model.layers[0].self_attn.q_proj).__name__)
    with open(f"{folder}/gptq/config.json") as f:
        saved = json.load(f)["quantization_config"]
    print({key: saved[key]
           for key in ["quant_method", "bits", "group_size", "sym", "desc_act", "format"]})
    print("meta:", saved["meta"], "| calibration texts kept in config.json:", len(saved["dataset"]))

    with safe_open(f"{folder}/gptq/model.safetensors", framework="pt") as f:
        names = sorted(k for k in f.keys() if k.startswith("model.layers.0.mlp.up_proj."))
        tensors = {name.rsplit(".", 1)[1]: f.get_tensor(name) for name in names}
    for name, tensor in tensors.items():  # up_proj: 64 inputs -> 128 outputs
        print(f"up_proj.{name:8s} {str(tensor.dtype):14s} {tuple(tensor.shape)}")

in_features, out_features, bits, group = 64, 128, 4, 32
assert tensors["qweight"].shape == (in_features * bits // 32, out_features)  # 8 weights per int32
# one scale per group and output
assert tensors["scales"].shape == (in_features // group, out_features)
assert tensors["qzeros"].shape == (in_features // group, out_features * bits // 32)
# input column -> its group
assert tensors["g_idx"].tolist() == [i // group for i in range(in_features)]
# One int32 word holds eight 4-bit codes, here the codes of 8 consecutive inputs for output 0.
print("qweight[0, 0] =", hex(tensors["qweight"][0, 0].item() & 0xFFFFFFFF),
      "| qzeros[0, 0] =", hex(tensors["qzeros"][0, 0].item() & 0xFFFFFFFF))
assert tensors["qzeros"][0, 0].item() & 0xFFFFFFFF == 0x88888888  # symmetric: every zero point is 8
packed = sum(t.numel() * t.element_size() for t in tensors.values())
print(f"bytes for up_proj: {in_features * out_features * 2} in fp16, {packed} packed")
