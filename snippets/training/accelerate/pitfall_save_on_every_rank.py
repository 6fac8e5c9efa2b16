# pytest: distributed
# --8<-- [start:code]
"""Saving from every rank, from the wrapped model, vs. is_main_process + save_model."""
import os
import socket
import tempfile
from pathlib import Path

import torch
import torch.distributed as dist
from accelerate import Accelerator, notebook_launcher
from safetensors.torch import load_file, save_file


def train(folder):
    folder = Path(folder)
    accelerator = Accelerator(cpu=True)
    model = accelerator.prepare(torch.nn.Linear(4, 2))

    # WRONG: every rank appends to the log and saves the DDP wrapper's state_dict.
    with open(folder / "wrong.log", "a") as log:
        log.write("epoch 1 done\n")
    save_file(model.state_dict(), folder / f"wrong_rank{accelerator.process_index}.safetensors")

    # RIGHT: log from the main process only. save_model is called on every rank (FSDP and
    # DeepSpeed need all ranks to assemble the weights); it unwraps the model and writes once.
    if accelerator.is_main_process:
        with open(folder / "right.log", "a") as log:
            log.write("epoch 1 done\n")
    accelerator.save_model(model, folder / "right")
    accelerator.wait_for_everyone()  # nobody reads the files before everyone has written them

    wrong_lines = (folder / "wrong.log").read_text().count("\n")
    right_lines = (folder / "right.log").read_text().count("\n")
    wrong_state = load_file(folder / "wrong_rank0.safetensors")
    plain = torch.nn.Linear(4, 2)
    missing, unexpected = plain.load_state_dict(wrong_state, strict=False)  # nothing matches
    wrong_loads = not missing and not unexpected
    plain.load_state_dict(load_file(folder / "right" / "model.safetensors"))

    rank, world = dist.get_rank(), dist.get_world_size()
    for turn in range(world):  # take turns, so that the lines come out in rank order
        if turn == rank:
            print(f"rank {rank}/{world}: wrong: {wrong_lines} log lines, keys {list(wrong_state)}, "
                  f"loads: {wrong_loads} | right: {right_lines} log line, "
                  f"{os.listdir(folder / 'right')}, loads: True", flush=True)
        accelerator.wait_for_everyone()
    assert wrong_lines == 2 and not wrong_loads and right_lines == 1
    assert torch.equal(plain.weight, accelerator.unwrap_model(model).weight)
    accelerator.end_training()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    with tempfile.TemporaryDirectory() as folder:  # the forked processes share this folder
        notebook_launcher(train, args=(folder,), num_processes=2, use_port=port)
# --8<-- [end:code]
