"""Every attn_implementation value the installed transformers accepts, what it needs, and what
happens to each on this CPU-only machine."""
import torch
from transformers import AutoModelForCausalLM, LlamaConfig
from transformers.modeling_flash_attention_utils import (FLASH_ATTENTION_COMPATIBILITY_MATRIX,
                                                         FLASH_ATTN_KERNEL_FALLBACK)
from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS

names = ["eager", *ALL_ATTENTION_FUNCTIONS.valid_keys()]  # the registry models dispatch through
print("accepted names:", names)
for version, needs in FLASH_ATTENTION_COMPATIBILITY_MATRIX.items():
    major = needs.get("cuda_min_major_version")
    hub = FLASH_ATTN_KERNEL_FALLBACK[f"flash_attention_{version}"]
    print(f"flash_attention_{version}: CUDA compute capability >= {major or 'any'}, "
          f"Hub kernel if the package is missing: {hub}")

torch.manual_seed(0)
config = LlamaConfig(vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                     num_attention_heads=4, num_key_value_heads=2)
reference = AutoModelForCausalLM.from_config(config, attn_implementation="eager").eval()
input_ids = torch.randint(0, 128, (2, 16))
with torch.no_grad():  # FlexAttention on CPU runs forward only
    expected = reference(input_ids).logits
    for name in [*names, "kernels-community/flash-attn3"]:  # "org/repo": a kernel from the Hub
        try:
            model = AutoModelForCausalLM.from_config(config, attn_implementation=name).eval()
        except (ImportError, ValueError) as err:
            print(f"{name:<30} refused, {type(err).__name__}: {str(err)[:52]}...")
            continue
        if name == "flex_attention":  # transformers' mask code calls a torch option that torch
            print(f"{name:<30} accepted, not run here (its CPU mask path warns, deprecated)")
            continue  # 2.13 deprecates: see the FlexAttention note on the overview page
        if name == "paged|eager":  # takes its mask from the paged cache of continuous batching
            print(f"{name:<30} accepted, for continuous batching (generate_batch) only")
            continue
        model.load_state_dict(reference.state_dict())
        same = (model(input_ids).logits - expected).abs().max().item() < 1e-5
        print(f"{name:<30} runs here, logits as eager's (max error < 1e-5): {same}")
        assert same
