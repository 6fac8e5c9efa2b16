# pytest: distributed
# --8<-- [start:code]
"""ZeRO stages 0-3 on 2 processes take the same steps as 1 process on the whole batch."""
import os
import socket
import warnings

import deepspeed
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.utils import parameters_to_vector as flat
from transformers import LlamaConfig, LlamaForCausalLM

CFG = LlamaConfig(vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, initializer_range=0.2)
warnings.filterwarnings("ignore", r"`torch\.distributed\.(all_gather_into|reduce_scatter)_tensor`",
                        FutureWarning)  # torch 2.13 deprecates two collectives ZeRO still calls


def new_model():
    torch.manual_seed(0)  # every run starts from the same weights
    return LlamaForCausalLM(CFG)


def worker(rank, world):
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
    deepspeed.init_distributed(dist_backend="gloo")
    batch = torch.randint(0, 128, (4, 16), generator=torch.Generator().manual_seed(1))
    ref = new_model()  # the reference: plain PyTorch, one process, all 4 sequences
    opt = torch.optim.AdamW(ref.parameters(), lr=1e-2)
    for _ in range(5):
        ref(input_ids=batch, labels=batch).loss.backward()
        opt.step()
        opt.zero_grad()
    for stage in (0, 1, 2, 3):
        model = new_model()
        config = {"train_micro_batch_size_per_gpu": 2,  # x 2 ranks = 4 sequences per step
                  # threshold 0: shard even our tiny tensors (small ones stay whole by default)
                  "zero_optimization": {"stage": stage, "stage3_param_persistence_threshold": 0},
                  "gradient_clipping": 0.0}  # 0.19 clips at 1.0 unless told (see the pitfall)
        engine, *_ = deepspeed.initialize(model=model, config=config,
                                          optimizer=torch.optim.AdamW(model.parameters(), lr=1e-2))
        mine, losses = batch[2 * rank:2 * rank + 2], []  # this rank's half of the batch
        for _ in range(5):
            loss = engine(input_ids=mine, labels=mine).loss
            engine.backward(loss)  # not loss.backward(): the engine averages (and shards) grads
            engine.step()  # optimizer step, then zero_grad
            losses.append(loss.item())
        # Below stage 3 each rank holds full parameters; at stage 3 they must be gathered first.
        with deepspeed.zero.GatheredParameters(list(engine.module.parameters())):
            params = flat(engine.module.parameters()).detach()
        everyone = [torch.empty_like(params) for _ in range(world)]
        dist.all_gather(everyone, params)
        same = all(torch.equal(everyone[0], p) for p in everyone)
        diff = (params - flat(ref.parameters())).abs().max().item()
        assert same and losses[-1] < losses[0] and diff < 5e-5, (stage, losses, diff)
        if rank == 0:  # diff is float rounding (~1e-6), whose digits vary by CPU: print the bound
            print(f"stage {stage}: rank-0 loss {losses[0]:.3f} -> {losses[-1]:.3f}, "
                  f"max |param - single process| < 5e-5: {diff < 5e-5}", flush=True)
    for r in range(world):  # one rank at a time, so the lines come out in rank order
        if r == rank:
            print(f"rank {rank}/{world}: parameters equal across ranks at every stage", flush=True)
        dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free_port = s.getsockname()[1]
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", str(free_port))
    # fork: the workers inherit the imports above instead of importing torch and DeepSpeed again
    mp.start_processes(worker, args=(2,), nprocs=2, start_method="fork")
# --8<-- [end:code]
