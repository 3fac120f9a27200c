"""Chrome's Trace Event Format, which ``chrome://tracing``, Perfetto (https://ui.perfetto.dev) and TensorBoard's
profiler plugin open: one complete ("X") event per range with ``ts``/``dur`` in microseconds, the process and
thread ids, and the input shapes and types in ``args`` when they were recorded; "M" metadata events name the
process and each thread. A path ending in ``.gz`` is written gzip-compressed.
"""
from __future__ import annotations

import gzip
import json
import os
import socket
import time

from ._recorder import CPU_OP, USER_ANNOTATION


def trace_events(events) -> list[dict]:
    """The Trace Event Format records of ``events`` (``FunctionEvent``s), metadata first."""
    pid = os.getpid()
    out = [{"ph": "M", "name": "process_name", "pid": pid, "tid": 0, "args": {"name": "python"}},
           {"ph": "M", "name": "process_labels", "pid": pid, "tid": 0, "args": {"labels": "CPU"}}]
    for tid in dict.fromkeys(e.thread for e in events):
        out.append({"ph": "M", "name": "thread_name", "pid": pid, "tid": tid,
                    "args": {"name": f"thread {tid} (python)"}})
    for idx, e in enumerate(events):
        args = {"External id": e.id, "Ev Idx": idx}
        if e.input_shapes:
            args["Input Dims"] = e.input_shapes
            args["Input type"] = e.input_dtypes
        if e.args is not None:
            args["Record function args"] = e.args
        if e.stack:
            args["Call stack"] = ";".join(e.stack)
        out.append({"ph": "X", "cat": USER_ANNOTATION if e.is_user_annotation else CPU_OP, "name": e.name,
                    "pid": pid, "tid": e.thread, "ts": round(e.time_range.start, 3),
                    "dur": round(e.time_range.elapsed_us(), 3), "args": args})
    return out


def write_chrome_trace(events, path: str, metadata: dict) -> None:
    """Write ``events`` to ``path`` as a Trace Event Format JSON object (gzip-compressed for ``.gz``)."""
    path = os.fspath(path)
    doc = {"schemaVersion": 1, "deviceProperties": [], **metadata, "displayTimeUnit": "ms",
           "traceEvents": trace_events(events), "traceName": path}
    data = json.dumps(doc).encode()
    if path.endswith(".gz"):
        data = gzip.compress(data)
    # Written next to the target and renamed, so a reader never sees half a trace.
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def tensorboard_trace_handler(dir_name: str, worker_name: str | None = None, use_gzip: bool = False):
    """An ``on_trace_ready`` handler that writes each trace into ``dir_name`` as
    ``<worker_name>.<milliseconds>.pt.trace.json`` (``.gz`` with ``use_gzip``), the layout TensorBoard's
    profiler plugin reads; ``worker_name`` defaults to ``<hostname>_<pid>``.

    >>> from ember.profiler import profile, tensorboard_trace_handler
    >>> with profile(on_trace_ready=tensorboard_trace_handler("log")):
    ...     y = ember.ones(3) * 2
    >>> import os; [n.endswith(".pt.trace.json") for n in os.listdir("log")]
    [True]
    """
    worker = worker_name or f"{socket.gethostname()}_{os.getpid()}"

    def handler(prof) -> None:
        os.makedirs(dir_name, exist_ok=True)
        name = f"{worker}.{time.time_ns() // 1_000_000}.pt.trace.json" + (".gz" if use_gzip else "")
        prof.export_chrome_trace(os.path.join(dir_name, name))

    return handler
