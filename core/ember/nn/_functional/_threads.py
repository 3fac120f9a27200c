"""Running independent blocks of a NumPy kernel on several threads.

NumPy releases the GIL inside each ufunc pass over a large array, so blocks of planes processed by
different Python threads run in parallel; the per-call overhead, which holds the GIL, is small next
to a block's work. The number of threads follows ``ember.set_num_threads`` (PyTorch's intra-op
threads); with one thread, or off NumPy (CuPy runs on the device), blocks run in the caller.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

_pool: list = []  # [executor, workers, pid]: a forked child (DataLoader workers) must not reuse the
_lock = threading.Lock()  # parent's executor, whose threads do not exist in the child


def _threads() -> int:
    """The intra-op thread count: the last ``ember.set_num_threads``, else the BLAS environment setting."""
    from ... import _threads as blas_threads
    if blas_threads._last_set:
        return blas_threads._last_set[0]
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        if os.environ.get(var, "").isdigit():
            return max(1, int(os.environ[var]))
    return max(1, min(os.cpu_count() or 1, 4))


def _executor(workers: int):
    with _lock:
        if not _pool or _pool[1] != workers or _pool[2] != os.getpid():
            if _pool and _pool[2] == os.getpid():
                _pool[0].shutdown(wait=False)
            _pool[:] = [ThreadPoolExecutor(workers, thread_name_prefix="ember-kernel"), workers, os.getpid()]
        return _pool[0]


def run_blocks(xp, fn, blocks) -> None:
    """``fn(start, stop)`` for every ``(start, stop)`` in ``blocks``, spread over the intra-op threads
    in contiguous runs (each thread's scratch memory is its own).

    >>> seen = []
    >>> run_blocks(np, lambda a, b: seen.append((a, b)), [(0, 2), (2, 3)])
    >>> sorted(seen)
    [(0, 2), (2, 3)]
    """
    workers = min(_threads(), len(blocks)) if xp is np else 1
    if workers <= 1 or threading.current_thread().name.startswith("ember-kernel"):
        for a, b in blocks:
            fn(a, b)
        return
    per = -(-len(blocks) // workers)
    runs = [blocks[i:i + per] for i in range(0, len(blocks), per)]

    def run(part):
        for a, b in part:
            fn(a, b)
    futures = [_executor(workers).submit(run, part) for part in runs[1:]]
    run(runs[0])
    for f in futures:
        f.result()  # re-raises a worker's exception here
