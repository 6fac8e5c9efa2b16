# pytest: gpu, needs-transformers, needs-accelerate
# --8<-- [start:code]
"""Trainer step time on a GPU: fp32, TF32 matmuls and bf16 mixed precision, side by side."""
import argparse
import statistics
import tempfile
import time

import torch
from transformers import LlamaConfig, LlamaForCausalLM, Trainer, TrainerCallback, TrainingArguments

parser = argparse.ArgumentParser()
parser.add_argument("--plot", metavar="PATH", help="also save a PNG of step time per precision")
parser.add_argument("--steps", type=int, default=25)
args = parser.parse_args()
BATCH, SEQ, WARMUP = 8, 1024, 5  # 8 x 1024 tokens a step; the first WARMUP steps are not timed
PEAK_BF16_TFLOPS = {"H200": 989, "H100": 989, "A100": 312}  # dense, vendor datasheets


class StepTimer(TrainerCallback):
    """Wall time of each optimizer step, with the GPU's queue drained at both ends."""

    def __init__(self):
        self.seconds = []

    def on_step_begin(self, args, state, control, **kwargs):
        torch.cuda.synchronize()
        self.start = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        torch.cuda.synchronize()
        self.seconds.append(time.perf_counter() - self.start)


class RandomTokens(torch.utils.data.Dataset):  # the step time does not depend on the text
    def __len__(self):
        return BATCH * (args.steps + 1)

    def __getitem__(self, i):
        ids = torch.randint(0, 32000, (SEQ,), generator=torch.Generator().manual_seed(i))
        return {"input_ids": ids, "labels": ids}


config = LlamaConfig(vocab_size=32000, hidden_size=1024, intermediate_size=2816,
                     num_hidden_layers=8, num_attention_heads=16,
                     num_key_value_heads=4)  # about 150M parameters
# --8<-- [start:key]
# tf32 is set explicitly each time: TrainingArguments(tf32=...) switches it for the whole process.
precisions = {"fp32": {"tf32": False}, "tf32": {"tf32": True},
              "bf16": {"bf16": True, "tf32": False}}
step_s, params = {}, None
for name, flags in precisions.items():
    torch.manual_seed(0)
    # float32 weights: bf16=True autocasts, the master copy stays fp32
    model = LlamaForCausalLM(config)
    params = sum(p.numel() for p in model.parameters())
    timer = StepTimer()
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(model=model, train_dataset=RandomTokens(), callbacks=[timer],
                          args=TrainingArguments(
                              output_dir=tmp, per_device_train_batch_size=BATCH,
                              max_steps=args.steps, learning_rate=1e-4, save_strategy="no",
                              logging_strategy="no", disable_tqdm=True, report_to="none", **flags))
        trainer.train()
    step_s[name] = statistics.median(timer.seconds[WARMUP:])
# --8<-- [end:key]
    del trainer, model
    torch.cuda.empty_cache()

name = torch.cuda.get_device_name()
peak = next((tf for gpu, tf in PEAK_BF16_TFLOPS.items() if gpu in name), None)
# forward + backward, matmuls only (Kaplan et al. 2020), attention left out
flops = 6 * params * BATCH * SEQ
print(f"{name}, torch {torch.__version__}; Llama {params / 1e6:.0f}M parameters, "
      f"{BATCH} x {SEQ} tokens a step, AdamW; "
      f"median of {args.steps - WARMUP} steps after {WARMUP} warm-up steps")
print(f"{'precision':<10}{'ms/step':>9}{'fp32/this':>11}{'TFLOP/s':>9}{'of bf16 peak':>14}")
for precision, seconds in step_s.items():
    tflops = flops / seconds / 1e12
    share = f"{tflops / peak:>14.0%}" if peak else f"{'?':>14}"
    print(f"{precision:<10}{seconds * 1e3:>9.1f}{step_s['fp32'] / seconds:>10.2f}x"
          f"{tflops:>9.0f}{share}")
assert step_s["bf16"] < step_s["fp32"]  # tensor cores: bf16 must beat plain fp32

if args.plot:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    ax.bar(list(step_s), [s * 1e3 for s in step_s.values()], color=["#888", "#5b8", "#46c"])
    ax.set(ylabel="ms per optimizer step", title=f"Trainer step, {params / 1e6:.0f}M Llama, {name}")
    fig.tight_layout()
    fig.savefig(args.plot, dpi=120)
# --8<-- [end:code]
