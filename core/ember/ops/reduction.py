"""Reductions: sum, mean, var/std, max/min, prod, norm, logsumexp, cumulative ops, all/any, softmax."""
from __future__ import annotations

import numpy as np

from .. import _dtype as dt
from .._tensor import Tensor, _make, _wrap_dim
from ..autograd.function import Function
from ..autograd.grad_mode import STATE
from ._dispatch import as_array, record, xp_of

__all__ = ["sum"]


def reduce_dims(dim, ndim: int):
    """``dim`` (None, int or tuple) as a sorted tuple of non-negative axes, or None for all."""
    if dim is None:
        return None
    if isinstance(dim, (int, np.integer)):
        return (_wrap_dim(int(dim), ndim),)
    dims = tuple(sorted({_wrap_dim(int(d), ndim) for d in dim}))
    return dims if dims else None


def expand_reduced(g: Tensor, in_shape: tuple, dims, keepdim: bool) -> Tensor:
    """Broadcast the gradient of a reduction over ``dims`` back to ``in_shape``."""
    if not keepdim and in_shape:
        axes = range(len(in_shape)) if dims is None else dims
        shape = tuple(1 if i in set(axes) else s for i, s in enumerate(in_shape))
        g = g.reshape(shape)
    return g.expand(in_shape)


class Sum(Function):
    _array_forward = True

    @staticmethod
    def backward(ctx, g):
        return expand_reduced(g, ctx.in_shape, ctx.dims, ctx.keepdim)


def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Sum over all elements or over ``dim`` (int or tuple). Integer and bool inputs sum to int64."""
    d = input._data
    dims = reduce_dims(dim, d.ndim)
    if dtype is not None:
        d = d.astype(dt.to_dtype(dtype).np)
    elif d.dtype.kind in "biu":
        d = d.astype(np.int64)
    out = as_array(d.sum(axis=dims, keepdims=keepdim))
    if input._rg and STATE.enabled:
        res = record(Sum, out, input._device, (input,))
        node = res.grad_fn
        node.in_shape, node.dims, node.keepdim = d.shape, dims, keepdim
        return res
    return _make(out, input._device)


Tensor.sum = sum
