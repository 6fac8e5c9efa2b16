"""target_modules are names, and names differ per architecture (and per str vs list)."""
import torch
from peft import LoraConfig, NoMatchingPeftModuleError, get_peft_model
from peft.tuners.lora import LoraLayer
from transformers import GPT2Config, GPT2LMHeadModel

torch.manual_seed(0)
gpt2 = lambda: GPT2LMHeadModel(GPT2Config(n_embd=64, n_layer=2, n_head=4, vocab_size=128,
                                          bos_token_id=0, eos_token_id=0))
lora_on = lambda model, targets: get_peft_model(
    model, LoraConfig(r=4, target_modules=targets, fan_in_fan_out=True))
adapted = lambda m: sorted(n.split(".")[-1] for n, x in m.named_modules()
                           if isinstance(x, LoraLayer))

# WRONG 1: Llama's names on GPT-2, which has one fused c_attn instead -> nothing matches: error.
try:
    lora_on(gpt2(), ["q_proj", "v_proj"])
    raise AssertionError("expected an error")
except NoMatchingPeftModuleError as err:  # a ValueError subclass
    # The message quotes the names as a Python set, whose order changes from run to run.
    assert "not found in the base model" in str(err)
    print("llama names on gpt2:", type(err).__name__)

# WRONG 2 (silent): one right name in the list is enough to pass, the wrong one just does nothing.
model = lora_on(gpt2(), ["c_attn", "q_proj"])
print("['c_attn', 'q_proj'] adapted:", adapted(model))
assert adapted(model) == ["c_attn", "c_attn"]  # q_proj was ignored without a word

# WRONG 3: a *string* is a regex that must match the WHOLE dotted module name.
try:
    lora_on(gpt2(), "c_attn")
    raise AssertionError("expected an error")
except NoMatchingPeftModuleError:
    print("string 'c_attn' matched nothing (full names look like transformer.h.0.attn.c_attn)")

# RIGHT: list the real leaf names (print model.named_modules() to find them), or a full regex.
assert adapted(lora_on(gpt2(), ["c_attn"])) == ["c_attn", "c_attn"]
assert adapted(lora_on(gpt2(), r".*\.attn\.c_attn")) == ["c_attn", "c_attn"]
print("right: list of leaf names or a full-name regex")
