"""Save only the adapter (a few KB), reload it on a fresh base, get identical outputs."""
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
    base_dir, adapter_dir = os.path.join(tmp, "base"), os.path.join(tmp, "adapter")
    LlamaForCausalLM(cfg).save_pretrained(base_dir)  # stands in for a Hub checkpoint

    # init_lora_weights=False: random A *and* B, so the adapter is not a no-op (stands in for
    # a trained one) and the reload check below means something.
    lora = LoraConfig(r=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    model = get_peft_model(LlamaForCausalLM.from_pretrained(base_dir), lora).eval()
    model.save_pretrained(adapter_dir)  # writes only the LoRA tensors + adapter_config.json
    print("adapter files:", sorted(os.listdir(adapter_dir)))

    size = lambda d, f: os.path.getsize(os.path.join(d, f))
    a_bytes = size(adapter_dir, "adapter_model.safetensors")
    b_bytes = size(base_dir, "model.safetensors")
    print(f"adapter {a_bytes:,} bytes vs full model {b_bytes:,} bytes ({b_bytes / a_bytes:.0f}x)")
    assert a_bytes < b_bytes / 10

    # Reload: a fresh copy of the base, then the adapter on top of it.
    fresh_base = LlamaForCausalLM.from_pretrained(base_dir)
    reloaded = PeftModel.from_pretrained(fresh_base, adapter_dir).eval()
    with torch.no_grad():
        out_before, out_after = model(x).logits, reloaded(x).logits
        out_base = LlamaForCausalLM.from_pretrained(base_dir)(x).logits

print("max |before - reloaded|:", (out_before - out_after).abs().max().item())
assert torch.equal(out_before, out_after)
assert not torch.allclose(out_after, out_base)  # the adapter really changes the output
# from_pretrained loads for inference by default: the LoRA weights come back frozen.
assert not any(p.requires_grad for p in reloaded.parameters())
