"""What ``ember run`` starts on every rank: torchrun's environment variables, then the user's script.

``mpiexec`` gives each process its rank in its own variables (MPICH's ``PMI_RANK`` and
``MPI_LOCALRANKID``, Open MPI's ``OMPI_COMM_WORLD_*``); this sets the ones torchrun sets (``RANK``,
``LOCAL_RANK``, ...) and runs the script as ``__main__``. If the script fails on any rank, the whole
MPI job is aborted: the other ranks would otherwise wait for this one forever (in MPI_Init or their
next collective), and ``ember run`` then exits with a non-zero status.
"""
from __future__ import annotations

import os
import runpy
import sys
import time
import traceback

_RANK_VARS = ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK")
_LOCAL_RANK_VARS = ("MPI_LOCALRANKID", "OMPI_COMM_WORLD_LOCAL_RANK")


def _first(names, default=None):
    for n in names:
        if n in os.environ:
            return int(os.environ[n])
    return default


def set_torchrun_env(environ=os.environ) -> None:
    """Set ``RANK``, ``LOCAL_RANK`` and ``GROUP_RANK`` from MPI's variables (the launcher set the rest)."""
    rank = _first(_RANK_VARS, 0)
    per_node = int(environ.get("LOCAL_WORLD_SIZE", "1"))
    environ["RANK"] = str(rank)
    environ["LOCAL_RANK"] = str(_first(_LOCAL_RANK_VARS, rank % per_node))
    environ["GROUP_RANK"] = environ["ROLE_RANK"] = str(rank // per_node)


# mpiexec forwards each rank's output asynchronously and MPI_Abort tears the job down at once, so
# output written just before the abort can be lost; a short pause lets the forwarder drain it.
_DRAIN_SECONDS = 0.5


def _abort_job(code: int) -> None:
    """End every rank of the job: join MPI if this rank has not yet, and call MPI_Abort."""
    sys.stdout.flush()
    sys.stderr.flush()
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        time.sleep(_DRAIN_SECONDS)
        from mpi4py import MPI
        MPI.COMM_WORLD.Abort(code)
    os._exit(code)


def main(argv: list[str]) -> None:
    set_torchrun_env()
    as_module = argv[0] == "-m"
    target, args = (argv[1], argv[2:]) if as_module else (argv[0], argv[1:])
    sys.argv = [target, *args]
    try:
        if as_module:
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            sys.path.insert(0, os.path.dirname(os.path.abspath(target)))
            runpy.run_path(target, run_name="__main__")
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) or e.code is None else 1
        if code:
            # As for an exception below: the reason in one write before the abort, since MPICH's own
            # "Abort(N)" line can be lost when the job is torn down.
            reason = f"exit status {code}" if isinstance(e.code, int) else e.code
            print(f"ember run: rank {os.environ['RANK']} exited ({reason}); stopping the job: Abort({code})",
                  file=sys.stderr)
            _abort_job(code)
        raise
    except BaseException as e:
        # The one-line reason first, in one write: if anything of the output is lost, not that.
        print(f"ember run: rank {os.environ['RANK']} failed ({type(e).__name__}: {e}); stopping the job\n"
              + "".join(traceback.format_exception(e)), file=sys.stderr, end="")
        _abort_job(1)


if __name__ == "__main__":
    main(sys.argv[1:])
