"""``ember run`` / ``python -m ember.distributed.run``: start a distributed job with MPI's ``mpiexec``.

A drop-in for ``torchrun`` on CPUs: it takes torchrun's common flags and sets the variables torchrun
sets (``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``LOCAL_WORLD_SIZE``, ``MASTER_ADDR``,
``MASTER_PORT``, and ``OMP_NUM_THREADS=1`` unless set), so ``torchrun --nproc_per_node 4 train.py``
becomes ``ember run --nproc_per_node 4 train.py`` (``-n 4`` for short). On several machines, MPI starts
every rank from one command: list the machines in an MPI host file and run, on one of them,
``ember run --nnodes 2 --nproc_per_node 4 --hostfile hosts train.py``.

The launcher forwards SIGINT and SIGTERM to ``mpiexec`` and exits with a non-zero status when any rank
fails (a failing rank aborts the whole job, so the others are killed, not left waiting).
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
from typing import Sequence

from ._mpi import INSTALL

__all__ = ["main", "build_command"]


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _nproc(text: str) -> int:
    if text in ("auto", "cpu"):   # torchrun's spellings for "one per CPU" on a machine without GPUs
        return os.cpu_count() or 1
    if text == "gpu":
        raise argparse.ArgumentTypeError("--nproc_per_node gpu: Ember's launcher runs CPU processes (no NCCL yet)")
    return _positive(text)


def _nnodes(text: str) -> int:
    low, _, high = text.partition(":")   # torchrun's elastic MIN:MAX; MPI jobs have a fixed size
    if high and high != low:
        raise argparse.ArgumentTypeError(f"--nnodes {text}: elastic ranges are not supported; give one number")
    return _positive(low)


def _flag(parser: argparse.ArgumentParser, name: str, **kwargs) -> None:
    """Add ``--a_b`` with torchrun's other spelling ``--a-b``."""
    names = [f"--{name}"] + ([f"--{name.replace('_', '-')}"] if "_" in name else [])
    parser.add_argument(*names, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ember run", description="Start a distributed Ember job on MPI "
                                "(torchrun's flags; one command starts every rank, also across machines).")
    p.add_argument("-n", "--nproc_per_node", "--nproc-per-node", dest="nproc_per_node", type=_nproc, default=1,
                   help="processes per machine (an integer, or auto/cpu: one per CPU core); default 1")
    _flag(p, "nnodes", type=_nnodes, default=1, help="number of machines (they come from --hostfile); default 1")
    _flag(p, "node_rank", type=int, default=0, help="accepted for torchrun compatibility; MPI starts every node "
          "from the one command, so it must be 0")
    _flag(p, "master_addr", default="127.0.0.1", help="exported as MASTER_ADDR (MPI does its own rendezvous)")
    _flag(p, "master_port", type=int, default=29500, help="exported as MASTER_PORT")
    p.add_argument("--standalone", action="store_true", help="one machine (the default; accepted from torchrun)")
    _flag(p, "rdzv_backend", default=None, help=argparse.SUPPRESS)
    _flag(p, "rdzv_endpoint", default=None, help=argparse.SUPPRESS)
    _flag(p, "max_restarts", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--hostfile", "-f", default=None, help="MPI host file listing the machines (one per line, "
                   "optionally `host:slots`) for a job across machines")
    p.add_argument("--mpiexec", default=os.environ.get("EMBER_MPIEXEC"), help="the mpiexec to use (default: the one "
                   "installed next to this Python, i.e. the mpich wheel's, else mpiexec on PATH; env EMBER_MPIEXEC)")
    p.add_argument("-m", "--module", action="store_true", help="run the target as a module (python -m)")
    _flag(p, "no_python", action="store_true", help="run the target as an executable, not with Python")
    p.add_argument("script", help="the training script (or module with -m, or executable with --no_python)")
    p.add_argument("script_args", nargs=argparse.REMAINDER, help="the script's arguments")
    return p


def find_mpiexec(explicit: str | None = None) -> str:
    """The ``mpiexec`` to start the job with; a ``RuntimeError`` saying what to install when there is none."""
    if explicit:
        return explicit
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.access(beside, os.X_OK):
        return beside
    found = shutil.which("mpiexec")
    if found is None:
        raise RuntimeError(f"ember run needs MPI's mpiexec, which was not found: {INSTALL}")
    return found


def _is_open_mpi(mpiexec: str) -> bool:
    try:
        out = subprocess.run([mpiexec, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "Open MPI" in out or "OpenRTE" in out


def _mpiexec_flags(mpiexec: str, total: int, per_node: int, hostfile: str | None) -> list[str]:
    """Flags for MPICH's Hydra or Open MPI: rank count, placement, and what containers need."""
    if _is_open_mpi(mpiexec):
        flags = ["-n", str(total), "--oversubscribe"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:   # containers often run as root; Open MPI refuses it
            flags.append("--allow-run-as-root")
        return flags + (["--hostfile", hostfile, "--npernode", str(per_node)] if hostfile else [])
    flags = ["-n", str(total)]
    if hostfile:
        return flags + ["-f", hostfile, "-ppn", str(per_node)]
    # One machine: fork the ranks directly, so no ssh is needed (containers have none).
    return flags + ["-launcher", "fork"]


def build_command(args: argparse.Namespace) -> tuple[list[str], dict[str, str]]:
    """The ``mpiexec`` command line and the environment for the job described by ``args``."""
    if args.nnodes > 1 and not args.hostfile:
        raise ValueError(f"--nnodes {args.nnodes}: list the machines in an MPI host file and pass --hostfile; MPI "
                         f"then starts all {args.nnodes * args.nproc_per_node} ranks from this one command")
    if args.node_rank != 0:
        raise ValueError(f"--node_rank {args.node_rank}: with MPI, run `ember run` once, on one machine (node 0); it "
                         f"starts the ranks on every machine of --hostfile")
    mpiexec = find_mpiexec(args.mpiexec)
    total = args.nnodes * args.nproc_per_node
    env = dict(os.environ)
    env.update(WORLD_SIZE=str(total), LOCAL_WORLD_SIZE=str(args.nproc_per_node), MASTER_ADDR=args.master_addr,
               MASTER_PORT=str(args.master_port), EMBER_RUN="1")
    if total > 1:
        env.setdefault("OMP_NUM_THREADS", "1")   # as torchrun: one BLAS thread per process unless told otherwise
    if args.no_python:
        target = [args.script, *args.script_args]
    else:
        target = [sys.executable, "-u", "-m", "ember.distributed._bootstrap", *(["-m"] if args.module else []),
                  args.script, *args.script_args]
    return [mpiexec, *_mpiexec_flags(mpiexec, total, args.nproc_per_node, args.hostfile), *target], env


def _run(command: list[str], env: dict[str, str]) -> int:
    """Run ``mpiexec``, forwarding SIGINT/SIGTERM to it; its exit status (128 + n for signal n)."""
    proc = subprocess.Popen(command, env=env)

    def forward(signum, frame):
        proc.send_signal(signum)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        code = proc.wait()
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
    return 128 - code if code < 0 else code


def main(argv: Sequence[str] | None = None) -> int:
    """Parse torchrun-style arguments and run the job; the exit status (non-zero when any rank failed)."""
    parser = build_parser()
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        command, env = build_command(args)
    except (ValueError, RuntimeError) as e:
        parser.exit(2, f"ember run: error: {e}\n")
    return _run(command, env)


if __name__ == "__main__":
    sys.exit(main())
