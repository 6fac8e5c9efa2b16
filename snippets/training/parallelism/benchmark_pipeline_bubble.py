"""The pipeline bubble, measured: idle time over busy time per stage against (p - 1) / m.

Two stages (p = 2) in two processes over gloo; GPipe and 1F1B; m = 1, 2, 4, 8 micro-batches
of a fixed size. So that a busy shared machine does not blur the schedule, each stage's work
is a fixed wait, as in a simulator: 10 ms per forward and 20 ms per backward of a micro-batch
(a real backward costs about twice the forward); the processes, the schedules and the
communication are real. Busy time is the wall-clock time a stage spends in its forward and backward
computations (`forward_one_chunk`, `backward_one_chunk`), idle time the rest of the step:
waiting for the other stage.
`--plot PATH` also saves the ratios against the formula (what `nox -s measure` shows on the page).
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

P, MICROBATCHES, REPEATS, FORWARD_S = 2, (1, 2, 4, 8), 3, 0.010
SCHEDULES = ("ScheduleGPipe", "Schedule1F1B")


# --8<-- [start:key]
def timed(method, busy):
    """``method``, adding the seconds each call takes to ``busy[0]``."""
    def call(*args, **kwargs):
        start = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            busy[0] += time.perf_counter() - start
    return call


def bubble(stage_module, rank, name, m, x, y):
    """Median over REPEATS steps of this stage's idle time / busy time, with schedule ``name``."""
    import torch
    import torch.distributed as dist
    from torch.distributed import pipelining

    stage = pipelining.PipelineStage(stage_module, rank, P, torch.device("cpu"))
    busy = [0.0]
    for method in ("forward_one_chunk", "backward_one_chunk"):  # time the computations
        setattr(stage, method, timed(getattr(stage, method), busy))
    schedule = getattr(pipelining, name)(stage, n_microbatches=m,
                                         loss_fn=torch.nn.functional.mse_loss)
    ratios = []
    for repeat in range(REPEATS + 1):  # the first step is a warm-up, not counted
        dist.barrier()  # both stages start the step together
        busy[0], wall = 0.0, time.perf_counter()
        schedule.step(x) if rank == 0 else schedule.step(target=y)
        dist.barrier()  # the step ends when the last stage is done, for both stages
        wall = time.perf_counter() - wall
        stage_module.zero_grad()
        if repeat:
            ratios.append((wall - busy[0]) / busy[0])
    return sorted(ratios)[len(ratios) // 2]
# --8<-- [end:key]


def worker(rank, out_path):
    """One stage: Linear(64, 64) and a fixed cost; writes its idle/busy ratio per schedule and m."""
    import torch
    import torch.distributed as dist
    from torch import nn

    class FixedCost(torch.autograd.Function):
        """Identity whose forward takes FORWARD_S and whose backward takes 2 * FORWARD_S."""

        @staticmethod
        def forward(ctx, x):
            time.sleep(FORWARD_S)
            return x.clone()

        @staticmethod
        def backward(ctx, grad):
            time.sleep(2 * FORWARD_S)
            return grad

    class Stage(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(64, 64)

        def forward(self, x):
            return FixedCost.apply(self.linear(x))

    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=P)
    torch.manual_seed(rank)
    stage_module = Stage()
    results = {}
    for name in SCHEDULES:
        for m in MICROBATCHES:
            if name == "Schedule1F1B" and m < P:  # 1F1B needs m >= p (it raises otherwise)
                continue
            x, y = torch.randn(8 * m, 64), torch.randn(8 * m, 64)  # 8 rows per micro-batch
            results[f"{name} {m}"] = bubble(stage_module, rank, name, m, x, y)
    with open(out_path, "w") as f:
        json.dump(results, f)
    dist.destroy_process_group()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--plot", help="also save the measured ratios against (p-1)/m to this PNG")
    parser.add_argument("--rank", type=int, help=argparse.SUPPRESS)  # set for the two workers
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rank is not None:
        return worker(args.rank, args.out)

    with socket.socket() as s:  # a free port for the rendezvous
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
    env = {**os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": port, "OMP_NUM_THREADS": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        outs = [os.path.join(tmp, f"rank{r}.json") for r in range(P)]
        procs = [subprocess.Popen([sys.executable, __file__, "--rank", str(r), "--out", outs[r]],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  text=True) for r in range(P)]
        errors = [p.communicate(timeout=600)[1] for p in procs]
        for p, err in zip(procs, errors):
            if p.returncode:
                raise RuntimeError(f"a stage failed:\n{err}")
        stages = [json.load(open(o)) for o in outs]

    forward_ms = FORWARD_S * 1e3
    print(f"p = {P} stages, forward {forward_ms:.0f} ms + backward {2 * forward_ms:.0f} ms per "
          f"micro-batch; idle/busy per stage (median of {REPEATS} steps)")
    print(f"{'schedule':<14}{'m':>3}{'(p-1)/m':>9}{'stage 0':>9}{'stage 1':>9}")
    for key in stages[0]:
        name, m = key.split()
        print(f"{name:<14}{m:>3}{(P - 1) / int(m):>9.3f}"
              + "".join(f"{s[key]:>9.3f}" for s in stages))

    if args.plot:
        import matplotlib

        matplotlib.use("Agg")  # no display needed
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 3.2))
        ax.plot(MICROBATCHES, [(P - 1) / m for m in MICROBATCHES], "k--", label="(p-1)/m")
        for i, name in enumerate(SCHEDULES):
            for rank, marker in enumerate("os"):
                ms = [m for m in MICROBATCHES if f"{name} {m}" in stages[rank]]
                ax.plot(ms, [stages[rank][f"{name} {m}"] for m in ms], marker=marker,
                        color=f"C{i}", linestyle="none", label=f"{name[8:]}, stage {rank}")
        ax.set_xscale("log", base=2)
        ax.set_xticks(MICROBATCHES, [str(m) for m in MICROBATCHES])
        ax.set_xlabel("micro-batches per step (m)")
        ax.set_ylabel("idle time / busy time")
        ax.set_title(f"Pipeline bubble, {P} stages on CPU (gloo)")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)


if __name__ == "__main__":
    main()
