"""Pitfall: GPTQConfig(batch_size > 1) without pad_token_id fails before calibrating, with an error
that names optimum's `quantize_model`, which a transformers user never called."""
import os
import tempfile

os.environ.setdefault("GPTQMODEL_DISABLE_PACK_EXT", "1")  # skip a 2-minute C++ build (see above)

from transformers import AutoModelForCausalLM, GPTQConfig

from _tiny_llama import calibration_texts, make_model, make_tokenizer

tokenizer = make_tokenizer()  # like Llama's tokenizers, it has no padding token
print("tokenizer.pad_token_id:", tokenizer.pad_token_id)
with tempfile.TemporaryDirectory() as folder:
    make_model().save_pretrained(folder)
    common = dict(bits=4, group_size=32, dataset=calibration_texts(), tokenizer=tokenizer)
    try:
        AutoModelForCausalLM.from_pretrained(
            folder, quantization_config=GPTQConfig(**common, batch_size=4))
    except ValueError as error:
        print("wrong:", error)
    # Batches of calibration texts of different lengths are padded: say with which token.
    # The padded positions are masked out (attention_mask), so any id the model knows works.
    model = AutoModelForCausalLM.from_pretrained(folder, quantization_config=GPTQConfig(
        **common, batch_size=4, pad_token_id=tokenizer.eos_token_id))
print("right:", type(model.model.layers[0].mlp.up_proj).__name__)
