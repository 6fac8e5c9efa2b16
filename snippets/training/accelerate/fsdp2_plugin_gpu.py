# pytest: gpu, distributed, needs-accelerate
# --8<-- [start:code]
"""Accelerate with its FSDP2 plugin and a ParallelismConfig on all visible GPUs."""
import os
import socket
import subprocess
import sys

if sys.argv[1:] == ["worker"]:  # what each GPU process runs
    import torch
    from accelerate import Accelerator, ParallelismConfig
    from accelerate.utils import DistributedType, FullyShardedDataParallelPlugin
    from torch.distributed.tensor import DTensor
    from transformers import LlamaConfig, LlamaForCausalLM

    world = int(os.environ["WORLD_SIZE"])
    plugin = FullyShardedDataParallelPlugin(
        fsdp_version=2, reshard_after_forward=True,
        auto_wrap_policy="transformer_based_wrap",  # fully_shard each decoder layer, then the root
        transformer_cls_names_to_wrap=["LlamaDecoderLayer"])
    accelerator = Accelerator(fsdp_plugin=plugin, mixed_precision="bf16",
                              parallelism_config=ParallelismConfig(dp_shard_size=world))
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2)
    model = LlamaForCausalLM(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model, optimizer = accelerator.prepare(model, optimizer)  # FSDP2: model and optimizer together
    ids = torch.randint(0, 128, (4, 32), device=accelerator.device)
    loss = model(input_ids=ids, labels=ids).loss
    accelerator.backward(loss)
    optimizer.step()
    weight = model.model.layers[0].mlp.up_proj.weight
    rank = accelerator.process_index
    print(f"rank {rank}/{world}: {accelerator.distributed_type}, fsdp2 {accelerator.is_fsdp2}, "
          f"mesh {accelerator.torch_device_mesh.mesh_dim_names}, up_proj {type(weight).__name__} "
          f"{tuple(weight.shape)} holding {tuple(weight.to_local().shape)}\n", end="", flush=True)
    assert accelerator.distributed_type == DistributedType.FSDP and accelerator.is_fsdp2
    assert isinstance(weight, DTensor) and weight.to_local().shape[0] < 128  # a row slice
    accelerator.end_training()
    sys.exit(0)

import torch  # noqa: E402

gpus = torch.cuda.device_count()
assert gpus >= 2, f"this example needs at least 2 GPUs, found {gpus}"
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = os.environ.get("MASTER_PORT", str(s.getsockname()[1]))
subprocess.run([sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu",
                "--num_processes", str(gpus), "--num_machines", "1",
                "--dynamo_backend", "no", "--main_process_port", port,
                os.path.abspath(__file__), "worker"], check=True)
# --8<-- [end:code]
