# pytest: distributed
# --8<-- [start:code]
"""The Hugging Face Trainer runs DeepSpeed ZeRO-2 from a config dict, on 2 CPU processes."""
import os
import socket
import tempfile
import warnings

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.utils import parameters_to_vector
from transformers import LlamaConfig, LlamaForCausalLM, PrinterCallback, Trainer, TrainingArguments

warnings.filterwarnings("ignore", r"`torch\.distributed\.(all_gather_into|reduce_scatter)_tensor`",
                        FutureWarning)  # torch 2.13 deprecates two collectives ZeRO still calls
DS_CONFIG = {"zero_optimization": {"stage": 2},
             # "auto": the Trainer fills these in from its TrainingArguments
             "train_micro_batch_size_per_gpu": "auto", "gradient_accumulation_steps": "auto",
             "train_batch_size": "auto", "gradient_clipping": "auto"}


def worker(rank, world, out_dir):
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(vocab_size=128, hidden_size=64, intermediate_size=128,
                                         num_hidden_layers=2, num_attention_heads=4,
                                         num_key_value_heads=2, initializer_range=0.2))
    rows = torch.randint(0, 128, (16, 16), generator=torch.Generator().manual_seed(1))
    data = [{"input_ids": row, "labels": row} for row in rows]
    args = TrainingArguments(out_dir, deepspeed=DS_CONFIG, use_cpu=True,  # see the warning below
                             per_device_train_batch_size=2, max_steps=8, learning_rate=1e-2,
                             logging_steps=4, report_to="none", save_strategy="no",
                             disable_tqdm=True)
    trainer = Trainer(model=model, args=args, train_dataset=data)  # no optimizer in DS_CONFIG:
    trainer.remove_callback(PrinterCallback)  # its log dicts hold timings; losses are printed below
    trainer.train()  # the Trainer passes its own torch AdamW to deepspeed.initialize
    engine = trainer.model_wrapped
    losses = [log["loss"] for log in trainer.state.log_history if "loss" in log]
    assert engine.zero_optimization_stage() == 2 and losses[-1] < losses[0]
    assert engine.train_batch_size() == 2 * 1 * world  # micro batch x accumulation x ranks
    if rank == 0:
        wrapper, inner = type(engine.optimizer).__name__, type(engine.optimizer.optimizer).__name__
        print(f"{type(engine).__name__}: ZeRO stage {engine.zero_optimization_stage()}, "
              f"{wrapper} around {inner}, train_batch_size {engine.train_batch_size()}, "
              f"clipping {engine.gradient_clipping()}, loss {losses[0]:.2f} -> {losses[-1]:.2f}",
              flush=True)
    params = parameters_to_vector(engine.module.parameters()).detach()
    gathered = [torch.empty_like(params) for _ in range(world)]
    dist.all_gather(gathered, params)
    same = all(torch.equal(gathered[0], g) for g in gathered)
    for r in range(world):  # one rank at a time, so the lines come out in rank order
        if r == rank:
            print(f"rank {rank}/{world}: parameters equal across ranks after training: {same}",
                  flush=True)
        dist.barrier()
    assert same
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free_port = s.getsockname()[1]
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", str(free_port))
    with tempfile.TemporaryDirectory() as out_dir:
        mp.start_processes(worker, args=(2, out_dir), nprocs=2, start_method="fork")
# --8<-- [end:code]
