# pytest: distributed
# --8<-- [start:code]
"""`accelerate launch --cpu --num_processes 2` starts ONE process; `--multi_gpu` starts two."""
import os
import socket
import subprocess
import sys

if sys.argv[1:] == ["worker"]:  # what each launched process runs
    from accelerate import Accelerator

    accelerator = Accelerator(cpu=True)
    rank, world = accelerator.process_index, accelerator.num_processes
    print(f"rank {rank}/{world}: {accelerator.distributed_type}\n",
          end="", flush=True)  # one write, so the lines of several processes cannot interleave
    accelerator.wait_for_everyone()  # no rank tears the group down while another is still joining
    accelerator.end_training()
    sys.exit(0)


def launch(mode_flag, port):
    command = [sys.executable, "-m", "accelerate.commands.launch", mode_flag,
               "--num_processes", "2", "--num_machines", "1",
               "--mixed_precision", "no", "--dynamo_backend", "no",
               "--main_process_port", port, os.path.abspath(__file__), "worker"]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)


def rank_lines(process):
    out, _ = process.communicate()
    assert process.returncode == 0
    return sorted(line for line in out.splitlines() if line.startswith("rank "))


with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = os.environ.get("MASTER_PORT", str(s.getsockname()[1]))
# Both launches run at the same time, only to save time; --cpu never opens the port.
wrong = launch("--cpu", port)  # WRONG: without an MPI hostfile, --num_processes is ignored
right = launch("--multi_gpu", port)  # RIGHT, or torchrun --nproc_per_node 2; cpu=True in the script
wrong, right = rank_lines(wrong), rank_lines(right)

print(f"--cpu --num_processes 2       -> {len(wrong)} process: {wrong}")
print(f"--multi_gpu --num_processes 2 -> {len(right)} processes:")
print("\n".join(right))
assert wrong == ["rank 0/1: DistributedType.NO"]
assert right == ["rank 0/2: DistributedType.MULTI_CPU", "rank 1/2: DistributedType.MULTI_CPU"]
# --8<-- [end:code]
