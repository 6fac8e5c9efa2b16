"""ORT's default thread pool busy-waits ("spins") on every core; on a small CPU that steals time."""
import gc
import os
import tempfile
import time

import onnxruntime
import torch
from optimum.onnxruntime import ORTModelForCausalLM
from transformers import LlamaConfig, LlamaForCausalLM

torch.manual_seed(0)
torch.set_num_threads(1)
config = LlamaConfig(vocab_size=1024, hidden_size=128, intermediate_size=256, num_hidden_layers=2,
                     num_attention_heads=4, num_key_value_heads=2)
model = LlamaForCausalLM(config).eval()
input_ids = torch.randint(0, 1024, (1, 64))
mask = torch.ones_like(input_ids)


def run_side_by_side(ort_model, rounds=30):
    """PyTorch and ORT forwards in turn, as in a benchmark:
    (wall s, CPU s of main, of other threads)."""
    wall, cpu_all, cpu_main = time.perf_counter(), time.process_time(), time.thread_time()
    with torch.inference_mode():
        for _ in range(rounds):
            ort_model(input_ids=input_ids, attention_mask=mask)
            model(input_ids=input_ids, attention_mask=mask)
    wall, cpu_main = time.perf_counter() - wall, time.thread_time() - cpu_main
    # process_time counts every thread of the process, thread_time only this (main) thread.
    return wall, cpu_main, time.process_time() - cpu_all - cpu_main


with tempfile.TemporaryDirectory() as tmp:
    model.save_pretrained(tmp)
    ORTModelForCausalLM.from_pretrained(tmp, export=True).save_pretrained(tmp + "/onnx")

    # WRONG: default options. OMP_NUM_THREADS=1 does not reach ORT: it starts one thread per
    # physical core, and the idle ones spin waiting for work instead of sleeping.
    default = ORTModelForCausalLM.from_pretrained(tmp + "/onnx")
    wall, main, others = run_side_by_side(default)
    print(f"default options  : wall {wall:.2f} s, main thread {main:.2f} s CPU, "
          f"others {others:.2f} s CPU")
    if os.cpu_count() > 1:  # the pool thread burned about as much CPU as all the real work
        assert others > 0.3 * main, (main, others)
    del default
    gc.collect()  # frees the session and joins its pool, so no leftover spinning is counted below

    # RIGHT: one intra-op thread and no spinning; only the main thread works.
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    quiet = ORTModelForCausalLM.from_pretrained(tmp + "/onnx", session_options=options)
    wall, main, others = run_side_by_side(quiet)
    print(f"1 thread, no spin: wall {wall:.2f} s, main thread {main:.2f} s CPU, "
          f"others {others:.2f} s CPU")
    assert others < 0.1 * main, (main, others)
