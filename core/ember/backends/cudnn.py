"""``ember.backends.cudnn``: cuDNN's flags with PyTorch's defaults. Ember does not use cuDNN, so
:func:`is_available` is ``False`` and the flags are only stored (see :mod:`ember.backends`).

>>> ember.backends.cudnn.benchmark = True      # accepted; Ember's convolutions have one algorithm
"""
from __future__ import annotations

import contextlib
from typing import Iterator

__all__ = ["enabled", "benchmark", "benchmark_limit", "deterministic", "allow_tf32", "is_available", "version",
           "flags"]

enabled = True
benchmark = False
benchmark_limit = None   # as PyTorch reports it where cuDNN is absent (10 where it is present)
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    """Always ``False``: Ember's kernels do not use cuDNN."""
    return False


def version() -> int | None:
    """The cuDNN version, as PyTorch reports it when cuDNN is absent: ``None``."""
    return None


@contextlib.contextmanager
def flags(enabled: bool = False, benchmark: bool = False, benchmark_limit: int = 10, deterministic: bool = False,
          allow_tf32: bool = True) -> Iterator[None]:
    """Set the flags for the duration of the block, then restore them (``torch.backends.cudnn.flags``)."""
    names = ("enabled", "benchmark", "benchmark_limit", "deterministic", "allow_tf32")
    new = dict(zip(names, (enabled, benchmark, benchmark_limit, deterministic, allow_tf32)))
    module = globals()
    old = {n: module[n] for n in names}
    module.update(new)
    try:
        yield
    finally:
        module.update(old)
