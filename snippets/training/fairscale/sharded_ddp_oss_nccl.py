# pytest: gpu, distributed, needs-fairscale
# --8<-- [start:code]
"""ShardedDDP + OSS on NCCL, one process per GPU, bf16 autocast with fp32 master weights."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from fairscale.nn.data_parallel import ShardedDataParallel
from fairscale.optim import OSS

WORLD, STEPS = torch.cuda.device_count(), 5


def make_model(device):  # 8 x Linear(1024, 1024): 8.4M fp32 parameters
    torch.manual_seed(0)
    return torch.nn.Sequential(*[torch.nn.Linear(1024, 1024) for _ in range(8)]).to(device)


def loss_on(model, x, y):
    with torch.autocast("cuda", dtype=torch.bfloat16):  # bf16 matmuls, fp32 weights and grads
        return F.mse_loss(model(x).float(), y)


def worker(rank):
    device = torch.device("cuda", rank)
    torch.cuda.set_device(device)
    dist.init_process_group("nccl", rank=rank, world_size=WORLD, device_id=device)
    model = make_model(device)
    opt = OSS(model.parameters(), optim=torch.optim.AdamW, lr=1e-3)
    sdp = ShardedDataParallel(model, opt, reduce_buffer_size=0)  # single node: no buckets
    ref = make_model(device)  # one GPU, the same micro-batches accumulated
    ref_opt = torch.optim.AdamW(ref.parameters(), lr=1e-3)
    for step in range(STEPS):
        g = torch.Generator(device=device).manual_seed(step)
        x = torch.randn(16 * WORLD, 1024, device=device, generator=g)
        y = torch.randn(16 * WORLD, 1024, device=device, generator=g)
        loss_on(sdp, x[rank::WORLD], y[rank::WORLD]).backward()
        opt.step()
        sdp.zero_grad()
        for r in range(WORLD):  # loss / WORLD per micro-batch = the average SDP reduces to
            (loss_on(ref, x[r::WORLD], y[r::WORLD]) / WORLD).backward()
        ref_opt.step()
        ref_opt.zero_grad()

    mib = sum(t.numel() * t.element_size() for s in opt.optim.state.values()
              for t in s.values() if torch.is_tensor(t)) / 2**20
    diff = max((p - q).abs().max().item() for p, q in zip(model.parameters(), ref.parameters()))
    for r in range(WORLD):
        if r == rank:
            print(f"rank {rank}/{WORLD}: AdamW state {mib:.1f} MiB (unsharded: "
                  f"{2 * 4 * sum(p.numel() for p in ref.parameters()) / 2**20:.1f} MiB), "
                  f"max |params - reference| {diff:.1e}", flush=True)
        dist.barrier()
    opt.consolidate_state_dict(recipient_rank=0)  # over NCCL the shards travel as CUDA tensors
    if rank == 0:
        print(f"rank 0/{WORLD}: consolidated state for {len(opt.state_dict()['state'])} tensors")
    assert diff < 1e-4
    dist.destroy_process_group()


if __name__ == "__main__":
    assert WORLD >= 2, "this example needs at least 2 GPUs"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free_port = s.getsockname()[1]
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", str(free_port))
    mp.spawn(worker, nprocs=WORLD)  # spawn, not fork: CUDA cannot be used in a forked child
# --8<-- [end:code]
