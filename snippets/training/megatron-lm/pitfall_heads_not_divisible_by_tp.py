# --8<-- [start:code]
"""TransformerConfig rejects a head count that the tensor-parallel size does not divide."""
from megatron.core.transformer import TransformerConfig

HEADS = 15  # an odd head count, as in a small published model


def config(tp):
    """A tiny model description for TP processes; Megatron checks the layout when it is built."""
    return TransformerConfig(num_layers=2, hidden_size=15 * 8, num_attention_heads=HEADS,
                             tensor_model_parallel_size=tp)


# WRONG: TP=2 is a valid process layout (it divides 2, 4, 8 GPUs) but it cannot split 15 heads
try:
    config(tp=2)
    raise AssertionError("expected a ValueError")
except ValueError as err:
    assert "must be a multiple of tensor_model_parallel_size (2)" in str(err)
    print(f"TP=2 -> ValueError: {err}")

# RIGHT: each TP rank owns HEADS / TP whole heads, so TP must be a divisor of the head count
valid = [tp for tp in range(1, HEADS + 1) if HEADS % tp == 0]
print(f"TP sizes that divide {HEADS} heads: {valid}")
cfg = config(tp=3)
print(f"TP=3 -> {cfg.num_attention_heads // cfg.tensor_model_parallel_size} heads per rank, "
      f"kv_channels {cfg.kv_channels}")
# --8<-- [end:code]
