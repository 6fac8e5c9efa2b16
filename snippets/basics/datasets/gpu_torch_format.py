# pytest: gpu, needs-datasets
# --8<-- [start:code]
import torch
from torch.utils.data import DataLoader
from datasets import Dataset


def main():
    ds = Dataset.from_dict({"input_ids": [[i, i + 1, i + 2] for i in range(8)],
                            "label": [0, 1] * 4})

    # Extra with_format keywords go to torch.tensor(), so device= builds the tensors on the GPU.
    gpu_ds = ds.with_format("torch", device="cuda")
    batch = gpu_ds[:4]
    assert batch["input_ids"].is_cuda and batch["input_ids"].shape == (4, 3)
    assert batch["input_ids"].dtype == torch.int64

    # The default collate stacks CUDA rows into a CUDA batch. Keep num_workers=0 here: CUDA cannot
    # be used from forked DataLoader worker processes.
    loaded = next(iter(DataLoader(gpu_ds, batch_size=4)))
    assert loaded["label"].is_cuda and loaded["label"].tolist() == [0, 1, 0, 1]

    # The common alternative for real training: CPU tensors built by workers, pinned, copied async.
    # CUDA is running by now, with threads of its own, and fork() from a threaded process can
    # deadlock the child (Python 3.12 warns): start the workers with "spawn" instead.
    cpu_loader = DataLoader(ds.with_format("torch"), batch_size=4, num_workers=2, pin_memory=True,
                            multiprocessing_context="spawn")
    moved = {k: v.to("cuda", non_blocking=True) for k, v in next(iter(cpu_loader)).items()}
    assert all(v.is_cuda for v in moved.values())
    print({k: (v.device, v.dtype, tuple(v.shape)) for k, v in moved.items()})


if __name__ == "__main__":  # "spawn" workers import this file again: only the parent runs main()
    main()
# --8<-- [end:code]
