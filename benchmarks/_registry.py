"""Every benchmark workload: the ``ALL`` lists of ``benchmarks/workloads*.py``, in file order."""
from __future__ import annotations

import importlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def all_workloads() -> list:
    if HERE not in sys.path:
        sys.path.insert(0, HERE)
    modules = sorted(f[:-3] for f in os.listdir(HERE) if f.startswith("workloads") and f.endswith(".py"))
    return [wl for m in modules for wl in importlib.import_module(m).ALL]
