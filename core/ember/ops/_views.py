"""Autograd for in-place changes made through a view (``y[0] += 1``, ``y.narrow(0, 1, 2).mul_(w)``).

When an in-place op on a view needs autograd, the view's base is rebased onto a ``CopySlices``
node — the base with the view's elements replaced by the op's result — and the view becomes a
gather from the new base. Elements are identified by their flat position in the base's storage,
which works for every strided view of a C-contiguous base.
"""
from __future__ import annotations

import numpy as np

from .._tensor import Tensor, _make
from ..autograd.function import Op
from ._dispatch import record


def _address(arr) -> int:
    return arr.__array_interface__["data"][0] if isinstance(arr, np.ndarray) else int(arr.data.ptr)


def flat_positions(view: np.ndarray, base: np.ndarray):
    """The flat index in ``base`` of every element of ``view`` (None if that cannot be worked out, as for
    a view of other element type: ``real``/``imag``/``view_as_real`` of a complex base)."""
    if not base.flags.c_contiguous or view.dtype != base.dtype:
        return None
    itemsize = base.itemsize
    start = _address(view) - _address(base)
    if start % itemsize or any(s % itemsize for s in view.strides):
        return None
    flat = np.arange(base.size, dtype=np.int64)
    first = start // itemsize
    strides = tuple(s // itemsize * flat.itemsize for s in view.strides)
    return np.lib.stride_tricks.as_strided(flat[first:], shape=view.shape, strides=strides).copy()


class CopySlices(Op):
    """``base`` with the elements at ``positions`` replaced by ``values``."""

    @staticmethod
    def backward(ctx, g):
        e = ctx.needs_input_grad
        pos = _make(ctx.positions_device, g._device)
        flat = g.reshape(-1)
        g_base = flat.index_fill(0, pos.reshape(-1), 0).reshape(g.shape) if e[0] else None
        g_values = flat[pos] if e[1] else None
        return g_base, g_values


class GatherPositions(Op):
    """The elements of ``base`` at flat ``positions`` (how a rebased view reads its base)."""

    @staticmethod
    def backward(ctx, g):
        pos = _make(ctx.positions_device, g._device)
        return g.new_zeros(ctx.base_numel).index_add(0, pos.reshape(-1), g.reshape(-1)).reshape(ctx.base_shape)


def rebase_view(view: Tensor, result: Tensor) -> bool:
    """Write ``result`` into ``view`` and rebase its base's graph; False if the layout is unsupported."""
    base = view._base
    positions = flat_positions(view._data, base._data)
    if positions is None:
        return False
    dev = base._device
    pos_dev = positions if dev.type == "cpu" else dev.backend.from_host(positions, dev.index)
    view._data[...] = result._data
    new_base = record(CopySlices, base._data, dev, (base, result))
    node = new_base.grad_fn
    node.positions_device = pos_dev
    base.grad_fn, base._output_nr, base._rg = node, 0, True
    gathered = record(GatherPositions, view._data, dev, (base,))
    g = gathered.grad_fn
    g.positions_device, g.base_numel, g.base_shape = pos_dev, base._data.size, base._data.shape
    view.grad_fn, view._output_nr, view._rg = g, 0, True
    return True
