# --8<-- [start:code]
"""A vocabulary that TP does not divide cannot be split; pad it as Megatron's trainer does."""
from megatron.core.tensor_parallel.utils import VocabUtility

VOCAB = 151669  # the tokenizer's size in the report (Qwen3-Reranker-4B)
TP = 4


def padded_vocab_size(vocab, tp, divisible_by=128):
    """Round vocab up to a multiple of divisible_by * tp (--make-vocab-size-divisible-by).

    The extra rows are embeddings no token id ever selects; their logits must be masked or ignored.
    """
    multiple = divisible_by * tp
    return -(-vocab // multiple) * multiple


# WRONG: hand the tokenizer's size straight to the vocab-parallel embedding / output layer.
# VocabParallelEmbedding(num_embeddings=VOCAB, ...) asks VocabUtility for its rows, which fails:
try:
    VocabUtility.vocab_range_from_global_vocab_size(VOCAB, rank=0, world_size=TP)
    raise AssertionError("expected an AssertionError")
except AssertionError as err:
    assert str(err) == f"{VOCAB} is not divisible by {TP}"
    print(f"vocab {VOCAB}, TP={TP} -> AssertionError: {err}")

# RIGHT: pad the vocabulary once, then every rank owns an equal, contiguous slice of rows
padded = padded_vocab_size(VOCAB, TP)
print(f"padded vocab {padded} (+{padded - VOCAB} unused rows)")
for rank in range(TP):
    first, last = VocabUtility.vocab_range_from_global_vocab_size(padded, rank, TP)
    print(f"  rank {rank}: token ids [{first}, {last})")
assert last == padded and padded % (128 * TP) == 0
# --8<-- [end:code]
