"""``DistributedDataParallel``: training across processes, which needs ``ember.distributed``.

``ember.distributed.is_available()`` is ``False`` in this version of Ember, so building one raises a
``RuntimeError`` that says so; the name exists because scripts import it at the top even when they
run in one process. This module is where the implementation will live.
"""
from __future__ import annotations

from ..module import Module

__all__ = ["DistributedDataParallel"]


class DistributedDataParallel(Module):
    """PyTorch's ``DistributedDataParallel``; raises until ``ember.distributed`` is available."""

    def __init__(self, module: Module, *args, **kwargs) -> None:
        from ... import distributed
        distributed._unavailable("DistributedDataParallel")
