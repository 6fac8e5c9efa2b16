"""After merge_and_unload there is no adapter left to save: save the adapter first."""
import os
import tempfile

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import LlamaConfig, LlamaForCausalLM

torch.manual_seed(0)
cfg = LlamaConfig(vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2)
x = torch.randint(0, 128, (2, 10))
lora = LoraConfig(r=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
files = lambda d: sorted(os.listdir(d))
# Only the weights: the model card and adapter_config.json record the base's (temporary) path.
size = lambda d: sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d)
                     if f.endswith(".safetensors"))

with tempfile.TemporaryDirectory() as tmp:
    base_dir, merged_dir, adapter_dir = (os.path.join(tmp, n)
                                         for n in ("base", "merged", "adapter"))
    LlamaForCausalLM(cfg).save_pretrained(base_dir)
    model = get_peft_model(LlamaForCausalLM.from_pretrained(base_dir), lora).eval()

    # RIGHT (and it must come first): the PeftModel saves only A, B and the config.
    model.save_pretrained(adapter_dir)
    with torch.no_grad():
        expected = model(x).logits
        merged = model.merge_and_unload()
    # WRONG as an adapter: the merged model is a plain model; saving it writes every weight.
    merged.save_pretrained(merged_dir)
    print(f"adapter: {files(adapter_dir)}, weights {size(adapter_dir):,} bytes")
    print(f"merged:  {files(merged_dir)}, weights {size(merged_dir):,} bytes")
    assert "adapter_config.json" not in files(merged_dir)
    assert size(merged_dir) > 10 * size(adapter_dir)
    try:  # ... and it cannot be put on a base model as an adapter
        PeftModel.from_pretrained(LlamaForCausalLM.from_pretrained(base_dir), merged_dir)
        raise AssertionError("expected an error")
    except ValueError as err:
        print("as an adapter:", str(err).split(" at ")[0])

    # Each folder has its own loader, and both reproduce the fine-tuned logits.
    with torch.no_grad():
        via_adapter = PeftModel.from_pretrained(LlamaForCausalLM.from_pretrained(base_dir),
                                                adapter_dir)(x).logits
        via_merged = LlamaForCausalLM.from_pretrained(merged_dir)(x).logits
assert torch.equal(via_adapter, expected)
assert torch.allclose(via_merged, expected, atol=1e-5)
