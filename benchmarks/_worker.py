"""One library's benchmark process: imports only that library and times workloads on request.

The runner (run.py) starts one worker per library, with the BLAS/OpenMP thread counts fixed in the
environment before the interpreter starts, so that neither library's thread pool competes with the
other's inside one process. Requests and replies are JSON lines on stdin/stdout:

    {"cmd": "setup", "name": W}           -> {"calls": n}       build the step, warm it up, calibrate
                                          or {"skip": why}      this library's side is unavailable here
    {"cmd": "sample", "name": W, "calls": n} -> {"seconds": s}  mean seconds per call over n calls
    {"cmd": "drop", "name": W}            -> {}                 free the step (and its memory)
    {"cmd": "quit"}

Run by run.py only: ``python benchmarks/_worker.py LIB THREADS SAMPLE_SECONDS``.
"""
from __future__ import annotations

import gc
import importlib
import json
import sys
import time
import traceback


def calibrate(step, sample_seconds: float, clock=time.perf_counter) -> int:
    """Warm up, then the number of calls that makes one sample take about ``sample_seconds``."""
    step()
    n = 1
    while True:
        t0 = clock()
        for _ in range(n):
            step()
        elapsed = clock() - t0
        if elapsed >= sample_seconds or n >= 1 << 20:
            return n
        # Jump close to the target instead of doubling many times on fast steps.
        n = max(n * 2, min(int(n * sample_seconds / max(elapsed, 1e-9)), n * 64))


def sample(step, n: int, clock=time.perf_counter) -> float:
    step()  # back in cache after the pause the runner takes between samples
    t0 = clock()
    for _ in range(n):
        step()
    return (clock() - t0) / n


def main() -> int:
    lib_name, threads, sample_seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    lib = importlib.import_module(lib_name)
    if lib_name == "torch":
        lib.set_num_threads(threads)
    from _registry import all_workloads
    from workloads import Unavailable
    by_name = {wl.name: wl for wl in all_workloads()}
    steps = {}
    out = sys.stdout
    for line in sys.stdin:
        req = json.loads(line)
        try:
            if req["cmd"] == "quit":
                break
            if req["cmd"] == "setup":
                try:
                    steps[req["name"]] = step = by_name[req["name"]].setup(lib)
                except Unavailable as why:
                    reply = {"skip": str(why)}
                else:
                    reply = {"calls": calibrate(step, sample_seconds)}
            elif req["cmd"] == "sample":
                reply = {"seconds": sample(steps[req["name"]], req["calls"])}
            elif req["cmd"] == "drop":
                step = steps.pop(req["name"], None)
                proc = getattr(step, "process", None)   # workloads that own a helper process
                if proc is not None:
                    proc.kill()
                del step
                gc.collect()
                reply = {}
            else:
                reply = {"error": f"unknown command {req['cmd']!r}"}
        except Exception:  # noqa: BLE001 - reported to the runner, which names the workload
            reply = {"error": traceback.format_exc()}
        out.write(json.dumps(reply) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
