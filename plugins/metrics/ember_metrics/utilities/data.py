"""Reductions used to combine metric states (``dist_reduce_fx``) and small data helpers."""
from __future__ import annotations

from typing import Any, Callable

import ember
from ember import Tensor

__all__ = ["dim_zero_cat", "dim_zero_sum", "dim_zero_mean", "dim_zero_max", "dim_zero_min",
           "apply_to_collection"]


def dim_zero_cat(x: Tensor | list) -> Tensor:
    """Concatenate a list state along dim 0 (0-d pieces count as one element each).

    Empty pieces are skipped, so an uneven or partly empty state concatenates cleanly; an entirely
    empty list raises ``ValueError("No samples to concatenate")`` as in torchmetrics.
    """
    if isinstance(x, Tensor):
        return x
    if not x:
        raise ValueError("No samples to concatenate")
    pieces = [p.unsqueeze(0) if p.ndim == 0 else p for p in x]
    nonempty = [p for p in pieces if p.numel() > 0]
    if not nonempty:
        return pieces[0]
    return nonempty[0] if len(nonempty) == 1 else ember.cat(nonempty, dim=0)


def dim_zero_sum(x: Tensor) -> Tensor:
    """Sum over dim 0 (the stacked copies of a state)."""
    return x.sum(dim=0)


def dim_zero_mean(x: Tensor) -> Tensor:
    """Mean over dim 0."""
    return x.mean(dim=0)


def dim_zero_max(x: Tensor) -> Tensor:
    """Maximum over dim 0."""
    return x.amax(dim=0)


def dim_zero_min(x: Tensor) -> Tensor:
    """Minimum over dim 0."""
    return x.amin(dim=0)


def apply_to_collection(data: Any, dtype: type, fn: Callable) -> Any:
    """Apply ``fn`` to every ``dtype`` leaf of nested lists/tuples/dicts."""
    if isinstance(data, dtype):
        return fn(data)
    if isinstance(data, dict):
        return type(data)((k, apply_to_collection(v, dtype, fn)) for k, v in data.items())
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return type(data)(*(apply_to_collection(v, dtype, fn) for v in data))
    if isinstance(data, (list, tuple)):
        return type(data)(apply_to_collection(v, dtype, fn) for v in data)
    return data
