"""Data-parallel training of an MLP on scikit-learn's 8x8 digits with DistributedDataParallel.

Written as the PyTorch script would be (``import ember as torch`` style names, ``backend="gloo"``,
torchrun's environment variables), so the PyTorch version runs under ``torchrun`` unchanged. Run it
on one machine with 2 processes:

    ember run -n 2 examples/distributed/train_ddp.py --epochs 20

and across machines by listing them in an MPI host file (one host name per line) and running, on one
of them, the same command with ``--nnodes 2 --hostfile hosts`` (MPI starts every rank; the machines
need the same Python environment and path, and ssh access between them).
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import time
from pathlib import Path

import numpy as np

import ember
import ember.distributed as dist
from ember import nn
from ember.nn.parallel import DistributedDataParallel as DDP
from ember.utils.data import DataLoader, DistributedSampler, TensorDataset


def load_digits():
    """The 1797 8x8 digits bundled with scikit-learn, read from its data file (importing scikit-learn
    itself would cost every rank seconds of start-up)."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None:
        raise SystemExit("this example trains on the digits bundled with scikit-learn: pip install scikit-learn")
    table = np.loadtxt(Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "digits.csv.gz", delimiter=",")
    return table[:, :-1], table[:, -1]


def load_digits_split(seed: int = 0):
    """Digits as float32 tensors in [0, 1], split 80/20 with a fixed permutation (same on every rank)."""
    images, labels = load_digits()
    x = ember.tensor(images, dtype=ember.float32) / 16.0
    y = ember.tensor(labels, dtype=ember.int64)
    perm = ember.randperm(len(x), generator=ember.Generator().manual_seed(seed))
    n_train = int(0.8 * len(x))
    return TensorDataset(x[perm[:n_train]], y[perm[:n_train]]), TensorDataset(x[perm[n_train:]], y[perm[n_train:]])


def evaluate(model: nn.Module, data: TensorDataset) -> float:
    """Accuracy over the whole test set: each rank scores its share, the counts are summed."""
    loader = DataLoader(data, batch_size=256, sampler=DistributedSampler(data, shuffle=False, drop_last=False))
    correct, seen = ember.zeros(2, dtype=ember.float64), 0
    model.eval()
    with ember.no_grad():
        for x, y in loader:
            correct[0] += (model(x).argmax(1) == y).sum().item()
            correct[1] += len(y)
    model.train()
    dist.all_reduce(correct)   # padded duplicates in the last share count twice: a tiny bias, as in PyTorch
    return (correct[0] / correct[1]).item()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=32, help="per process")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--save", help="write the trained weights here (keys without DDP's 'module.' prefix)")
    args = p.parse_args()

    dist.init_process_group(backend="gloo")          # runs on MPI; rank and world size come from the launcher
    rank, world = dist.get_rank(), dist.get_world_size()
    ember.manual_seed(0)                               # DDP copies rank 0's initial weights to the others anyway
    train_set, test_set = load_digits_split()
    sampler = DistributedSampler(train_set, shuffle=True, seed=0)
    loader = DataLoader(train_set, batch_size=args.batch_size, sampler=sampler)
    model = DDP(nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10)))
    optimizer = ember.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()

    start = time.perf_counter()
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)                       # a different shuffle each epoch, the same on every rank
        for x, y in loader:
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()            # gradients are averaged across ranks during backward
            optimizer.step()
        if rank == 0 and (epoch + 1) % 5 == 0:
            print(f"epoch {epoch + 1:3d}  loss {loss_fn(model(x), y).item():.4f}", flush=True)
    acc = evaluate(model, test_set)
    if rank == 0:
        print(f"test accuracy {acc:.4f} after {args.epochs} epochs on {world} processes "
              f"({time.perf_counter() - start:.1f} s); LOCAL_RANK={os.environ.get('LOCAL_RANK', '0')}")
        if args.save:
            ember.save(model.module.state_dict(), args.save)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
