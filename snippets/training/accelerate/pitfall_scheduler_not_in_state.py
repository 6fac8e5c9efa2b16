# --8<-- [start:code]
"""save_state/load_state restore only what Accelerate knows: an unprepared scheduler restarts."""
import tempfile

import torch
from accelerate import Accelerator
from torch.optim.lr_scheduler import LambdaLR


def run(ckpt, prepare_scheduler, resume):
    """Three scheduler steps, then save (or, with resume, load instead); returns the next LR."""
    accelerator = Accelerator(cpu=True)
    model = torch.nn.Linear(4, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    scheduler = LambdaLR(optimizer, lambda step: 0.5 ** step)  # halve the LR every step
    model, optimizer = accelerator.prepare(model, optimizer)
    if prepare_scheduler:
        scheduler = accelerator.prepare(scheduler)  # now save_state/load_state include it
    if resume:
        accelerator.load_state(ckpt)
    else:
        for _ in range(3):
            optimizer.step()
            scheduler.step()
        accelerator.save_state(ckpt)
    return scheduler.get_last_lr()[0]


for prepared in (False, True):
    with tempfile.TemporaryDirectory() as ckpt:
        saved = run(ckpt, prepared, resume=False)
        resumed = run(ckpt, prepared, resume=True)
    label = "RIGHT, scheduler prepared" if prepared else "WRONG, scheduler not prepared"
    print(f"{label}: LR at save {saved}, after load_state {resumed}")
    assert (resumed == saved) == prepared
# --8<-- [end:code]
