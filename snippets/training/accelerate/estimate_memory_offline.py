# --8<-- [start:code]
"""`accelerate estimate-memory`'s arithmetic, offline: a Llama-3-8B-shaped model on `meta`."""
from accelerate import init_empty_weights
from accelerate.commands.estimate import estimate_training_usage
from accelerate.utils import calculate_maximum_sizes
from transformers import LlamaConfig, LlamaForCausalLM

# The shape of Llama 3 8B (its config.json); no weights are downloaded or even allocated.
config = LlamaConfig(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                     num_attention_heads=32, num_key_value_heads=8, vocab_size=128256)
with init_empty_weights():  # parameters on the `meta` device: shapes only
    model = LlamaForCausalLM(config)
n = sum(p.numel() for p in model.parameters())
total, (largest, names) = calculate_maximum_sizes(model)  # fp32 bytes, as the CLI computes
print(f"{n / 1e9:.2f}B parameters, {total / 1e9:.1f} GB in fp32; largest layer {names}: "
      f"{largest / 1e9:.2f} GB")
for dtype in ("float32", "bfloat16"):
    parts = estimate_training_usage(total, dtype)  # bytes of model, gradients, optimizer, step
    per_param = {k: round(v / n, 1) for k, v in parts.items()}
    # The CLI's "Training using Adam" column is max(parts.values()); at the optimizer step the
    # weights, gradients and optimizer states are all alive at once.
    alive = parts["model"] + parts["gradients"] + parts["optimizer"]
    cli = max(parts.values())
    print(f"{dtype}: bytes/param {per_param}; CLI figure {cli / 1e9:.0f} GB "
          f"({cli / n:.0f} B/param); model+gradients+optimizer {alive / n:.0f} B/param")
# --8<-- [end:code]
