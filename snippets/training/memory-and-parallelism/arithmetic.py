# --8<-- [start:code]
"""The systems arithmetic of LLM training: typed hardware and model constants, and formulas.

One source for every figure on the Memory and parallelism pages. Units are in the field names
(``_bytes``, ``_bytes_per_s``, ``_flop_per_s``) and decimal as on datasheets: GB = 1e9 bytes,
TB/s = 1e12 bytes/s, TFLOP/s = 1e12 FLOP/s. Other snippets import it with
``sys.path.insert(0, str(Path(__file__).resolve().parent))``; tests load it by path.
"""
from __future__ import annotations

import dataclasses

GB, GiB = 10**9, 2**30


@dataclasses.dataclass(frozen=True)
class GPU:
    """One accelerator's datasheet figures (SXM boards). Dense and 2:4-sparse Tensor Core peaks
    are separate fields: NVIDIA's datasheets print the sparse figure, with a footnote that the
    dense one is half of it. MFU and step times use the dense figure. ``None``: not supported."""

    name: str
    memory_bytes: int  # HBM capacity as printed (GB = 1e9 bytes)
    hbm_bytes_per_s: float  # memory bandwidth
    bf16_dense_flop_per_s: float
    bf16_sparse_flop_per_s: float
    fp8_dense_flop_per_s: float | None
    fp8_sparse_flop_per_s: float | None
    nvlink_bytes_per_s: float  # NVLink, both directions together; one direction is half

    @property
    def nvlink_one_way_bytes_per_s(self) -> float:
        """Bytes per second one GPU sends (or receives) over NVLink: half the two-way figure."""
        return self.nvlink_bytes_per_s / 2


# NVIDIA A100 datasheet (80GB SXM), H100 and H200 product pages / datasheets (SXM columns).
A100_80GB = GPU("A100-80GB-SXM", memory_bytes=80 * GB, hbm_bytes_per_s=2.039e12,
                bf16_dense_flop_per_s=312e12, bf16_sparse_flop_per_s=624e12,
                fp8_dense_flop_per_s=None, fp8_sparse_flop_per_s=None,  # Ampere: no FP8
                nvlink_bytes_per_s=600e9)
H100_SXM = GPU("H100-SXM", memory_bytes=80 * GB, hbm_bytes_per_s=3.35e12,
               bf16_dense_flop_per_s=989.5e12, bf16_sparse_flop_per_s=1979e12,
               fp8_dense_flop_per_s=1979e12, fp8_sparse_flop_per_s=3958e12,
               nvlink_bytes_per_s=900e9)
H200 = GPU("H200-SXM", memory_bytes=141 * GB, hbm_bytes_per_s=4.8e12,
           bf16_dense_flop_per_s=989.5e12, bf16_sparse_flop_per_s=1979e12,
           fp8_dense_flop_per_s=1979e12, fp8_sparse_flop_per_s=3958e12,
           nvlink_bytes_per_s=900e9)


@dataclasses.dataclass(frozen=True)
class ModelShape:
    """A Llama-style decoder: RMSNorm, grouped-query attention, SwiGLU MLP, no biases."""

    name: str
    layers: int
    hidden: int
    heads: int
    kv_heads: int
    ffn: int  # width of the MLP's gate/up projections
    vocab: int
    tied_embeddings: bool = False

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads

    @property
    def params_per_layer(self) -> int:
        """q, o (h x h), k, v (h x kv_heads*head_dim), gate/up/down (3 h x ffn), two norms."""
        h, kv = self.hidden, self.kv_heads * self.head_dim
        return 2 * h * h + 2 * h * kv + 3 * h * self.ffn + 2 * h

    @property
    def params(self) -> int:
        """All parameters: layers, final norm, embedding, and the output head unless tied."""
        embeddings = self.vocab * self.hidden * (1 if self.tied_embeddings else 2)
        return self.layers * self.params_per_layer + self.hidden + embeddings

    @property
    def matmul_params(self) -> int:
        """Parameters that multiply activations: all but the input embedding (a table lookup)."""
        return self.params - (0 if self.tied_embeddings else self.vocab * self.hidden)


# Meta's Llama 3 8B config: 32 layers, hidden 4096, 32 heads, 8 KV heads, FFN 14336, vocab 128256.
LLAMA3_8B = ModelShape("Llama-3-8B", layers=32, hidden=4096, heads=32, kv_heads=8, ffn=14336,
                       vocab=128256)


