# pytest: distributed
# --8<-- [start:code]
"""Expert parallelism on 2 ranks: a top-1 MoE layer with one expert per rank. Each token goes to
its expert's rank with all_to_all_single and comes back; the result equals one process."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

TOKENS, H, EXPERTS = 8, 8, 2  # tokens per rank, hidden size, experts (one per rank)


def make_layer():
    """A router and EXPERTS small MLPs, with the same weights in every process."""
    torch.manual_seed(0)
    router = nn.Linear(H, EXPERTS, bias=False)
    experts = nn.ModuleList(nn.Sequential(nn.Linear(H, 2 * H), nn.GELU(), nn.Linear(2 * H, H))
                            for _ in range(EXPERTS))
    return router, experts


def moe_single(x, router, experts):
    """One process: every expert on the tokens routed to it. x: (tokens, H)."""
    prob, choice = router(x).softmax(-1).max(-1)  # top-1 expert and its gate probability
    out = torch.zeros_like(x)
    for e, expert in enumerate(experts):
        out[choice == e] = expert(x[choice == e])
    return out * prob[:, None]


def moe_expert_parallel(x, router, expert):
    """This rank holds expert number `rank`. x: this rank's (tokens, H). Returns (out, bytes)."""
    world = dist.get_world_size()
    prob, choice = router(x).softmax(-1).max(-1)
    order = choice.argsort(stable=True)  # group the tokens by destination rank
    send_counts = torch.bincount(choice, minlength=world)
    recv_counts = torch.empty_like(send_counts)
    dist.all_to_all_single(recv_counts, send_counts)  # first tell each rank how many will come
    send, recv = send_counts.tolist(), recv_counts.tolist()
    arrived = x.new_empty(sum(recv), H)
    dist.all_to_all_single(arrived, x[order], output_split_sizes=recv, input_split_sizes=send)
    done = expert(arrived)  # this rank's expert, on every token routed to it from any rank
    back = x.new_empty(TOKENS, H)
    dist.all_to_all_single(back, done, output_split_sizes=send, input_split_sizes=recv)
    out = torch.empty_like(x)
    out[order] = back  # undo the grouping
    own = send[dist.get_rank()]  # tokens that stayed on this rank never cross the wire
    sent = (sum(send) - own + sum(recv) - own) * H * x.element_size()
    return out * prob[:, None], sent, recv


def worker(rank, world):
    dist.init_process_group("gloo", rank=rank, world_size=world)
    router, experts = make_layer()
    torch.manual_seed(1)
    x_all = torch.randn(world * TOKENS, H)  # every rank's tokens (for the reference)
    x = x_all[rank * TOKENS:(rank + 1) * TOKENS]
    with torch.no_grad():
        ref = moe_single(x_all, router, experts)[rank * TOKENS:(rank + 1) * TOKENS]
        out, sent, recv = moe_expert_parallel(x, router, experts[rank])
    error = (out - ref).abs().max().item()
    assert error < 1e-6
    for r in range(world):
        if r == rank:
            print(f"rank {rank}/{world}: expert {rank} got {recv} tokens from ranks 0, 1; "
                  f"sent {sent} B; equal to one process (< 1e-6): {error < 1e-6}", flush=True)
        dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    mp.start_processes(worker, args=(2,), nprocs=2, start_method="fork")
# --8<-- [end:code]
