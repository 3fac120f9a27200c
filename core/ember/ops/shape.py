"""Shape operations: views (reshape, permute, expand, squeeze, ...) and joins/splits (cat, stack, split, ...).

View ops return tensors that share storage with their input (``mark_view``), like PyTorch's.
"""
from __future__ import annotations

import numpy as np

from .._tensor import Tensor, _make, _wrap_dim
from ..autograd.function import Function
from ..autograd.grad_mode import STATE
from ._dispatch import mark_view, record, xp_of

__all__ = ["reshape", "permute", "transpose", "swapaxes", "swapdims", "t", "unsqueeze", "squeeze",
           "broadcast_to"]


def _shape_arg(args) -> tuple:
    if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
        return tuple(int(s) for s in args[0])
    return tuple(int(s) for s in args)


def infer_shape(shape: tuple, numel: int) -> tuple:
    """Resolve a single -1 in ``shape`` and check the element count (PyTorch's messages)."""
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"invalid shape dimension {s}")
            known *= s
    if neg:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = shape[:neg[0]] + (numel // known,) + shape[neg[0] + 1:]
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def _view_result(cls, out, x: Tensor, saved_attrs: dict | None = None) -> Tensor:
    """Wrap a view array of ``x``, recording ``cls`` when a gradient is needed."""
    if x._rg and STATE.enabled:
        res = record(cls, out, x._device, (x,))
        if saved_attrs:
            res.grad_fn.__dict__.update(saved_attrs)
    else:
        res = _make(out, x._device)
    if out.base is not None:  # a reshape that had to copy is not a view
        mark_view(res, x)
    return res


class Reshape(Function):
    _array_forward = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x._data.shape
        return x._data.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape), None


def reshape(input: Tensor, *shape) -> Tensor:
    """Same data with a new shape (a view when the memory layout allows, as in PyTorch)."""
    shape = infer_shape(_shape_arg(shape), input._data.size)
    d = input._data
    if d.shape == shape:
        out = d.view() if isinstance(d, np.ndarray) else d.reshape(shape)
    else:
        out = d.reshape(shape)
    return _view_result(Reshape, out, input, {"in_shape": d.shape})


def _view(self: Tensor, *shape) -> Tensor:
    """Like ``reshape`` but never copies: errors when the strides don't allow a view."""
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer, tuple, list)):
        return self.to(shape[0])  # view(dtype) is not supported beyond same-size casts
    new = infer_shape(_shape_arg(shape), self._data.size)
    d = self._data
    try:
        out = d.view()
        out.shape = new  # raises when a copy would be needed
    except AttributeError:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one dimension spans "
            "across two contiguous subspaces). Use .reshape(...) instead.") from None
    return _view_result(Reshape, out, self, {"in_shape": d.shape})


class Permute(Function):
    _array_forward = True

    @staticmethod
    def backward(ctx, g):
        return g.permute(tuple(np.argsort(ctx.dims).tolist()))


def _norm_dims(dims, ndim) -> tuple:
    dims = tuple(_wrap_dim(int(d), ndim) for d in dims)
    if sorted(dims) != list(range(ndim)):
        raise RuntimeError(f"permute(): dims {list(dims)} is not a permutation of the {ndim} dimensions")
    return dims


def permute(input: Tensor, *dims) -> Tensor:
    """Reorder dimensions (a view)."""
    dims = _norm_dims(_shape_arg(dims), input._data.ndim)
    return _view_result(Permute, input._data.transpose(dims), input, {"dims": dims})


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions (a view)."""
    n = input._data.ndim
    if n == 0:
        return input
    dims = list(range(n))
    a, b = _wrap_dim(dim0, n), _wrap_dim(dim1, n)
    dims[a], dims[b] = dims[b], dims[a]
    return _view_result(Permute, input._data.transpose(dims), input, {"dims": tuple(dims)})


swapaxes = swapdims = transpose


def t(input: Tensor) -> Tensor:
    """Transpose a tensor of at most 2 dimensions."""
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input._data.ndim}D")
    return transpose(input, 0, 1) if input._data.ndim == 2 else input


def _mT(self: Tensor) -> Tensor:
    if self._data.ndim < 2:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor.")
    return transpose(self, -2, -1)


def _T(self: Tensor) -> Tensor:
    n = self._data.ndim
    return permute(self, tuple(range(n - 1, -1, -1))) if n > 1 else self


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a dimension of size 1 at ``dim`` (a view)."""
    n = input._data.ndim + 1
    d = _wrap_dim(dim, n)
    shape = input._data.shape[:d] + (1,) + input._data.shape[d:]
    return reshape(input, shape)


def squeeze(input: Tensor, dim=None) -> Tensor:
    """Remove dimensions of size 1 (all of them, or those in ``dim`` that are 1)."""
    shape = input._data.shape
    if dim is None:
        new = tuple(s for s in shape if s != 1)
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        drop = {_wrap_dim(d, len(shape)) for d in dims} if shape else set()
        new = tuple(s for i, s in enumerate(shape) if not (i in drop and s == 1))
    return reshape(input, new)


class Expand(Function):
    _array_forward = True

    @staticmethod
    def backward(ctx, g):
        # The engine sums the gradient back to the input's shape.
        return g


def broadcast_to(input: Tensor, shape) -> Tensor:
    """A read-only broadcast view of ``input`` with ``shape`` (-1 keeps a dimension)."""
    shape = tuple(int(s) for s in shape)
    d = input._data
    lead = len(shape) - d.ndim
    if lead < 0:
        raise RuntimeError(f"expand: the number of sizes provided ({len(shape)}) must be greater or equal to "
                           f"the number of dimensions in the tensor ({d.ndim})")
    full = tuple(d.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(shape))
    try:
        out = xp_of(input).broadcast_to(d, full)
    except ValueError:
        raise RuntimeError(f"The expanded size of the tensor must match the existing size at non-singleton "
                           f"dimensions. Target sizes: {list(shape)}. Tensor sizes: {list(d.shape)}") from None
    return _view_result(Expand, out, input)


def _expand(self: Tensor, *sizes) -> Tensor:
    return broadcast_to(self, _shape_arg(sizes))


def _expand_as(self: Tensor, other: Tensor) -> Tensor:
    return broadcast_to(self, other._data.shape)


def _attach():
    T = Tensor
    T.reshape = reshape
    T.view = _view
    T.view_as = lambda self, other: _view(self, other._data.shape)
    T.reshape_as = lambda self, other: reshape(self, other._data.shape)
    T.permute = permute
    T.transpose = transpose
    T.swapaxes = T.swapdims = transpose
    T.t = t
    T.mT = property(_mT)
    T.T = property(_T)
    T.unsqueeze = unsqueeze
    T.squeeze = squeeze
    T.expand = _expand
    T.expand_as = _expand_as
    T.broadcast_to = broadcast_to


_attach()