def zero_model_state_bytes(params: float, stage: int, dp: int, k: int = 12) -> float:
    """Bytes of model states per GPU under ZeRO (Rajbhandari et al. 2020, arXiv:1910.02054).

    Mixed precision with Adam: 2 bytes of 16-bit weights, 2 of 16-bit gradients and ``k`` = 12 of
    optimizer state (fp32 master weights, momentum, variance) per parameter. Stage 1 shards the
    optimizer state over the ``dp`` ranks, stage 2 also the gradients, stage 3 also the weights.
    Raises ValueError for a stage outside 0..3.
    """
    if stage not in (0, 1, 2, 3):
        raise ValueError(f"ZeRO stage must be 0, 1, 2 or 3, not {stage}")
    weights = 2 * params / (dp if stage == 3 else 1)
    grads = 2 * params / (dp if stage >= 2 else 1)
    optimizer = k * params / (dp if stage >= 1 else 1)
    return weights + grads + optimizer


def activation_bytes_per_layer(s: int, b: int, h: int, a: int, tp: int = 1,
                               sequence_parallel: bool = False, recompute: str = "none") -> float:
    """Bytes of activations one transformer layer keeps for backward (Korthikanti et al. 2022,
    arXiv:2205.05198, Table 2): sbh(34 + 5as/h) with 16-bit activations and 1-byte dropout masks.

    ``s`` sequence, ``b`` micro-batch, ``h`` hidden, ``a`` heads, ``tp`` tensor-parallel ranks.
    ``recompute``: "none"; "selective" (the attention core, the 5as/h term, is recomputed);
    "full" (only the layer input, 2sbh, is kept; divided by tp with sequence parallelism).
    Raises ValueError for another ``recompute`` or sequence parallelism without tp > 1.
    """
    if recompute not in ("none", "selective", "full"):
        raise ValueError(f"recompute must be 'none', 'selective' or 'full', not {recompute!r}")
    if sequence_parallel and tp == 1:
        raise ValueError("sequence parallelism splits along tensor-parallel ranks: needs tp > 1")
    sbh, attention = s * b * h, 5 * a * s / h
    if recompute == "full":
        return 2 * sbh / (tp if sequence_parallel else 1)
    if recompute == "selective":
        attention = 0
    if sequence_parallel:  # everything split over tp, layer norms and dropouts included
        return sbh * (34 + attention) / tp
    return sbh * (10 + 24 / tp + attention / tp)  # layer norms, dropouts, inputs: replicated


def activation_bytes(model: ModelShape, s: int, b: int, recompute: str = "none") -> float:
    """Activation bytes of all layers of ``model`` for one micro-batch (no model parallelism).
    With full recompute, backward rebuilds one layer at a time: that layer's activations (as with
    selective recompute) come on top of the kept layer inputs."""
    per_layer = activation_bytes_per_layer(s, b, model.hidden, model.heads, recompute=recompute)
    rebuilt = (activation_bytes_per_layer(s, b, model.hidden, model.heads, recompute="selective")
               if recompute == "full" else 0)
    return model.layers * per_layer + rebuilt


def ring_all_reduce_bytes_per_rank(message_bytes: float, ranks: int) -> float:
    """Bytes each rank sends in a ring all-reduce of ``message_bytes``: 2(n-1)/n times the message
    (a reduce-scatter then an all-gather, each (n-1)/n). Zero for one rank."""
    return 2 * (ranks - 1) / ranks * message_bytes


def dp_comm_bytes_per_step(params: float, dp: int, stage: int, bytes_per_value: int = 2) -> float:
    """Bytes each data-parallel rank sends per optimizer step (ZeRO paper, section 7): the 16-bit
    gradient all-reduce (stages 0-2; stage 1/2 do a reduce-scatter plus an all-gather of weights,
    the same volume), 1.5x that at stage 3, which all-gathers weights again in backward."""
    volume = ring_all_reduce_bytes_per_rank(params * bytes_per_value, dp)
    return volume * (1.5 if stage == 3 else 1)


def tp_comm_bytes_per_layer(s: int, b: int, h: int, tp: int, bytes_per_value: int = 2) -> float:
    """Bytes each tensor-parallel rank sends per layer, forward and backward (Megatron-LM, Shoeybi
    et al. 2019): 4 all-reduces of an s*b*h activation (2 forward, 2 backward). Sequence
    parallelism replaces each by a reduce-scatter plus an all-gather: the same volume."""
    return 4 * ring_all_reduce_bytes_per_rank(s * b * h * bytes_per_value, tp)


def pp_p2p_bytes_per_microbatch(s: int, b: int, h: int, bytes_per_value: int = 2) -> float:
    """Bytes crossing one pipeline-stage boundary per micro-batch: the s*b*h activation forward
    and its gradient backward."""
    return 2 * s * b * h * bytes_per_value


def pipeline_bubble_fraction(stages: int, microbatches: int) -> float:
    """Idle time of GPipe/1F1B relative to the ideal compute time: (p-1)/m (Narayanan et al. 2021,
    arXiv:2104.04473). Of the whole step it is (p-1)/(m+p-1)."""
    return (stages - 1) / microbatches


