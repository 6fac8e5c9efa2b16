"""One frozen base, two adapters: load_adapter adds one, set_adapter picks which is active."""
import os
import tempfile

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import LlamaConfig, LlamaForCausalLM

torch.manual_seed(0)
cfg = LlamaConfig(vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2)
x = torch.randint(0, 128, (2, 10))
with tempfile.TemporaryDirectory() as tmp:
    base_dir = os.path.join(tmp, "base")
    LlamaForCausalLM(cfg).save_pretrained(base_dir)
    fresh_base = lambda: LlamaForCausalLM.from_pretrained(base_dir)

    # Two different (random, non-zero) adapters, e.g. one per task; r and targets may differ.
    alone = {}
    for name, targets in [("sql", ["q_proj", "v_proj"]), ("chat", ["o_proj"])]:
        lora = LoraConfig(r=4, target_modules=targets, init_lora_weights=False)
        m = get_peft_model(fresh_base(), lora).eval()
        m.save_pretrained(os.path.join(tmp, name))
        with torch.no_grad():
            alone[name] = m(x).logits

    # One base in memory, both adapters attached to it.
    model = PeftModel.from_pretrained(fresh_base(), os.path.join(tmp, "sql"), adapter_name="sql")
    model.load_adapter(os.path.join(tmp, "chat"), adapter_name="chat")
    print("adapters:", list(model.peft_config), "| active:", model.active_adapter)

    outs = {}
    with torch.no_grad():
        for name in ["sql", "chat"]:
            # Only this adapter's A/B are used in forward. Without inference_mode=True,
            # set_adapter would also flip the adapter's weights to requires_grad=True.
            model.set_adapter(name, inference_mode=True)
            outs[name] = model(x).logits
            print(f"{name}: matches the adapter alone:", torch.equal(outs[name], alone[name]))
            assert torch.equal(outs[name], alone[name])
            assert not any(p.requires_grad for p in model.parameters())
        with model.disable_adapter():  # context manager: the bare base model
            base_out = model(x).logits
assert not torch.allclose(outs["sql"], outs["chat"])
assert not torch.allclose(base_out, outs["sql"]) and not torch.allclose(base_out, outs["chat"])
