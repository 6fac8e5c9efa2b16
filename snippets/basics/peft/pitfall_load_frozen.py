"""PeftModel.from_pretrained loads an adapter frozen, for inference: continuing training from it
trains nothing (huggingface/peft#282)."""
import tempfile

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import LlamaConfig, LlamaForCausalLM

cfg = LlamaConfig(vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2)
with tempfile.TemporaryDirectory() as tmp:
    torch.manual_seed(0)
    LlamaForCausalLM(cfg).save_pretrained(f"{tmp}/base")
    model = get_peft_model(LlamaForCausalLM.from_pretrained(f"{tmp}/base"),
                           LoraConfig(r=8, target_modules=["q_proj", "v_proj"]))
    model.save_pretrained(f"{tmp}/ckpt")  # e.g. a checkpoint halfway through fine-tuning

    # WRONG: the default is_trainable=False loads every LoRA weight with requires_grad=False.
    resumed = PeftModel.from_pretrained(LlamaForCausalLM.from_pretrained(f"{tmp}/base"),
                                        f"{tmp}/ckpt")
    trainable = [p for p in resumed.parameters() if p.requires_grad]
    print("WRONG -> trainable tensors:", len(trainable))
    try:
        torch.optim.AdamW(trainable, lr=1e-3)
    except ValueError as err:
        print("         AdamW:", err)
        assert "empty parameter list" in str(err)

    # RIGHT: ask for a trainable adapter.
    resumed = PeftModel.from_pretrained(LlamaForCausalLM.from_pretrained(f"{tmp}/base"),
                                        f"{tmp}/ckpt", is_trainable=True)
    n, _ = resumed.get_nb_trainable_parameters()
    print(f"RIGHT -> trainable parameters: {n:,}")
    assert n == 2 * 8 * ((64 + 64) + (64 + 32))
