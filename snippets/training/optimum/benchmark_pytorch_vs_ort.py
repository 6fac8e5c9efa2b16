"""Latency of one forward: PyTorch vs ONNX Runtime fp32 vs ONNX Runtime dynamic int8,
one thread each.

`--plot PATH` also saves the speed-ups as a bar chart (what `nox -s measure` shows on the page).
"""
import argparse
import os
import statistics
import tempfile
import time

import onnxruntime
import torch
from optimum.onnxruntime import ORTModelForCausalLM, ORTQuantizer
from optimum.onnxruntime.configuration import AutoQuantizationConfig
from transformers import LlamaConfig, LlamaForCausalLM

parser = argparse.ArgumentParser()
parser.add_argument("--plot", help="also save a bar chart of the speed-ups to this PNG file")
args = parser.parse_args()

torch.manual_seed(0)
torch.set_num_threads(1)  # PyTorch: one intra-op thread
options = onnxruntime.SessionOptions()
options.intra_op_num_threads = 1  # ORT (PyPI build) ignores OMP_NUM_THREADS: own pool
options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # no busy-waiting workers

config = LlamaConfig(vocab_size=2048, hidden_size=256, intermediate_size=512, num_hidden_layers=4,
                     num_attention_heads=4, num_key_value_heads=2)
model = LlamaForCausalLM(config).eval()
with tempfile.TemporaryDirectory() as tmp:
    model.save_pretrained(tmp)
    fp32 = ORTModelForCausalLM.from_pretrained(tmp, export=True, session_options=options)
    ORTQuantizer.from_pretrained(fp32).quantize(
        quantization_config=AutoQuantizationConfig.avx2(is_static=False), save_dir=tmp + "/int8")
    int8 = ORTModelForCausalLM.from_pretrained(tmp + "/int8", file_name="model_quantized.onnx",
                                               session_options=options)
assert fp32.session.get_session_options().intra_op_num_threads == 1

input_ids = torch.randint(0, 2048, (1, 64))  # one 64-token prompt: the "prefill" forward
mask = torch.ones_like(input_ids)


forwards = {
    "PyTorch fp32": lambda: model(input_ids=input_ids, attention_mask=mask),
    "ORT fp32": lambda: fp32(input_ids=input_ids, attention_mask=mask),
    "ORT int8 (dynamic)": lambda: int8(input_ids=input_ids, attention_mask=mask),
}
times = {name: [] for name in forwards}
with torch.inference_mode():
    for name, forward in forwards.items():
        forward(), forward()  # warm-up: first calls allocate buffers
    for _ in range(20):  # round-robin, so a busy moment of the machine hits every backend alike
        for name, forward in forwards.items():
            start = time.perf_counter()
            forward()
            times[name].append(time.perf_counter() - start)
results = {name: 1e3 * statistics.median(t) for name, t in times.items()}

print(f"{os.cpu_count()} CPUs, torch {torch.__version__}, onnxruntime {onnxruntime.__version__}")
print(f"{'backend':<20}{'median ms':>10}{'speed-up':>10}")
for name, ms in results.items():
    print(f"{name:<20}{ms:>10.1f}{results['PyTorch fp32'] / ms:>9.2f}x")

if args.plot:
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3))
    names = list(results)
    ax.barh(names, [results["PyTorch fp32"] / results[n] for n in names],
            color=["grey", "C0", "C1"])
    ax.axvline(1, color="black", linewidth=0.8)
    ax.invert_yaxis()
    ax.set_xlabel("speed-up over PyTorch fp32 (higher is faster)")
    ax.set_title(f"One 64-token forward, tiny Llama, 1 thread ({os.cpu_count()} CPUs)")
    fig.tight_layout()
    fig.savefig(args.plot, dpi=120)
