# pytest: gpu, distributed, needs-accelerate
# --8<-- [start:code]
"""DDP on several GPUs: NCCL, bf16 autocast, launched with `accelerate launch --multi_gpu`."""
import os
import socket
import subprocess
import sys

if sys.argv[1:] == ["worker"]:  # what each GPU process runs
    import torch
    from accelerate import Accelerator
    from accelerate.utils import DistributedType
    from torch.utils.data import DataLoader, TensorDataset
    from transformers import LlamaConfig, LlamaForCausalLM

    accelerator = Accelerator()  # no cpu=True: one GPU per process; bf16 comes from the launch flag
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2)
    model = LlamaForCausalLM(config)
    data = DataLoader(TensorDataset(torch.randint(0, 128, (64, 32))), batch_size=8)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model, optimizer, data = accelerator.prepare(model, optimizer, data)  # model moved to its GPU
    for (ids,) in data:  # batches arrive on this process's GPU
        loss = model(input_ids=ids, labels=ids).loss
        accelerator.backward(loss)
        optimizer.step()
        optimizer.zero_grad()
    weights = torch.cat([p.detach().flatten() for p in model.parameters()])
    every_rank = accelerator.gather(weights[None])
    same = all(torch.equal(row, every_rank[0]) for row in every_rank)
    rank, world = accelerator.process_index, accelerator.num_processes
    print(f"rank {rank}/{world}: {accelerator.distributed_type} "
          f"({accelerator.state.backend}) on {ids.device}, {accelerator.mixed_precision} autocast, "
          f"{weights.dtype} weights, params equal across ranks: {same}\n", end="", flush=True)
    assert accelerator.distributed_type == DistributedType.MULTI_GPU
    assert accelerator.state.backend == "nccl"
    assert ids.device.type == "cuda" and weights.dtype == torch.float32 and same
    accelerator.end_training()
    sys.exit(0)

import torch  # noqa: E402

gpus = torch.cuda.device_count()
assert gpus >= 2, f"this example needs at least 2 GPUs, found {gpus}"
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = os.environ.get("MASTER_PORT", str(s.getsockname()[1]))
subprocess.run([sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu",
                "--num_processes", str(gpus), "--num_machines", "1", "--mixed_precision", "bf16",
                "--dynamo_backend", "no", "--main_process_port", port,
                os.path.abspath(__file__), "worker"], check=True)
# --8<-- [end:code]
