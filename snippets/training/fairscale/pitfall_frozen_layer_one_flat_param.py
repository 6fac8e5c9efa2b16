# --8<-- [start:code]
"""FairScale FSDP puts a wrapper's parameters in one flat tensor: frozen and trainable can't mix."""
import os
import socket

import torch
import torch.distributed as dist
from fairscale.nn.data_parallel import FullyShardedDataParallel as FSDP

with socket.socket() as s:  # a free port, unless the caller (e.g. a test harness) set one
    s.bind(("127.0.0.1", 0))
    os.environ.setdefault("MASTER_PORT", str(s.getsockname()[1]))
os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
dist.init_process_group("gloo", rank=0, world_size=1)  # one process is enough to see it


def make_net():
    """A frozen first layer (a pretrained trunk, say) and a trainable head."""
    net = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 4))
    net[0].requires_grad_(False)
    return net


# WRONG: one wrapper around the whole net, so one flat parameter for frozen and trainable weights
try:
    FSDP(make_net())
    raise AssertionError("expected an AssertionError")
except AssertionError as err:
    assert str(err).startswith("expects all parameters to have same requires_grad")
    print("FSDP(net) -> AssertionError: expects all parameters to have same requires_grad")

# RIGHT: wrap the frozen and the trainable parts separately, so each flat parameter is uniform
net = make_net()
net[0], net[2] = FSDP(net[0]), FSDP(net[2])
model = FSDP(net)
for p in model.parameters():
    print(f"flat parameter of {p.numel()} numbers, requires_grad={p.requires_grad}")
opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
assert sum(p.numel() for g in opt.param_groups for p in g["params"]) == 32 * 4 + 4  # head only
dist.destroy_process_group()
# --8<-- [end:code]