def logits_bytes(s: int, b: int, vocab: int, bytes_per_value: int = 4) -> int:
    """Bytes the loss keeps for backward: the fp32 log-probabilities of every position over the
    whole vocabulary (s*b*vocab values); the 16-bit logits come on top while they are alive."""
    return s * b * vocab * bytes_per_value


def kv_cache_bytes(model: ModelShape, tokens: int, batch: int = 1, bytes_per_value: int = 2) -> int:
    """KV-cache bytes for ``batch`` sequences of ``tokens``: K and V, per layer, per KV head."""
    return 2 * model.layers * model.kv_heads * model.head_dim * tokens * batch * bytes_per_value


def training_flops_per_token(model: ModelShape, seq_len: int) -> float:
    """FLOPs to train on one token: 6N for the weight matmuls (forward 2N, backward 4N; Kaplan et
    al. 2020) plus 12*L*h*s for attention scores and their use (Chowdhery et al. 2022, app. B).
    N counts matmul parameters (the output head included, the input embedding not)."""
    return 6 * model.matmul_params + 12 * model.layers * model.hidden * seq_len


def step_time_s(model: ModelShape, gpu: GPU, gpus: int, tokens_per_step: int, seq_len: int,
                mfu: float) -> float:
    """Seconds per optimizer step if the GPUs reach ``mfu`` of their dense BF16 peak."""
    flops = training_flops_per_token(model, seq_len) * tokens_per_step
    return flops / (gpus * gpu.bf16_dense_flop_per_s * mfu)


def mfu(model: ModelShape, gpu: GPU, gpus: int, tokens_per_s: float, seq_len: int,
        sparse_peak: bool = False) -> float:
    """Model FLOPs utilisation: model FLOPs per second over the GPUs' peak. The peak is the dense
    BF16 figure; ``sparse_peak=True`` shows the mistake of dividing by the sparse one."""
    peak = gpu.bf16_sparse_flop_per_s if sparse_peak else gpu.bf16_dense_flop_per_s
    return training_flops_per_token(model, seq_len) * tokens_per_s / (gpus * peak)


@dataclasses.dataclass(frozen=True)
class TrainingRun:
    """A data-parallel run (ZeRO over all ``gpus``): ``micro_batch`` sequences of ``seq_len``
    tokens per GPU per step, bf16 mixed precision with Adam, no gradient accumulation."""

    model: ModelShape
    gpu: GPU
    gpus: int
    micro_batch: int
    seq_len: int

    @property
    def tokens_per_step(self) -> int:
        return self.gpus * self.micro_batch * self.seq_len

    def used_bytes(self, stage: int, recompute: str) -> float:
        """Model states + activations + the loss's log-probabilities, per GPU."""
        s, b = self.seq_len, self.micro_batch
        return (zero_model_state_bytes(self.model.params, stage, self.gpus)
                + activation_bytes(self.model, s, b, recompute)
                + logits_bytes(s, b, self.model.vocab))

    def free_bytes(self, stage: int, recompute: str) -> float:
        """GPU memory left per GPU; negative: the run does not fit."""
        return self.gpu.memory_bytes - self.used_bytes(stage, recompute)


# The budget on the Memory and parallelism page: Llama-3-8B on one node of 8 H200s.
LLAMA3_8B_ON_8_H200 = TrainingRun(LLAMA3_8B, H200, gpus=8, micro_batch=1, seq_len=8192)


if __name__ == "__main__":  # a self-check against figures printed in the sources
    for gpu in (A100_80GB, H100_SXM, H200):
        print(f"{gpu.name}: {gpu.memory_bytes / GB:.0f} GB, BF16 dense "
              f"{gpu.bf16_dense_flop_per_s / 1e12:.1f} TFLOP/s, sparse "
              f"{gpu.bf16_sparse_flop_per_s / 1e12:.0f} TFLOP/s")
    print(f"{LLAMA3_8B.name}: {LLAMA3_8B.params:,} parameters")
    # The ZeRO paper's example (Figure 1): 7.5B parameters on 64 GPUs, in GB.
    print("ZeRO, 7.5B on 64 GPUs:",
          [round(zero_model_state_bytes(7.5e9, stage, 64) / GB, 1) for stage in range(4)], "GB")
    # Korthikanti et al.: sequence parallelism + selective recompute leaves 34sbh/t per layer.
    assert activation_bytes_per_layer(2048, 1, 12288, 96, tp=8, sequence_parallel=True,
                                      recompute="selective") == 34 * 2048 * 12288 / 8
    assert LLAMA3_8B.params == 8_030_261_248  # the parameter count of the released model
# --8<-- [end:code]
