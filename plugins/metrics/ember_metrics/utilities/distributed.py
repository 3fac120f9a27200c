"""Gathering metric states across processes.

``Metric.sync`` calls a *gather function* ``fn(tensor, group=None) -> list[Tensor]`` (one tensor per
process, in rank order) for every state. :func:`gather_all_tensors` is the default; it runs over
``ember.distributed`` when a process group is initialised and is a no-op (``[tensor]``) otherwise.
Any callable with the same contract can be passed as ``dist_sync_fn`` (tests simulate processes
with threads that way).
"""
from __future__ import annotations

import importlib
import sys
from typing import Callable

import ember
from ember import Tensor

__all__ = ["gather_all_tensors", "gather_uneven", "distributed_available"]


def distributed_available() -> bool:
    """True when ``ember.distributed`` is in use and its default process group is initialised."""
    dist = sys.modules.get("ember.distributed")  # it cannot be initialised without being imported
    is_init = getattr(dist, "is_initialized", None)
    return bool(is_init and is_init())


def gather_all_tensors(result: Tensor, group=None) -> list[Tensor]:
    """Gather ``result`` from all processes; shapes may differ between processes (uneven or
    empty "cat" states): they are padded for the collective and trimmed back afterwards."""
    if not distributed_available():
        return [result]
    dist = importlib.import_module("ember.distributed")
    world = dist.get_world_size(group)

    def all_gather(t: Tensor) -> list[Tensor]:
        out = [ember.zeros_like(t) for _ in range(world)]
        dist.all_gather(out, t, group=group)
        return out

    return gather_uneven(result, all_gather)


_DTYPES = [ember.float32, ember.float64, ember.float16, ember.int64, ember.int32, ember.int16, ember.int8,
           ember.uint8, ember.bool]


def gather_uneven(tensor: Tensor, all_gather: Callable[[Tensor], list[Tensor]]) -> list[Tensor]:
    """All-gather tensors whose shapes differ between processes over a collective that needs equal
    shapes (``all_gather(t) -> list`` of every process's ``t``).

    Each process first shares (ndim, is-empty, dtype) and its shape; tensors are zero-padded to the
    element-wise largest shape, gathered, and trimmed to their owner's shape. An empty state may be
    1-d while the others are n-d (an empty ``[]`` list state): it takes the others' trailing shape
    and dtype and contributes no rows.
    """
    dev = tensor.device
    header = ember.tensor([tensor.ndim, int(tensor.numel() == 0), _DTYPES.index(tensor.dtype)], device=dev)
    headers = [h.tolist() for h in all_gather(header)]
    max_nd = max(h[0] for h in headers)
    nonempty = [h for h in headers if not h[1]]
    dtype = _DTYPES[nonempty[0][2]] if nonempty else tensor.dtype
    if any(h[0] != max_nd for h in nonempty):
        raise ValueError(f"cannot gather non-empty states of different ranks: {[h[0] for h in nonempty]}")
    shape = list(tensor.shape) + [0] * (max_nd - tensor.ndim)
    shapes = [s.tolist() for s in all_gather(ember.tensor(shape, dtype=ember.int64, device=dev))]
    target = [max(s[d] for s in shapes) for d in range(max_nd)]
    local = tensor.to(dtype)
    if tensor.ndim < max_nd:  # empty 1-d state: adopt the common trailing shape
        local = local.reshape([0] + target[1:])
        shape = [0] + target[1:]
    if list(local.shape) != target:
        padded = ember.zeros(target, dtype=dtype, device=dev)
        if local.numel():
            padded[tuple(slice(0, n) for n in shape)] = local
        local = padded
    gathered = all_gather(local)
    out = []
    for g, h, s in zip(gathered, headers, shapes):
        own = [0] + target[1:] if h[0] < max_nd else s
        out.append(g[tuple(slice(0, n) for n in own)] if max_nd else g)
    return out
