"""``ember.distributed``: PyTorch's ``torch.distributed`` on MPI (the ``ember[distributed]`` extra).

Start a job with ``ember run -n 2 train.py`` (or ``mpiexec -n 2 python train.py``); each process calls
``init_process_group()`` (``backend="mpi"``; ``"gloo"`` runs on MPI too, so CPU scripts written for
PyTorch and torchrun work unchanged) and then the collectives, in place on tensors, with PyTorch's
names and arguments. ``async_op=True`` returns a :class:`Work` whose ``wait()`` finishes the operation.

mpi4py is imported when a process group is created, not by ``import ember.distributed``. Every
operation is bounded by the group's ``timeout``, and an uncaught exception on one rank aborts the
job, so a failed rank makes the others fail instead of hang. NCCL (GPU tensors) is not available yet:
``backend="nccl"`` raises saying so.

>>> import ember.distributed as dist
>>> dist.is_initialized()
False
>>> dist.ReduceOp.SUM
<RedOpType.SUM: 0>
"""
from __future__ import annotations

import os
from typing import NoReturn

from . import _mpi
from ._collectives import (P2POp, Work, all_gather, all_gather_into_tensor, all_reduce, all_to_all,  # noqa: F401
                           all_to_all_single, barrier, batch_isend_irecv, broadcast, gather, irecv, isend,
                           monitored_barrier, recv, reduce, reduce_scatter, reduce_scatter_tensor, scatter, send)
from ._group import (GroupMember, ProcessGroup, default_pg_timeout, destroy_process_group, get_backend,  # noqa: F401
                     get_global_rank, get_group_rank, get_process_group_ranks, get_rank, get_world_size,
                     init_process_group, is_initialized, new_group)
from ._mpi import DistBackendError, DistError  # noqa: F401
from ._objects import all_gather_object, broadcast_object_list, gather_object, scatter_object_list  # noqa: F401
from ._reduce_op import ReduceOp  # noqa: F401

__all__ = ["is_available", "is_initialized", "is_mpi_available", "is_gloo_available", "is_nccl_available",
           "is_torchelastic_launched", "init_process_group", "destroy_process_group", "new_group", "get_rank",
           "get_world_size", "get_backend", "get_process_group_ranks", "get_global_rank", "get_group_rank",
           "get_node_local_rank", "barrier", "monitored_barrier", "all_reduce", "broadcast", "reduce",
           "all_gather", "all_gather_into_tensor", "reduce_scatter", "reduce_scatter_tensor", "gather", "scatter",
           "all_to_all", "all_to_all_single", "send", "recv", "isend", "irecv", "P2POp", "batch_isend_irecv",
           "all_gather_object", "broadcast_object_list", "gather_object", "scatter_object_list", "ReduceOp", "Work",
           "ProcessGroup", "GroupMember", "DistError", "DistBackendError", "default_pg_timeout"]

# torch.distributed names Ember does not provide: rendezvous stores (MPI does its own rendezvous)
# and device meshes. Each raises an error saying so when called.
_UNSUPPORTED = ("TCPStore", "FileStore", "HashStore", "PrefixStore", "init_device_mesh")


def is_available() -> bool:
    """Whether distributed training can run: mpi4py is installed (``pip install 'ember[distributed]'``)."""
    return _mpi.available()


def is_mpi_available() -> bool:
    """Whether the MPI backend is available (mpi4py is installed)."""
    return _mpi.available()


def is_gloo_available() -> bool:
    """Whether ``backend="gloo"`` works: Ember runs it on MPI, so when mpi4py is installed."""
    return _mpi.available()


def is_nccl_available() -> bool:
    """``False``: the NCCL backend is not available in this version of Ember."""
    return False


def is_torchelastic_launched() -> bool:
    """Whether the process was started by torchrun's elastic agent (``TORCHELASTIC_RUN_ID`` is set)."""
    return os.environ.get("TORCHELASTIC_RUN_ID") is not None


def get_node_local_rank(fallback_rank: int | None = None) -> int:
    """The rank on this machine (``LOCAL_RANK``, which ``ember run`` sets), else ``fallback_rank``."""
    if "LOCAL_RANK" in os.environ:
        return int(os.environ["LOCAL_RANK"])
    if fallback_rank is not None:
        return int(fallback_rank)
    raise RuntimeError("LOCAL_RANK is not in the environment. Consider passing fallback_rank to allow "
                       "`get_node_local_rank` to work, assuming you are not running in a multi-device context "
                       "and want the code to run locally instead.")


def _unsupported(name: str):
    def unsupported(*args, **kwargs) -> NoReturn:
        raise RuntimeError(f"ember.distributed.{name} is not available: Ember's MPI backend does its own rendezvous "
                           f"and has no key-value stores or device meshes")
    unsupported.__name__ = unsupported.__qualname__ = name
    return unsupported


def __getattr__(name: str):
    if name in _UNSUPPORTED:
        return _unsupported(name)
    if name == "nn":   # ember.distributed.nn: differentiable collectives (imported on first use)
        import importlib
        return importlib.import_module(f"{__name__}.nn")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_UNSUPPORTED) | {"nn"})
