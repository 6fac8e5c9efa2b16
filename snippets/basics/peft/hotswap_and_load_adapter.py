"""Hotswapping a LoRA adapter in place, and loading adapters through transformers itself."""
import os
import tempfile

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from peft.utils.hotswap import hotswap_adapter
from transformers import LlamaConfig, LlamaForCausalLM

torch.manual_seed(0)
cfg = LlamaConfig(vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2)
x = torch.randint(0, 128, (2, 10))
with tempfile.TemporaryDirectory() as tmp:
    LlamaForCausalLM(cfg).save_pretrained(f"{tmp}/base")
    base = lambda: LlamaForCausalLM.from_pretrained(f"{tmp}/base").eval()
    alone = {}
    for name in ["v1", "v2"]:  # two adapters with the same targets and rank, e.g. two runs
        lora = LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
        m = get_peft_model(base(), lora)
        m.save_pretrained(f"{tmp}/{name}")
        with torch.no_grad():
            alone[name] = m(x).logits

    # Hotswap: copy v2's tensors into the tensors that hold v1. Same modules, same Parameter
    # objects, so a torch.compile'd model does not recompile (not compiled here, to stay fast).
    model = PeftModel.from_pretrained(base(), f"{tmp}/v1")
    A = model.base_model.model.model.layers[0].self_attn.q_proj.lora_A["default"].weight
    hotswap_adapter(model, f"{tmp}/v2", adapter_name="default")
    A_after = model.base_model.model.model.layers[0].self_attn.q_proj.lora_A["default"].weight
    with torch.no_grad():
        swapped = model(x).logits
    print("hotswap: same Parameter object:", A_after is A,
          "| output == v2 alone:", torch.equal(swapped, alone["v2"]))
    assert A_after is A and torch.equal(swapped, alone["v2"])

    # transformers-native: the model class loads an adapter itself (PEFT does the work inside).
    llama = base()
    llama.load_adapter(f"{tmp}/v2", adapter_name="v2")
    with torch.no_grad():
        out_v2 = llama(x).logits
    print(type(llama).__name__, "adapters:", list(llama.peft_config),
          "| output == v2 alone:", torch.equal(out_v2, alone["v2"]))
    assert torch.equal(out_v2, alone["v2"])
    # The rest of that API (set_adapter, disable_adapters, ...) needs a newer PEFT than this pin.
    try:
        llama.disable_adapters()
    except ValueError as err:
        print("disable_adapters with peft 0.21:", err)
