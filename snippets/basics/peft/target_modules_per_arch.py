"""Which modules get LoRA depends on the architecture's module names."""
import torch
from peft import LoraConfig, get_peft_model
from peft.tuners.lora import LoraLayer
from transformers import (BertConfig, BertModel, GPT2Config, GPT2LMHeadModel, LlamaConfig,
                          LlamaForCausalLM)

torch.manual_seed(0)
small = dict(num_hidden_layers=2, num_attention_heads=4, vocab_size=128)
models = {
    # Llama: separate nn.Linear projections named q_proj, k_proj, v_proj, o_proj.
    "llama": (LlamaForCausalLM(LlamaConfig(hidden_size=64, intermediate_size=128,
                                           num_key_value_heads=2, **small)), ["q_proj", "v_proj"]),
    # GPT-2: one fused Conv1D "c_attn" makes q, k and v at once (weight stored as (d_in, d_out)).
    "gpt2": (GPT2LMHeadModel(GPT2Config(n_embd=64, n_layer=2, n_head=4, vocab_size=128,
                                        bos_token_id=0, eos_token_id=0)), ["c_attn"]),
    # BERT: nn.Linear layers called query, key, value.
    "bert": (BertModel(BertConfig(hidden_size=64, intermediate_size=128, **small)),
             ["query", "value"]),
}
for arch, (base, targets) in models.items():
    # target_modules=None lets PEFT pick its built-in default for this model_type ...
    # fan_in_fan_out=True tells LoRA that Conv1D's weight is transposed (PEFT would warn and
    # flip it for you); for nn.Linear it stays False.
    peft_model = get_peft_model(base, LoraConfig(r=4, fan_in_fan_out=(arch == "gpt2")))
    adapted = [n for n, m in peft_model.named_modules() if isinstance(m, LoraLayer)]
    print(f"{arch:5s} default targets={sorted(peft_model.peft_config['default'].target_modules)}")
    for name in adapted:
        print("       ", name)
    # ... and the default is exactly the list written above, matched on the last name part.
    assert sorted({n.rsplit(".", 1)[-1] for n in adapted}) == sorted(targets)
    assert len(adapted) == 2 * len(targets)  # two layers each
