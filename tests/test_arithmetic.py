"""The conclusions the Memory and parallelism page draws, checked against ``arithmetic.py``.

Every figure of ``docs/training/memory-and-parallelism/`` is printed by a snippet that imports
``snippets/training/memory-and-parallelism/arithmetic.py``, and its output blocks are compared
with what it prints. The prose draws conclusions from those figures ("ZeRO-1 fits with 56.1 GB
free", "the dense peak is half the sparse one"). Each :data:`CLAIMS` entry names a sentence by a
fragment of its text and recomputes what it says from the module: the figures it quotes (which
must appear, formatted, in the sentence's paragraph) and the facts it states (which must hold).
When a constant of the module changes, the figures in the output blocks change with it, and
these tests name each sentence whose conclusion no longer holds, as ``page:line``.

``test_a_planted_constant_names_the_sentence`` copies the module, plants a wrong constant in the
copy (the H200's sparse figure typed as its dense peak, and 80 GB of memory), and checks that
exactly the sentences that depend on it are reported.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import re
import sys
from pathlib import Path
from typing import Callable

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULE = ROOT / "snippets/training/memory-and-parallelism/arithmetic.py"
PAGE = "docs/training/memory-and-parallelism/index.md"


@dataclasses.dataclass
class Claim:
    """A sentence of ``page`` that starts a paragraph line containing ``anchor``, and ``check``,
    which returns ``(holds, figures)`` from the module: whether each stated fact still holds, and
    the figures (formatted text) the paragraph must quote."""

    anchor: str
    check: Callable[[object], tuple[dict[str, bool], list[str]]]
    page: str = PAGE


def load(path: Path, name: str = "arithmetic_under_test"):
    """Import the module at ``path`` under ``name`` (kept apart from a snippet's ``arithmetic``)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    return module


def _gb(x: float, digits: int) -> str:
    return f"{x / 1e9:.{digits}f} GB"


def _peaks(ar):
    return ({"H200 dense BF16 is half its sparse figure":
             2 * ar.H200.bf16_dense_flop_per_s == ar.H200.bf16_sparse_flop_per_s,
             "so is the H100's": 2 * ar.H100_SXM.bf16_dense_flop_per_s == ar.H100_SXM.bf16_sparse_flop_per_s,
             "the H200 has the H100's compute": ar.H200.bf16_dense_flop_per_s == ar.H100_SXM.bf16_dense_flop_per_s},
            [])


def _memory(ar):
    return ({"the H200 has more memory and bandwidth": ar.H200.memory_bytes > ar.H100_SXM.memory_bytes
             and ar.H200.hbm_bytes_per_s > ar.H100_SXM.hbm_bytes_per_s},
            [f"{_gb(ar.H200.memory_bytes, 0)} against {_gb(ar.H100_SXM.memory_bytes, 0)}"])


def _scenario(ar):
    run = ar.LLAMA3_8B_ON_8_H200
    return ({"the budget's run is Llama-3-8B on H200s": run.model is ar.LLAMA3_8B and run.gpu is ar.H200},
            [f"over the {run.gpus} H200s", f"micro-batch {run.micro_batch} of {run.seq_len:,} tokens"])


def _stage0_states(ar):
    run = ar.LLAMA3_8B_ON_8_H200
    states = ar.zero_model_state_bytes(run.model.params, 0, run.gpus)
    return ({"they fit alone": states < run.gpu.memory_bytes,
             "three quarters is optimizer state": 12 * run.model.params / states == 0.75},
            [f"{_gb(states, 2)} of the {_gb(run.gpu.memory_bytes, 0)}"])


def _attention_term(ar):
    run = ar.LLAMA3_8B_ON_8_H200
    ratio = 5 * run.model.heads * run.seq_len / run.model.hidden / 34
    return {"5as/h is almost ten times 34": 9 <= ratio < 10}, [f"At {run.seq_len:,} tokens"]


def _llama_shape(ar):
    m = ar.LLAMA3_8B
    return {"SwiGLU width 3.5h": m.ffn / m.hidden == 3.5}, [f"{m.kv_heads} KV heads"]


def _vocab(ar):
    return {}, [f"{ar.LLAMA3_8B.vocab:,} vocabulary entries"]


def _fits(ar):
    run = ar.LLAMA3_8B_ON_8_H200
    free = {(stage, mode): run.free_bytes(stage, mode) for stage in range(4)
            for mode in ("none", "selective", "full")}
    return free


def _no_stage_stores_attention(ar):
    free = _fits(ar)
    return {"no stage fits without recomputation": all(free[s, "none"] < 0 for s in range(4))}, []


def _stage0(ar):
    free = _fits(ar)
    return ({"stage 0 fits only with full recomputation":
             free[0, "none"] < 0 and free[0, "selective"] < 0 and free[0, "full"] > 0,
             "and with too little room (under 10 GB)": free[0, "full"] < 10e9},
            [f"with {_gb(free[0, 'full'], 1)} free"])


def _selective(ar):
    free = _fits(ar)
    return ({"ZeRO-1 and ZeRO-3 fit with selective recomputation":
             free[1, "selective"] > 0 and free[3, "selective"] > 0},
            [f"ZeRO-1 fits with {_gb(free[1, 'selective'], 1)} free",
             f"ZeRO-3 with {_gb(free[3, 'selective'], 1)} free"])


def _attention_flops(ar):
    m, s = ar.LLAMA3_8B, ar.LLAMA3_8B_ON_8_H200.seq_len
    share = 12 * m.layers * m.hidden * s / (6 * m.matmul_params)
    return {}, [f"adds {share:.0%} to"]


def _step_time(ar):
    run = ar.LLAMA3_8B_ON_8_H200
    at = {mfu: ar.step_time_s(run.model, run.gpu, run.gpus, run.tokens_per_step, run.seq_len, mfu)
          for mfu in (0.3, 0.4)}
    return ({"30% MFU is a third longer than 40%": abs(at[0.3] / at[0.4] - 4 / 3) < 1e-12},
            [f"one step of {run.tokens_per_step:,} tokens takes {at[0.4]:.2f} s"])


def _dp_comm(ar):
    run = ar.LLAMA3_8B_ON_8_H200
    step = ar.step_time_s(run.model, run.gpu, run.gpus, run.tokens_per_step, run.seq_len, 0.4)
    zero1, zero3 = (ar.dp_comm_bytes_per_step(run.model.params, run.gpus, stage) for stage in (1, 3))
    share = zero1 / run.gpu.nvlink_one_way_bytes_per_s / step
    return ({"communication is small next to compute (under 10%)": share < 0.10,
             "ZeRO-3 sends 1.5 times as much": zero3 / zero1 == 1.5},
            [f"about {share:.0%} of the step"])


def _bubble(ar):
    return {}, [f"is {ar.pipeline_bubble_fraction(4, 8):.1%} with 4 stages and 8 micro-batches"]


def _kv_cache(ar):
    m, s = ar.LLAMA3_8B, ar.LLAMA3_8B_ON_8_H200.seq_len
    return ({"32 heads over 8 KV heads is 4 times": m.heads / m.kv_heads == 4},
            [f"holds {ar.kv_cache_bytes(m, s) / 1e9:.2f} GB per sequence",
             f"{m.kv_heads} KV heads", f"4 times smaller than {m.heads}"])


def _headline(ar):
    return ({"the H100's and H200's sparse BF16 figures are the same":
             ar.H100_SXM.bf16_sparse_flop_per_s == ar.H200.bf16_sparse_flop_per_s},
            [f"{ar.H200.bf16_sparse_flop_per_s / 1e12:,.0f} TFLOPS"])


def _a100_peak(ar):
    return {}, [f"A100's {ar.A100_80GB.bf16_dense_flop_per_s / 1e12:.0f} TFLOP/s"]


CLAIMS = [
    Claim("The H200 has the H100's compute", _peaks),
    Claim("What it adds is memory", _memory),
    Claim("The run: Llama-3-8B shapes", _scenario),
    Claim("Without ZeRO the model states alone take", _stage0_states),
    Claim("At 8,192 tokens the attention matrix dominates", _attention_term),
    Claim("a SwiGLU MLP of width", _llama_shape),
    Claim("needs its own buffer", _vocab),
    Claim("Storing the attention matrix fits at no ZeRO stage", _no_stage_stores_attention),
    Claim("Plain data parallelism (stage 0) fits only", _stage0),
    Claim("selective recomputation ZeRO-1 fits", _selective),
    Claim("**Attention is not negligible at this length.**", _attention_flops),
    Claim("**Step time.**", _step_time),
    Claim("**Communication** within one NVLink node", _dp_comm),
    Claim("**Pipeline parallelism** would idle", _bubble),
    Claim("**KV cache.** Generating", _kv_cache),
    Claim("NVIDIA's tables list the BF16 Tensor Core peak", _headline),
    Claim("nanoGPT's `estimate_mfu` divided by", _a100_peak),
]


def paragraph_at(page: Path, anchor: str) -> tuple[int, str]:
    """``(line, text)``: the 1-based line holding ``anchor`` and, whitespace-normalised, the text
    from that line to the end of its paragraph (or list item).

    Raises:
        LookupError: no line (or more than one) holds ``anchor``.
    """
    lines = page.read_text("utf8").split("\n")
    hits = [i for i, line in enumerate(lines) if anchor in line]
    if len(hits) != 1:
        raise LookupError(f"{page.name}: {len(hits)} lines hold {anchor!r}; expected exactly 1")
    end = hits[0] + 1
    while end < len(lines) and lines[end].strip() and not lines[end].lstrip().startswith("- "):
        end += 1
    return hits[0] + 1, re.sub(r"\s+", " ", " ".join(lines[hits[0]:end]))


def findings(ar, root: Path = ROOT) -> list[str]:
    """One ``page:line: ...`` message per claim that the module ``ar`` contradicts."""
    found = []
    for claim in CLAIMS:
        try:
            line, text = paragraph_at(root / claim.page, claim.anchor)
        except LookupError as exc:
            found.append(f"{claim.page}:1: {exc}")
            continue
        holds, figures = claim.check(ar)
        broken = [fact for fact, ok in holds.items() if not ok]
        missing = [figure for figure in figures if figure not in text]
        if broken or missing:
            found.append(f"{claim.page}:{line}: the sentence starting {claim.anchor!r} no longer "
                         f"holds: " + "; ".join([f"not true: {fact}" for fact in broken]
                                                + [f"the figure is now {figure!r}" for figure in missing]))
    return found


def test_every_claim_holds():
    problems = findings(load(MODULE))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("old, new, broken", [
    # The sparse figure typed into the dense field: the "half" sentence breaks, and every time
    # figure computed from the dense peak moves (step time, communication share).
    ("bf16_dense_flop_per_s=989.5e12, bf16_sparse_flop_per_s=1979e12,\n"
     "           fp8_dense_flop_per_s=1979e12, fp8_sparse_flop_per_s=3958e12,\n"
     "           nvlink_bytes_per_s=900e9)",
     "bf16_dense_flop_per_s=1979e12, bf16_sparse_flop_per_s=1979e12,\n"
     "           fp8_dense_flop_per_s=1979e12, fp8_sparse_flop_per_s=3958e12,\n"
     "           nvlink_bytes_per_s=900e9)",
     ["The H200 has the H100's compute"]),
    # An H200 with the H100's 80 GB: the fit conclusions and the memory sentence break.
    ('H200 = GPU("H200-SXM", memory_bytes=141 * GB,', 'H200 = GPU("H200-SXM", memory_bytes=80 * GB,',
     ["What it adds is memory", "Without ZeRO the model states alone take",
      "Plain data parallelism (stage 0) fits only", "selective recomputation ZeRO-1 fits"]),
], ids=["sparse-figure-as-dense-peak", "h200-with-80-gb"])
def test_a_planted_constant_names_the_sentence(tmp_path, old, new, broken):
    source = MODULE.read_text("utf8")
    assert source.count(old) == 1, f"{MODULE.name} no longer holds the constant this test plants"
    planted = tmp_path / "arithmetic.py"
    planted.write_text(source.replace(old, new), "utf8")
    problems = findings(load(planted, "arithmetic_planted"))
    page = (ROOT / PAGE).read_text("utf8").split("\n")
    for anchor in broken:
        line = next(i for i, text in enumerate(page, 1) if anchor in text)
        assert any(p.startswith(f"{PAGE}:{line}: the sentence starting {anchor!r}") for p in problems), (
            f"planting {new!r} should break {PAGE}:{line}; reported:\n" + "\n".join(problems))
    with pytest.raises(AssertionError, match=re.escape(f"{PAGE}:")):
        assert not problems, "\n".join(problems)
