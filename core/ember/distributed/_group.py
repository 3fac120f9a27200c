"""Process groups: the default (world) group from MPI, subgroups, and the fail-fast hook.

A :class:`ProcessGroup` wraps an MPI communicator, the global ranks it contains and the timeout each
of its operations gets. ``init_process_group`` takes rank and world size from MPI (``mpiexec``
decides them) and checks them against ``RANK``/``WORLD_SIZE`` when a launcher set those.
"""
from __future__ import annotations

import datetime
import os
import sys
from typing import Sequence

from . import _mpi

__all__ = ["ProcessGroup", "GroupMember", "init_process_group", "destroy_process_group", "new_group", "get_rank",
           "get_world_size", "is_initialized", "get_backend", "default_pg_timeout", "get_process_group_ranks",
           "get_global_rank", "get_group_rank"]

default_pg_timeout = datetime.timedelta(minutes=30)

# Names scripts pass to init_process_group, all served by MPI on CPU tensors ("gloo" is what CPU
# scripts written for PyTorch name; torchrun users' scripts then run unchanged).
_CPU_BACKENDS = {"mpi", "gloo", "cpu:gloo", "cpu:mpi", "undefined"}
_NOT_INITIALIZED = "Default process group has not been initialized, please make sure to call init_process_group."


class ProcessGroup:
    """A set of ranks that run collectives together (an MPI communicator)."""

    def __init__(self, comm, ranks: Sequence[int], timeout: datetime.timedelta, backend: str = "mpi") -> None:
        self.comm = comm
        self.ranks = list(ranks)
        self.timeout = timeout.total_seconds()
        self._backend = backend
        self._index = {g: i for i, g in enumerate(self.ranks)}

    def rank(self) -> int:
        """This process's rank within the group."""
        return self.comm.Get_rank()

    def size(self) -> int:
        """The number of processes in the group."""
        return len(self.ranks)

    def name(self) -> str:
        return self._backend

    def group_rank(self, global_rank: int) -> int:
        """The group rank of the process with ``global_rank`` (``ValueError`` when it is not a member)."""
        try:
            return self._index[global_rank]
        except KeyError:
            raise ValueError(f"Global rank {global_rank} is not part of group {self.ranks}") from None

    def wait(self, requests: list, what: str, statuses: list | None = None) -> None:
        """Wait for ``requests`` within the group's timeout (:func:`ember.distributed._mpi.wait`)."""
        _mpi.wait(requests, self.timeout, what, self.comm.Get_rank(), statuses)

    def __repr__(self) -> str:
        return f"ProcessGroup(backend={self._backend!r}, ranks={self.ranks})"


class GroupMember:
    """``GroupMember.WORLD`` (the default group, once initialised) and ``NON_GROUP_MEMBER`` (what
    ``new_group`` returns on a rank outside the group)."""
    WORLD: ProcessGroup | None = None
    NON_GROUP_MEMBER = object()


def is_initialized() -> bool:
    """Whether the default process group exists.

    >>> import ember.distributed as dist
    >>> dist.is_initialized()
    False
    """
    return GroupMember.WORLD is not None


def _world() -> ProcessGroup:
    if GroupMember.WORLD is None:
        raise ValueError(_NOT_INITIALIZED)
    return GroupMember.WORLD


def resolve(group) -> ProcessGroup | None:
    """The group a collective runs on (``None`` -> the default group; ``None`` back for non-members)."""
    if group is None:
        return _world()
    _world()
    if group is GroupMember.NON_GROUP_MEMBER:
        return None
    if not isinstance(group, ProcessGroup):
        raise TypeError(f"group must be a ProcessGroup returned by new_group, or None; got {type(group).__name__}")
    return group


def _check_timeout(timeout) -> datetime.timedelta:
    if timeout is None:
        return default_pg_timeout
    if not isinstance(timeout, datetime.timedelta):
        raise TypeError(f"Expected timeout argument to be of type datetime.timedelta, got {type(timeout).__name__}")
    return timeout


def _check_backend(backend: str | None) -> str:
    name = "mpi" if backend is None else str(backend).lower()
    if name in _CPU_BACKENDS:
        return "mpi"
    if "nccl" in name:
        raise RuntimeError("ember.distributed: backend 'nccl' is not available in this version of Ember (its design "
                           "is NCCL through CuPy's cupy.cuda.nccl; it will ship once it can be tested on GPUs). Use "
                           "backend='mpi' (or 'gloo', which Ember runs on MPI) with CPU tensors.")
    raise ValueError(f"Invalid backend {backend!r}: Ember's distributed backend is 'mpi' ('gloo' runs on it too)")


def _check_launcher_env(name: str, value: int, given: int) -> None:
    """A rank or world size that a launcher (``RANK``, ``WORLD_SIZE``) or the caller states must be MPI's."""
    env = os.environ.get(name)
    for source, stated in ((f"the {name} environment variable", None if env is None else int(env)),
                           (f"the {name.lower()} argument", None if given == -1 else given)):
        if stated is not None and stated != value:
            raise ValueError(f"{source} says {stated} but MPI started this process as {name.lower()} {value}; "
                             f"start the job with `ember run` or mpiexec, which set both consistently")


