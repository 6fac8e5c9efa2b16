# --8<-- [start:code]
"""FairScale FSDP flattens parameters: an optimizer over a submodule's parameters gets none."""
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

net = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 4))
n_weights = sum(p.numel() for p in net.parameters())
model = FSDP(net, flatten_parameters=True)  # the default: one flat tensor per FSDP wrapper
print("net[0].parameters() after wrapping:", list(net[0].parameters()))

# WRONG: parameter groups built from submodules, e.g. a smaller learning rate for the first layer
try:
    torch.optim.SGD(net[0].parameters(), lr=0.01)
    raise AssertionError("expected a ValueError")
except ValueError as err:
    assert "empty parameter list" in str(err)
    print("SGD(net[0].parameters()) -> ValueError:", err)

# RIGHT: build the optimizer from the wrapper, after wrapping; it sees the flat parameter
opt = torch.optim.SGD(model.parameters(), lr=0.01)
flat = opt.param_groups[0]["params"]
assert len(flat) == 1 and flat[0].numel() == n_weights  # world size 1: the shard is everything
print(f"SGD(model.parameters()) -> {len(flat)} flat tensor of {flat[0].numel()} numbers "
      f"= all {n_weights} weights")
dist.destroy_process_group()
# --8<-- [end:code]
