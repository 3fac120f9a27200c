"""The MPI engine under ``ember.distributed``: importing mpi4py on first use, and waiting on requests.

mpi4py is imported here and only when a process group is created, so ``import ember`` and
``import ember.distributed`` never load MPI (MPI_Init costs time and, outside a launcher, starts a
one-process job). Every collective is started non-blocking and waited on through :func:`wait`, which
gives each operation the process group's timeout: a rank that died or went another way makes the
others raise instead of hanging forever.
"""
from __future__ import annotations

import importlib.util
import time

_MPI = None

INSTALL = "pip install 'ember[distributed]'  (mpi4py and the mpich wheel, which provides mpiexec)"


class DistError(RuntimeError):
    """An error of the distributed engine (PyTorch's ``torch.distributed.DistError``)."""


class DistBackendError(DistError):
    """A collective failed or timed out (PyTorch's ``torch.distributed.DistBackendError``)."""


def available() -> bool:
    """True when mpi4py is installed (found without importing it)."""
    return importlib.util.find_spec("mpi4py") is not None


def mpi():
    """The ``mpi4py.MPI`` module, imported (and MPI initialised) on first call."""
    global _MPI
    if _MPI is None:
        if not available():
            raise RuntimeError(f"ember.distributed needs mpi4py, which is not installed: {INSTALL}")
        from mpi4py import MPI
        _MPI = MPI
    return _MPI


def wait(requests: list, timeout: float, what: str, rank: int, statuses: list | None = None) -> None:
    """Wait until every MPI request in ``requests`` completes, or raise after ``timeout`` seconds.

    MPI makes progress on non-blocking operations only inside MPI calls, so this polls ``Testall``:
    spinning first (collectives on one machine finish in microseconds), then sleeping a little
    longer each round so a long wait does not steal the CPU from the other ranks on the same cores.
    """
    testall = mpi().Request.Testall
    if testall(requests, statuses):
        return
    start = time.monotonic()
    pause = 0.0
    while not testall(requests, statuses):
        waited = time.monotonic() - start
        if waited > timeout:
            raise DistBackendError(
                f"ember.distributed: {what} timed out on rank {rank} after {timeout:g} s waiting for the other "
                f"ranks (a rank may have failed, exited, or called a different collective). Set the limit with "
                f"init_process_group(timeout=...).")
        if waited > 1e-3:            # after a millisecond of spinning, back off up to 1 ms per poll
            pause = min(1e-3, pause * 2 or 2e-5)
            time.sleep(pause)
