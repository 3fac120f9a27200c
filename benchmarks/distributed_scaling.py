"""DDP scaling: 2 processes x 1 thread against 1 process x 1 thread, MLP and small-CNN training.

For each model the driver starts, through ``ember run`` (MPI), four jobs that time the same training
step (each process with the same per-process batch, so 2 processes train on twice the samples):

  single       1 process, plain training (no DDP): the baseline throughput
  ddp          2 processes, DistributedDataParallel: bucketed all-reduce started from gradient hooks,
               overlapped with the rest of backward
  no-overlap   2 processes, backward without communication (``no_sync``), then one all-reduce of all
               gradients after backward: the same communication, none of it overlapped
  compute      2 processes, ``no_sync`` only (no communication): what 2 processes on 2 cores can do

Scaling efficiency = throughput(ddp) / (2 x throughput(single)). Each job reports the median step time
over timed steps after warm-up. Results are printed and written into BENCHMARKS.md between the
``distributed`` markers (``--no-write`` to skip). PyTorch is not compared: its gloo backend is not set up
in .venv-bench, so these rows are Ember's own.

    python benchmarks/distributed_scaling.py [--steps 30] [--no-write]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MODES = ("single", "ddp", "no-overlap", "compute")
BATCH = {"mlp": 128, "cnn": 32}


def build(model_name: str):
    import ember
    from ember import nn
    ember.manual_seed(0)
    if model_name == "mlp":
        model = nn.Sequential(nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 10))
        x = ember.randn(BATCH["mlp"], 784)
    else:
        model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))
        x = ember.randn(BATCH["cnn"], 1, 28, 28)
    y = ember.randint(0, 10, (x.shape[0],))
    return model, x, y


def worker(model_name: str, mode: str, steps: int) -> None:
    """One rank: time ``steps`` training steps in ``mode`` and print the median on rank 0."""
    import contextlib

    import numpy as np

    import ember
    import ember.distributed as dist
    from ember.nn.parallel import DistributedDataParallel as DDP
    dist.init_process_group("mpi")
    model, x, y = build(model_name)
    if mode != "single":
        model = DDP(model)
    opt = ember.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = ember.nn.CrossEntropyLoss()
    local = model.no_sync if mode in ("no-overlap", "compute") else contextlib.nullcontext

    def step():
        opt.zero_grad()
        with local():
            loss_fn(model(x), y).backward()
        if mode == "no-overlap":   # the same all-reduce DDP does, after backward instead of during it
            flat = ember.cat([p.grad.reshape(-1) for p in model.parameters()])
            dist.all_reduce(flat)
        opt.step()

    times = []
    for i in range(steps + 5):
        dist.barrier()
        start = time.perf_counter()
        step()
        if i >= 5:
            times.append(time.perf_counter() - start)
    slowest = ember.tensor([float(np.median(times))], dtype=ember.float64)
    dist.all_reduce(slowest, op=dist.ReduceOp.MAX)
    if dist.get_rank() == 0:
        print(json.dumps({"median_s": slowest.item()}), flush=True)


def run_job(model_name: str, mode: str, steps: int) -> float:
    nproc = 1 if mode == "single" else 2
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-m", "ember.distributed.run", "-n", str(nproc), os.path.abspath(__file__),
                          "--worker", model_name, mode, "--steps", str(steps)], env=env, capture_output=True,
                         text=True, timeout=600)
    if out.returncode:
        raise RuntimeError(f"{model_name}/{mode} failed:\n{out.stdout}\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])["median_s"]


def table(results: dict) -> str:
    rows = ["| model (per-process batch) | 1 proc x 1 thread | DDP 2 proc x 1 thread | scaling efficiency | "
            "2 proc, all-reduce after backward (no overlap) | 2 proc, no communication |",
            "|---|---|---|---|---|---|"]
    for name, r in results.items():
        b = BATCH[name]
        thr = {m: (1 if m == "single" else 2) * b / r[m] for m in MODES}
        rows.append(f"| {name.upper()} ({b}) | {thr['single']:.0f} samples/s ({1e3 * r['single']:.1f} ms/step) | "
                    f"{thr['ddp']:.0f} samples/s ({1e3 * r['ddp']:.1f} ms/step) | "
                    f"{thr['ddp'] / (2 * thr['single']):.0%} | {1e3 * r['no-overlap']:.1f} ms/step | "
                    f"{1e3 * r['compute']:.1f} ms/step |")
    return "\n".join(rows)


def write(text: str) -> None:
    path = os.path.join(HERE, os.pardir, "BENCHMARKS.md")
    doc = open(path).read()
    block = f"<!-- distributed:begin -->\n{text}\n<!-- distributed:end -->"
    if "<!-- distributed:begin -->" in doc:
        doc = re.sub(r"<!-- distributed:begin -->.*<!-- distributed:end -->", lambda m: block, doc, flags=re.S)
    else:
        doc = doc.rstrip() + "\n\n" + block + "\n"
    open(path, "w").write(doc)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--worker", nargs=2, metavar=("MODEL", "MODE"), help=argparse.SUPPRESS)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--models", nargs="*", default=["mlp", "cnn"])
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args()
    if args.worker:
        worker(*args.worker, args.steps)
        return
    results = {}
    for name in args.models:
        results[name] = {mode: run_job(name, mode, args.steps) for mode in MODES}
        print(name, {m: f"{1e3 * t:.1f} ms" for m, t in results[name].items()}, flush=True)
    text = table(results)
    print(text)
    if not args.no_write:
        write(text)


if __name__ == "__main__":
    main()
