"""Padding-free packing (DataCollatorWithFlattening) against concat-and-chunk: what each does to
the loss of the second document."""
import torch
import torch.nn.functional as F
from transformers import DataCollatorWithFlattening, LlamaConfig, LlamaForCausalLM
from transformers.masking_utils import find_packed_sequence_indices

torch.manual_seed(0)
cfg = LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, initializer_range=0.3)
doc1, doc2 = torch.randint(0, 64, (7,)).tolist(), torch.randint(0, 64, (5,)).tolist()


def doc2_loss(logits):
    """Mean next-token loss over doc2's tokens, read from logits of the packed row [doc1 doc2]."""
    return F.cross_entropy(logits[0, len(doc1):-1], torch.tensor(doc2[1:])).item()


batch = DataCollatorWithFlattening()([{"input_ids": doc1}, {"input_ids": doc2}])
print("input_ids   ", batch["input_ids"].tolist())
print("position_ids", batch["position_ids"].tolist())   # restart at 0 for every document
print("labels      ", batch["labels"].tolist())         # -100 at each document's first token
# transformers reads document boundaries off the restarts (attention_mask must be None):
print("documents   ", find_packed_sequence_indices(batch["position_ids"]).tolist())

model = LlamaForCausalLM(cfg).eval()
for impl in ["eager", "sdpa"]:  # both CPU attention paths build their mask the same way
    model.set_attn_implementation(impl)
    with torch.no_grad():
        alone = model(input_ids=torch.tensor([doc2]), labels=torch.tensor([doc2])).loss.item()
        # Concat-and-chunk: one row, positions 0..11, plain causal mask -> doc2 sees doc1.
        chunked = doc2_loss(model(input_ids=batch["input_ids"]).logits)
        # Flattened: position_ids restart, and use_cache=False lets the mask builder see them.
        flat = doc2_loss(model(**batch, use_cache=False).logits)
        # Same batch with the config's default use_cache=True: a cache exists, so no packing mask.
        flat_cached = doc2_loss(model(**batch).logits)
    print(f"{impl:5} doc2 alone vs flattened: |diff| < 1e-5: {abs(flat - alone) < 1e-5}; "
          f"vs concat-and-chunk: |diff| > 0.05: {abs(chunked - alone) > 0.05}")
    assert abs(flat - alone) < 1e-5
    assert abs(chunked - alone) > 0.05 and abs(flat_cached - alone) > 0.05
