"""Starting a scenario script on 2 MPI ranks through the launcher, from a pytest test.

Each scenario file batches many checks into one ``mpiexec`` launch (start-up is the expensive part)
and prints ``<name>: <n> checks passed`` on rank 0 when every check of every rank passed; a failing
check raises on its rank, which aborts the job, so the test sees a non-zero status and the
traceback. Every launch has a subprocess timeout, so a hang fails the test instead of stalling CI.
"""
from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

SCENARIOS = Path(__file__).parent / "scenarios"


def _mpi_missing() -> str | None:
    if importlib.util.find_spec("mpi4py") is None:
        return "mpi4py is not installed (pip install 'ember[distributed]')"
    from ember.distributed.run import find_mpiexec
    try:
        find_mpiexec()
    except RuntimeError as e:
        return str(e)
    return None


requires_mpi = pytest.mark.skipif(_mpi_missing() is not None, reason=_mpi_missing() or "")


def launch(script: str, *args: str, nproc: int = 2, timeout: float = 60, launcher_args=()) -> subprocess.CompletedProcess:
    """Run ``python -m ember.distributed.run -n nproc scenarios/script args`` and return the result."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", EMBER_STRICT_PLUGINS="1")
    cmd = [sys.executable, "-m", "ember.distributed.run", "--nproc_per_node", str(nproc), *launcher_args,
           str(SCENARIOS / script), *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)


def checks_passed(result: subprocess.CompletedProcess, name: str) -> int:
    """The number of checks the scenario reported; fails the test with the job's output otherwise."""
    out = result.stdout + result.stderr
    assert result.returncode == 0, f"the job failed with status {result.returncode}:\n{out[-6000:]}"
    m = re.search(rf"^{name}: (\d+) checks passed$", result.stdout, re.M)
    assert m, f"no summary line from rank 0:\n{out[-6000:]}"
    return int(m.group(1))
