"""Quick A/B check of one library's workloads by process CPU time, single-threaded.

`make bench` is the measurement of record (wall time, both libraries in separate processes). On a
shared machine whose other cores are busy, CPU time of a single-threaded run is steadier, which
makes this the tool for before/after comparisons of a change to Ember:

    python benchmarks/cpu_time.py ember "per-op" "MLP"      # workloads whose names contain these

Prints the median (and minimum) CPU milliseconds per step over 7 samples of >= 0.2 s each.
"""
import os
import statistics
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")   # before NumPy is imported
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _registry import all_workloads  # noqa: E402
from _worker import calibrate, sample  # noqa: E402


def cpu_seconds_per_step(step, samples: int = 7) -> tuple:
    n = calibrate(step, 0.2, clock=time.process_time)
    res = [sample(step, n, clock=time.process_time) for _ in range(samples)]
    return statistics.median(res), min(res)


def main() -> int:
    lib_name, names = sys.argv[1], sys.argv[2:]
    lib = __import__(lib_name)
    if lib_name == "torch":
        lib.set_num_threads(1)
    for wl in all_workloads():
        if names and not any(n in wl.name for n in names):
            continue
        med, best = cpu_seconds_per_step(wl.setup(lib))
        print(f"{wl.name:<64} {med * 1e3:9.3f} ms  (min {best * 1e3:.3f})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