def init_process_group(backend: str | None = None, init_method: str | None = None,
                       timeout: datetime.timedelta | None = None, world_size: int = -1, rank: int = -1,
                       store=None, group_name: str = "", pg_options=None, device_id=None) -> None:
    """Create the default process group: every process of the MPI job (``ember run`` or ``mpiexec``).

    ``backend`` is ``"mpi"`` (default); ``"gloo"``, which CPU scripts written for PyTorch name, runs on
    MPI too. Rank and world size come from MPI; ``init_method``, ``store``, ``MASTER_ADDR`` and
    ``MASTER_PORT`` are accepted and unused (MPI has its own rendezvous). ``timeout`` bounds every
    operation: a rank that waits longer for the others raises :class:`DistBackendError`. An uncaught
    exception on any rank then aborts the whole job, so no rank hangs on a failed one.

    >>> import ember.distributed as dist
    >>> dist.init_process_group("gloo")   # doctest: +SKIP
    """
    _check_backend(backend)
    timeout = _check_timeout(timeout)
    if GroupMember.WORLD is not None:
        raise ValueError("trying to initialize the default process group twice!")
    comm = _mpi.mpi().COMM_WORLD
    _check_launcher_env("RANK", comm.Get_rank(), rank)
    _check_launcher_env("WORLD_SIZE", comm.Get_size(), world_size)
    GroupMember.WORLD = ProcessGroup(comm, range(comm.Get_size()), timeout, backend="gloo" if backend and "gloo" in
                                     str(backend).lower() else "mpi")
    if comm.Get_size() > 1:
        _install_abort_on_exception()


def _install_abort_on_exception() -> None:
    """Make an uncaught exception on this rank end the whole job (MPI_Abort) after its traceback prints.

    Without it the failing rank would wait in MPI_Finalize and the others in their next collective.
    """
    previous = sys.excepthook
    if getattr(previous, "_ember_aborts", False):
        return

    def abort_job(kind, value, tb):
        previous(kind, value, tb)
        sys.stderr.flush()
        sys.stdout.flush()
        _mpi.mpi().COMM_WORLD.Abort(1)

    abort_job._ember_aborts = True
    sys.excepthook = abort_job


def destroy_process_group(group: ProcessGroup | None = None) -> None:
    """Forget ``group`` (default: the default group and with it every subgroup). MPI itself stays up
    until the process exits, so a later ``init_process_group`` works."""
    if group is None or group is GroupMember.WORLD:
        _world()
        GroupMember.WORLD = None
    elif isinstance(group, ProcessGroup) and group.comm != _mpi.mpi().COMM_WORLD:
        group.comm.Free()


def new_group(ranks: Sequence[int] | None = None, timeout: datetime.timedelta | None = None,
              backend: str | None = None, pg_options=None, use_local_synchronization: bool = False,
              group_desc: str | None = None, device_id=None):
    """A group of the given global ranks (all ranks call it, as in PyTorch); ranks outside it get
    ``GroupMember.NON_GROUP_MEMBER``, on which collectives do nothing.

    >>> import ember.distributed as dist
    >>> group = dist.new_group([0, 1])   # doctest: +SKIP
    """
    world = _world()
    _check_backend(backend)
    timeout = _check_timeout(timeout) if timeout is not None else datetime.timedelta(seconds=world.timeout)
    ranks = sorted(set(range(world.size()) if ranks is None else (int(r) for r in ranks)))
    bad = [r for r in ranks if not 0 <= r < world.size()]
    if bad:
        raise ValueError(f"new_group: ranks {bad} are not in the world of size {world.size()}")
    MPI = _mpi.mpi()
    comm = world.comm.Create(world.comm.Get_group().Incl(ranks))
    if comm == MPI.COMM_NULL:
        return GroupMember.NON_GROUP_MEMBER
    return ProcessGroup(comm, ranks, timeout, backend=world._backend)


def get_rank(group: ProcessGroup | None = None) -> int:
    """This process's rank in ``group`` (default group; ``-1`` for a group it is not in)."""
    g = resolve(group)
    return -1 if g is None else g.rank()


def get_world_size(group: ProcessGroup | None = None) -> int:
    """The number of processes in ``group`` (default group; ``-1`` for a group this process is not in)."""
    g = resolve(group)
    return -1 if g is None else g.size()


def get_backend(group: ProcessGroup | None = None) -> str:
    """The backend name of ``group``: ``"mpi"``, or ``"gloo"`` when the script asked for it."""
    g = resolve(group)
    if g is None:
        raise ValueError("Invalid process group specified")
    return g._backend


def get_process_group_ranks(group: ProcessGroup | None) -> list[int]:
    """The global ranks in ``group``."""
    g = resolve(group)
    return [] if g is None else list(g.ranks)


def get_global_rank(group: ProcessGroup, group_rank: int) -> int:
    """The global rank of the process with rank ``group_rank`` in ``group``."""
    g = resolve(group)
    if not 0 <= group_rank < g.size():
        raise ValueError(f"Group rank {group_rank} is not part of group {g.ranks}")
    return g.ranks[group_rank]


def get_group_rank(group: ProcessGroup, global_rank: int) -> int:
    """The rank within ``group`` of the process with ``global_rank``."""
    return resolve(group).group_rank(global_rank)
