"""``ember.multiprocessing``: Python's ``multiprocessing`` with tensors in shared memory (PyTorch's shape).

Everything of :mod:`multiprocessing` is here (``Process``, ``Queue``, ``set_start_method``,
``get_context``, ...), plus :func:`spawn`. Importing this module teaches multiprocessing's pickler to
pass a tensor whose data is in shared memory (``Tensor.share_memory_()``, ``Module.share_memory()``)
by reference: the receiving process maps the same memory, so updates are seen by all of them, which
is what Hogwild-style training (several processes updating one model) needs. Other tensors are
copied, as any pickled object (PyTorch moves them to shared memory on the way; share them yourself).

>>> import ember.multiprocessing as mp
>>> model = ember.nn.Linear(2, 1).share_memory()
>>> model.weight.is_shared()
True
"""
from __future__ import annotations

import multiprocessing
from multiprocessing import *  # noqa: F401,F403

from . import _reductions
from .spawn import ProcessContext, ProcessExitedException, ProcessRaisedException, spawn, start_processes  # noqa: F401

__all__ = list(multiprocessing.__all__) + ["spawn", "start_processes", "ProcessContext", "ProcessRaisedException",
                                           "ProcessExitedException", "get_sharing_strategy", "set_sharing_strategy",
                                           "get_all_sharing_strategies"]

_reductions.init_reductions()

_STRATEGIES = {"file_system"}


def get_all_sharing_strategies() -> set[str]:
    """``{"file_system"}``: shared tensors are files in ``/dev/shm``, mapped by every process using them."""
    return set(_STRATEGIES)


def get_sharing_strategy() -> str:
    return "file_system"


def set_sharing_strategy(new_strategy: str) -> None:
    """Accepts ``"file_system"`` (Ember's only strategy); ``"file_descriptor"`` raises a ``ValueError``."""
    if new_strategy not in _STRATEGIES:
        raise ValueError(f"sharing strategy {new_strategy!r} is not supported; Ember shares tensors through "
                         f"'file_system' only")
