import os
import tempfile

os.environ.setdefault("GPTQMODEL_DISABLE_PACK_EXT", "1")  # skip a 2-minute C++ build (see above)

from transformers import AutoModelForCausalLM, GPTQConfig

from _tiny_llama import calibration_texts, make_model, make_tokenizer

tokenizer = make_tokenizer()
with tempfile.TemporaryDirectory() as folder:
    make_model().save_pretrained(folder)
    # Wrong: group_size=-1 (one scale per output row, no groups) with the other defaults.
    # act_group_aware (GAR, on by default) reorders quantization by groups, so it needs groups.
    try:
        AutoModelForCausalLM.from_pretrained(folder, quantization_config=GPTQConfig(
            bits=4, group_size=-1, dataset=calibration_texts(4), tokenizer=tokenizer))
        raise AssertionError("expected a ValueError")
    except ValueError as err:
        print("group_size=-1:", str(err).split("->")[-1].strip())
        assert "act_group_aware" in str(err)

    # Right: turn GAR off for per-channel quantization (desc_act=True would also turn it off).
    model = AutoModelForCausalLM.from_pretrained(folder, quantization_config=GPTQConfig(
        bits=4, group_size=-1, act_group_aware=False, dataset=calibration_texts(),
        tokenizer=tokenizer))
up = model.model.layers[0].mlp.up_proj
print("group_size=-1, act_group_aware=False:", type(up).__name__, "with scales",
      tuple(up.scales.shape))
assert up.scales.shape == (1, 128)  # one group spanning all 64 inputs, one scale per output
