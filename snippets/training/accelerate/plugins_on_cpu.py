# pytest: distributed
# --8<-- [start:code]
"""Accelerate's FSDP2 plugin and ParallelismConfig: the mesh they describe, and what CPU does."""
import os
import socket

import torch
from accelerate import Accelerator, ParallelismConfig, notebook_launcher
from accelerate.utils import FullyShardedDataParallelPlugin


def train():
    # 8 GPUs as 2 replicas x 4 shards is HSDP; dp_shard_size alone is FSDP.
    hsdp = ParallelismConfig(dp_replicate_size=2, dp_shard_size=4)
    plugin = FullyShardedDataParallelPlugin(fsdp_version=2, reshard_after_forward=True)
    accelerator = Accelerator(cpu=True, fsdp_plugin=plugin)
    model = accelerator.prepare(torch.nn.Linear(8, 8))
    state = accelerator.state
    for turn in range(state.num_processes):
        if turn == state.process_index:
            if turn == 0:
                print(f"HSDP: mesh dims {hsdp.dp_dim_names}, {hsdp.total_size} ranks, "
                      f"replicate {hsdp.dp_replicate_enabled}, shard {hsdp.dp_shard_enabled}")
                # FSDP is switched on only for accelerator devices (accelerate/state.py):
                print(f"on CPU the plugin is ignored: {state.distributed_type}, model wrapped in "
                      f"{type(model).__name__}")
            shape = tuple(model.module.weight.shape)
            print(f"rank {turn}/{state.num_processes}: holds the full weight {shape}", flush=True)
        accelerator.wait_for_everyone()
    assert type(model).__name__ == "DistributedDataParallel"
    accelerator.end_training()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    notebook_launcher(train, num_processes=2, use_port=port)
# --8<-- [end:code]
