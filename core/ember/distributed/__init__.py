"""``ember.distributed``: PyTorch's ``torch.distributed`` namespace, not available in this version.

``is_available()`` is ``False`` and ``is_initialized()`` is ``False`` (no process group exists), so
the usual guards (``if dist.is_available() and dist.is_initialized(): ...``) take the one-process
path. Every other function of ``torch.distributed`` exists and raises a ``RuntimeError`` saying that
distributed training is not available yet, so scripts that import it at the top run, and fail only
when they actually try to train across processes. Multi-process training on MPI (``mpi4py``, the
``ember[distributed]`` extra) is planned.

>>> import ember.distributed as dist
>>> dist.is_available(), dist.is_initialized()
(False, False)
"""
from __future__ import annotations

from typing import NoReturn

__all__ = ["is_available", "is_initialized", "is_torchelastic_launched", "is_mpi_available", "is_gloo_available",
           "is_nccl_available"]

_MESSAGE = ("{what} is not available: this version of Ember has no distributed training "
            "(ember.distributed.is_available() is False). Run the script in a single process, without "
            "torchrun/mpiexec; multi-process training on MPI (the ember[distributed] extra) is planned.")

# torch.distributed's functions and classes that scripts call; each raises the message above.
_API = ("init_process_group", "destroy_process_group", "new_group", "get_rank", "get_world_size", "get_backend",
        "barrier", "monitored_barrier", "all_reduce", "reduce", "broadcast", "all_gather", "all_gather_into_tensor",
        "all_gather_object", "gather", "gather_object", "scatter", "scatter_object_list", "reduce_scatter",
        "reduce_scatter_tensor", "all_to_all", "all_to_all_single", "send", "recv", "isend", "irecv",
        "broadcast_object_list", "batch_isend_irecv", "P2POp", "ReduceOp", "get_process_group_ranks",
        "get_global_rank", "get_group_rank", "get_node_local_rank", "init_device_mesh", "TCPStore", "FileStore",
        "HashStore")


def _unavailable(what: str) -> NoReturn:
    raise RuntimeError(_MESSAGE.format(what=what))


def is_available() -> bool:
    """``False``: this version of Ember has no distributed backend."""
    return False


def is_initialized() -> bool:
    """``False``: no process group can exist."""
    return False


def is_torchelastic_launched() -> bool:
    """``False``: Ember scripts are not started by torchrun's elastic agent."""
    return False


def is_mpi_available() -> bool:
    return False


def is_gloo_available() -> bool:
    return False


def is_nccl_available() -> bool:
    return False


def _raiser(name: str):
    def unavailable(*args, **kwargs) -> NoReturn:
        _unavailable(f"ember.distributed.{name}")
    unavailable.__name__ = unavailable.__qualname__ = name
    unavailable.__doc__ = f"PyTorch's ``torch.distributed.{name}``: raises, distributed training is not available."
    return unavailable


def __getattr__(name: str):
    if name in _API:
        return _raiser(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_API))
