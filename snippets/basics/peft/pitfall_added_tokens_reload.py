"""An adapter trained after adding tokens cannot be loaded on the original-size base: size
mismatch (huggingface/peft#1457)."""
import tempfile

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import LlamaConfig, LlamaForCausalLM

cfg = LlamaConfig(vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2)
with tempfile.TemporaryDirectory() as tmp:
    torch.manual_seed(0)
    LlamaForCausalLM(cfg).save_pretrained(f"{tmp}/base")          # the published base, 128 ids
    model = LlamaForCausalLM.from_pretrained(f"{tmp}/base")
    model.resize_token_embeddings(130, mean_resizing=False)          # 2 tokens added
    lora = LoraConfig(r=8, target_modules=["q_proj", "v_proj"],
                      modules_to_save=["embed_tokens", "lm_head"])  # train the new rows too
    # save_embedding_layers=True: store the resized matrices (PEFT would switch it on and warn).
    get_peft_model(model, lora).save_pretrained(f"{tmp}/adapter", save_embedding_layers=True)

    # WRONG: load the adapter on the base as published, 128 rows.
    try:
        PeftModel.from_pretrained(LlamaForCausalLM.from_pretrained(f"{tmp}/base"),
                                  f"{tmp}/adapter")
    except RuntimeError as err:
        line = next(s.strip() for s in str(err).splitlines() if "size mismatch" in s)
        print("WRONG ->", line[:line.index(" from checkpoint")])
        assert "torch.Size([130, 64])" in line

    # RIGHT: resize the base to the tokenizer's new length first (len(tokenizer) in real code).
    base = LlamaForCausalLM.from_pretrained(f"{tmp}/base")
    base.resize_token_embeddings(130, mean_resizing=False)
    loaded = PeftModel.from_pretrained(base, f"{tmp}/adapter")
    print("RIGHT -> embedding rows:", loaded.get_input_embeddings().weight.shape[0])
    assert loaded.get_input_embeddings().weight.shape[0] == 130
