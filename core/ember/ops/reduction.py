"""Reductions: sum, mean, var/std, max/min, prod, norm, logsumexp, cumulative ops, all/any, softmax.

Forwards run on the device's array module; backwards are written in Ember ops so they can be
differentiated again. Gradients of a reduction over ``dims`` are brought back to the input's
shape with :func:`expand_reduced`.
"""
from __future__ import annotations

import builtins
import collections
import math
import sys
import types
import warnings

import numpy as np

from .. import _dtype as dt
from .._tensor import Tensor, _make, _wrap_dim
from ..autograd.function import Op
from ..autograd.grad_mode import STATE
from ._dispatch import as_array, record, save, xp_of
from ._registry import Registry
from .elementwise import isnan, maximum, minimum, where

registry = Registry(globals())
__all__ = registry.exported   # filled in by the @registry decorators below

_INF = float("inf")


# ---------------------------------------------------------------------------------------
# return_types: named tuples for ops with several results (PyTorch's torch.return_types)
# ---------------------------------------------------------------------------------------
return_types = types.ModuleType("ember.return_types", "Named tuples returned by ops with several results.")
sys.modules.setdefault("ember.return_types", return_types)
registry.export("return_types")


def _return_type_repr(self) -> str:
    body = ",\n".join(f"{f}={v!r}" for f, v in zip(self._fields, self))
    return f"ember.return_types.{type(self).__name__}(\n{body})"


def make_return_type(name: str, fields: tuple):
    """The named tuple ``ember.return_types.<name>`` with ``fields`` (created once, then shared)."""
    cls = getattr(return_types, name, None)
    if cls is None:
        cls = collections.namedtuple(name, fields)
        cls.__module__ = "ember.return_types"
        cls.__repr__ = _return_type_repr
        setattr(return_types, name, cls)
    return cls


_MaxT = make_return_type("max", ("values", "indices"))
_MinT = make_return_type("min", ("values", "indices"))
make_return_type("median", ("values", "indices"))
make_return_type("nanmedian", ("values", "indices"))
_AminmaxT = make_return_type("aminmax", ("min", "max"))
_CummaxT = make_return_type("cummax", ("values", "indices"))
_CumminT = make_return_type("cummin", ("values", "indices"))


# ---------------------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------------------
def reduce_dims(dim, ndim: int):
    """``dim`` (None, int or tuple) as a sorted tuple of non-negative axes, or None for all.

    An empty tuple means all dimensions (as in PyTorch); a 0-d tensor accepts dim 0 / -1.
    """
    if dim is None:
        return None
    if isinstance(dim, (int, np.integer)):
        d = _wrap_dim(int(dim), ndim)
        return (d,) if ndim else None
    dims = [_wrap_dim(int(d), ndim) for d in dim]
    if len(set(dims)) != len(dims):
        dup = next(d for d in dims if dims.count(d) > 1)
        raise RuntimeError(f"dim {dup} appears multiple times in the list of dims")
    return tuple(sorted(dims)) if dims and ndim else None


def _one_dim(name: str, dim, ndim: int) -> int:
    """A single int ``dim`` (ops that reduce one dimension only), normalised."""
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{name}(): argument 'dim' must be int, not {type(dim).__name__}")
    return _wrap_dim(int(dim), ndim)


def keep_shape(in_shape: tuple, dims) -> tuple:
    """The shape of a reduction over ``dims`` with ``keepdim=True``."""
    if dims is None:
        return (1,) * len(in_shape)
    return tuple(1 if i in dims else s for i, s in enumerate(in_shape))


def _keepdim(t: Tensor, in_shape: tuple, dims, keepdim: bool) -> Tensor:
    """A reduced tensor reshaped as if reduced with ``keepdim=True`` (so it broadcasts)."""
    if keepdim or not in_shape:
        return t
    return t.reshape(keep_shape(in_shape, dims))


def expand_reduced(g: Tensor, in_shape: tuple, dims, keepdim: bool) -> Tensor:
    """Broadcast the gradient of a reduction over ``dims`` back to ``in_shape``."""
    return _keepdim(g, in_shape, dims, keepdim).expand(in_shape)


def _count(shape: tuple, dims) -> int:
    """How many elements each output of a reduction over ``dims`` combines."""
    return math.prod(shape) if dims is None else math.prod(shape[d] for d in dims)


_TORCH_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "int8": "Char", "int16": "Short",
                "int32": "Int", "int64": "Long", "uint8": "Byte", "bool": "Bool",
                "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def _tname(np_dtype) -> str:
    """PyTorch's name for a dtype in error messages (``Long``, ``Float``, ...)."""
    return _TORCH_NAMES.get(np.dtype(np_dtype).name, str(np_dtype))


def _positions(n: int, dim: int, ndim: int, device) -> Tensor:
    """0..n-1 laid along ``dim`` of an ``ndim``-d tensor (size 1 elsewhere), for index masks."""
    shape = [1] * ndim
    shape[dim] = n
    return _make(device.xp.arange(n, dtype=np.int64).reshape(shape), device)


def _eye_along(n: int, dim: int, ndim: int, device) -> Tensor:
    """Bool identity over dims ``dim`` and ``dim + 1`` of an ``ndim + 1``-d tensor."""
    xp = device.xp
    eye = xp.eye(n, dtype=bool).reshape((n, n) + (1,) * (ndim - dim - 1))
    return _make(eye, device)


def _out(cls, out, x: Tensor, saved=None, save_output=False, **attrs) -> Tensor:
    """Wrap a reduction's result; record ``cls`` (with ``attrs`` on the node) when ``x`` needs a gradient."""
    if x._rg and STATE.enabled and out.dtype.kind in "fc":
        res = record(cls, out, x._device, (x,), saved, save_output)
        res.grad_fn.__dict__.update(attrs)
        return res
    return _make(out, x._device)


def _acc_dtype(d):
    """Accumulate float16 in float32 (as PyTorch does); others in their own dtype."""
    return np.float32 if d.dtype == np.float16 else None


# ---------------------------------------------------------------------------------------
# sum, mean, nansum, nanmean
# ---------------------------------------------------------------------------------------
class Sum(Op):
    @staticmethod
    def backward(ctx, g):
        return expand_reduced(g, ctx.in_shape, ctx.dims, ctx.keepdim)


@registry.op(method=True, numpy_aliases=True)
def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Sum over all elements or over ``dim`` (int or tuple). Integer and bool inputs sum to int64.

    >>> ember.tensor([[1, 2], [3, 4]]).sum(0)   # tensor([4, 6])
    """
    d = input._data
    dims = reduce_dims(dim, d.ndim)
    if dtype is not None:
        target = dt.to_dtype(dtype).np
        d = d.astype(target, copy=False)
    elif d.dtype.kind in "biu":
        target = np.int64
    else:
        target = d.dtype
    out = d.sum(axis=dims, keepdims=keepdim, dtype=_acc_dtype(d) or target)
    if out.dtype != target:
        out = out.astype(target)
    return _out(Sum, as_array(out), input, in_shape=d.shape, dims=dims, keepdim=keepdim)


class Mean(Op):
    @staticmethod
    def backward(ctx, g):
        return expand_reduced(g / ctx.n, ctx.in_shape, ctx.dims, ctx.keepdim)


def _mean_array(d, dims, keepdim):
    n = _count(d.shape, dims)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = d.sum(axis=dims, keepdims=keepdim, dtype=_acc_dtype(d))
        return as_array((s / n).astype(d.dtype, copy=False)), n


@registry.op(method=True, numpy_aliases=True)
def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Arithmetic mean over all elements or over ``dim``; floating-point inputs (or ``dtype``) only."""
    d = input._data
    if dtype is not None:
        target = dt.to_dtype(dtype)
        if not (target.is_floating_point or target.is_complex):
            raise RuntimeError("mean(): could not infer output dtype. Optional dtype must be either a floating "
                               f"point or complex dtype. Got: {_tname(target.np)}")
        d = d.astype(target.np, copy=False)
    elif d.dtype.kind not in "fc":
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a floating point "
                           f"or complex dtype. Got: {_tname(d.dtype)}")
    dims = reduce_dims(dim, d.ndim)
    out, n = _mean_array(d, dims, keepdim)
    return _out(Mean, out, input, in_shape=d.shape, dims=dims, keepdim=keepdim, n=n)


@registry.op(method=True, numpy_aliases=True)
def nansum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Sum treating NaN as zero."""
    if input._data.dtype.kind == "f":
        input = where(isnan(input), 0.0, input)
    return sum(input, dim, keepdim, dtype=dtype)


@registry.op(method=True, numpy_aliases=True)
def nanmean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Mean of the non-NaN elements (floating-point inputs only)."""
    if input._data.dtype.kind != "f":
        raise RuntimeError("nanmean(): expected input to have floating point or complex dtype but got "
                           f"{_tname(input._data.dtype)}")
    valid = ~isnan(input)
    return nansum(input, dim, keepdim, dtype=dtype) / valid.sum(dim, keepdim)


# ---------------------------------------------------------------------------------------
# var, std, var_mean, std_mean
# ---------------------------------------------------------------------------------------
def _var_args(name: str, input: Tensor, dim, unbiased, correction):
    """Resolve PyTorch's overloads: var(x, unbiased), var(x, dim, unbiased, keepdim), correction=."""
    if isinstance(dim, bool):
        if unbiased is not None:
            raise TypeError(f"{name}(): got a bool for 'dim' and also 'unbiased'")
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{name}(): pass either 'unbiased' or 'correction', not both")
    if correction is None:
        correction = 0 if unbiased is False else 1
    if input._data.dtype.kind not in "fc":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    return reduce_dims(dim, input._data.ndim), correction


def _var_array(name, d, dims, keepdim, correction):
    n = _count(d.shape, dims)
    dof = builtins.max(0, n - correction)
    if dof == 0:
        warnings.warn(f"{name}(): degrees of freedom is <= 0. Correction should be strictly less than the "
                      "reduction factor (input numel divided by output numel).", stacklevel=3)
    acc = _acc_dtype(d)
    x = d.astype(acc, copy=False) if acc else d
    with np.errstate(invalid="ignore", divide="ignore"):
        dev = x - x.mean(axis=dims, keepdims=True) if d.size else x
        out = (dev * dev).sum(axis=dims, keepdims=keepdim) / dof
    return as_array(out.astype(d.dtype, copy=False)), dof


class Var(Op):
    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        centred = x - x.mean(ctx.dims, keepdim=True)
        scale = g * (2.0 / ctx.dof if ctx.dof else _INF)
        return centred * expand_reduced(scale, ctx.in_shape, ctx.dims, ctx.keepdim)


class Std(Op):
    @staticmethod
    def backward(ctx, g):
        # d std = (x - mean) / (dof * std); PyTorch defines it as 0 where std == 0.
        x, out = ctx.saved_tensors
        zero = out == 0
        scale = where(zero, 0.0, g / (where(zero, 1.0, out) * ctx.dof))
        centred = x - x.mean(ctx.dims, keepdim=True)
        return centred * expand_reduced(scale, ctx.in_shape, ctx.dims, ctx.keepdim)


@registry.op(method=True, numpy_aliases=True)
def var(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Variance over ``dim`` with ``correction`` (1 by default: unbiased; ``unbiased=False`` means 0).
    Of a complex tensor: the (real) sum of the variances of its real and imaginary parts, as in PyTorch."""
    dims, c = _var_args("var", input, dim, unbiased, correction)
    if input._data.dtype.kind == "c":
        return var(input.real, dims, None, keepdim, correction=c) + var(input.imag, dims, None, keepdim, correction=c)
    d = input._data
    out, dof = _var_array("var", d, dims, keepdim, c)
    return _out(Var, out, input, (save(input),), in_shape=d.shape, dims=dims, keepdim=keepdim, dof=dof)


@registry.op(method=True, numpy_aliases=True)
def std(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Standard deviation over ``dim`` (same arguments as :func:`var`)."""
    dims, c = _var_args("std", input, dim, unbiased, correction)
    if input._data.dtype.kind == "c":
        return var(input, dims, None, keepdim, correction=c).sqrt()
    d = input._data
    v, dof = _var_array("std", d, dims, keepdim, c)
    out = as_array(xp_of(input).sqrt(v))
    return _out(Std, out, input, (save(input),), True, in_shape=d.shape, dims=dims, keepdim=keepdim, dof=dof)


@registry.op(numpy_aliases=True)
def var_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """``(var(input, ...), mean(input, ...))`` as a tuple."""
    dims, _ = _var_args("var_mean", input, dim, unbiased, correction)
    return var(input, dim, unbiased, keepdim, correction=correction), mean(input, dims, keepdim)


@registry.op(numpy_aliases=True)
def std_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """``(std(input, ...), mean(input, ...))`` as a tuple."""
    dims, _ = _var_args("std_mean", input, dim, unbiased, correction)
    return std(input, dim, unbiased, keepdim, correction=correction), mean(input, dims, keepdim)


# ---------------------------------------------------------------------------------------
# max, min, amax, amin, argmax, argmin, aminmax, median
# ---------------------------------------------------------------------------------------
class EvenSplit(Op):
    """Backward of a reduction that selects values (max, amax, median, ...): the gradient of each
    output is shared equally by the input elements equal to it (NaN matching NaN), as in PyTorch."""

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        shape, dims = ctx.in_shape, ctx.dims
        o = _keepdim(out, shape, dims, ctx.keepdim)
        mask = (x == o) | (isnan(x) & isnan(o))
        count = mask.sum(dims, keepdim=True)
        return where(mask, _keepdim(g, shape, dims, ctx.keepdim) / count, 0.0)


class SelectIndex(Op):
    """Backward of ``max/min/median(dim=...)``: the gradient goes to the returned index."""

    @staticmethod
    def backward(ctx, g):
        if not ctx.in_shape:
            return g
        idx = _make(ctx.idx, ctx._device)
        if not ctx.keepdim:
            g = g.unsqueeze(ctx.dim)
        mask = _positions(ctx.in_shape[ctx.dim], ctx.dim, len(ctx.in_shape), ctx._device) == idx
        return where(mask, g, 0.0)


def _check_nonempty(name: str, d, dims) -> None:
    if d.size:
        return
    if dims is None:
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                           "Specify the reduction dim with the 'dim' argument.")
    for i in dims:
        if d.shape[i] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {i} to have non-zero size.")


def _extreme(name: str, largest: bool, input: Tensor, dims, keepdim: bool) -> Tensor:
    """amax/amin (and max/min without dim) over ``dims``; ties share the gradient."""
    d = input._data
    _check_nonempty(name, d, dims)
    xp = xp_of(input)
    fn = xp.max if largest else xp.min
    out = as_array(fn(d, axis=dims, keepdims=keepdim))
    return _out(EvenSplit, out, input, (save(input),), True, in_shape=d.shape, dims=dims, keepdim=keepdim)


def _select_result(input: Tensor, d, dim, idx_keep, keepdim: bool, rtype, values=None):
    """``(values, indices)`` picked at ``idx_keep`` (indices with the reduced dim kept) along ``dim``;
    ``values`` (kept dim) may be passed when already known."""
    xp = xp_of(input)
    if d.ndim == 0:
        values, idx = d.copy(), xp.zeros((), np.int64)
    else:
        idx_keep = idx_keep.astype(np.int64, copy=False)
        if values is None:
            values = xp.take_along_axis(d, idx_keep, axis=dim)
        idx = idx_keep if keepdim else idx_keep.squeeze(dim)
        if not keepdim:
            values = values.squeeze(dim)
    vals = _out(SelectIndex, as_array(values), input, in_shape=d.shape, dim=dim, keepdim=keepdim, idx=idx_keep)
    return rtype(vals, _make(as_array(idx), input._device))


def _extreme_dim(name: str, input: Tensor, dim, keepdim: bool):
    d = input._data
    dim = _one_dim(name, dim, d.ndim)
    rtype = _MaxT if name == "max" else _MinT
    if not d.ndim:
        return _select_result(input, d, dim, None, keepdim, rtype)
    _check_nonempty(name, d, (dim,))
    # A second pass for the values is cheaper than gathering them at the indices.
    if name == "max":
        idx, values = d.argmax(axis=dim, keepdims=True), d.max(axis=dim, keepdims=True)
    else:
        idx, values = d.argmin(axis=dim, keepdims=True), d.min(axis=dim, keepdims=True)
    return _select_result(input, d, dim, idx, keepdim, rtype, values)


def _max_min(name: str, input: Tensor, dim, keepdim: bool, other):
    if other is None and isinstance(dim, Tensor):
        other, dim = dim, None
    if other is not None:
        if not isinstance(other, Tensor):
            raise TypeError(f"{name}(): argument 'other' must be Tensor, not {type(other).__name__}")
        return (maximum if name == "max" else minimum)(input, other)
    refuse_complex(f"{name}_all" if dim is None else name, input)
    if dim is None:
        return _extreme(name, name == "max", input, None, False)
    return _extreme_dim(name, input, dim, keepdim)


@registry.op(method=True, numpy_aliases=True)
def max(input: Tensor, dim=None, keepdim: bool = False, *, other=None):
    """The largest element (0-d); with ``dim``, ``(values, indices)`` along it; with a tensor, :func:`maximum`.

    >>> ember.tensor([[1, 5], [7, 2]]).max(dim=0).values   # tensor([7, 5])
    """
    return _max_min("max", input, dim, keepdim, other)


@registry.op(method=True, numpy_aliases=True)
def min(input: Tensor, dim=None, keepdim: bool = False, *, other=None):
    """The smallest element (0-d); with ``dim``, ``(values, indices)`` along it; with a tensor, :func:`minimum`."""
    return _max_min("min", input, dim, keepdim, other)


@registry.op(method=True, numpy_aliases=True)
def amax(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """Maximum over ``dim`` (int or tuple; all dimensions by default); ties share the gradient."""
    refuse_complex("amax", input)
    return _extreme("amax", True, input, reduce_dims(dim, input._data.ndim), keepdim)


@registry.op(method=True, numpy_aliases=True)
def amin(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """Minimum over ``dim`` (int or tuple; all dimensions by default); ties share the gradient."""
    refuse_complex("amin", input)
    return _extreme("amin", False, input, reduce_dims(dim, input._data.ndim), keepdim)


@registry.op(method=True, numpy_aliases=True)
def aminmax(input: Tensor, *, dim=None, keepdim: bool = False):
    """``(min, max)`` over ``dim`` (or all elements) as ``ember.return_types.aminmax``."""
    if dim is not None:
        dim = _one_dim("aminmax", dim, input._data.ndim)
    dims = reduce_dims(dim, input._data.ndim)
    return _AminmaxT(_extreme("aminmax", False, input, dims, keepdim),
                     _extreme("aminmax", True, input, dims, keepdim))


def refuse_complex(name: str, input: Tensor, exc=NotImplementedError, message=None) -> None:
    """Complex numbers have no order: PyTorch's ordering ops refuse them (NumPy's order is lexicographic)."""
    if input._data.dtype.kind == "c":
        raise exc(message or f'"{name}" not implemented for \'{_tname(input._data.dtype)}\'')


def _arg_extreme(name: str, input: Tensor, dim, keepdim: bool) -> Tensor:
    refuse_complex(name, input, RuntimeError, f"{name}(): does not support complex input")
    d = input._data
    xp = xp_of(input)
    fn = xp.argmax if name == "argmax" else xp.argmin
    if dim is None:
        if not d.size:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        out = xp.asarray(fn(d), dtype=np.int64)
        if keepdim:
            out = out.reshape((1,) * d.ndim)
    else:
        dim = _one_dim(name, dim, d.ndim)
        if not d.ndim:
            return _make(xp.zeros((), np.int64), input._device)
        _check_nonempty(name, d, (dim,))
        out = fn(d, axis=dim).astype(np.int64, copy=False)
        if keepdim:
            out = xp.expand_dims(out, dim)
    return _make(as_array(out), input._device)


@registry.op(method=True, numpy_aliases=True)
def argmax(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the largest element (in the flattened tensor when ``dim`` is None); int64."""
    return _arg_extreme("argmax", input, dim, keepdim)


@registry.op(method=True, numpy_aliases=True)
def argmin(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the smallest element (in the flattened tensor when ``dim`` is None); int64."""
    return _arg_extreme("argmin", input, dim, keepdim)


def _median(name: str, input: Tensor, dim, keepdim: bool, skip_nan: bool):
    d = input._data
    xp = xp_of(input)
    is_float = d.dtype.kind == "f"
    if dim is None:
        flat = d.reshape(-1)
        nan = xp.isnan(flat) if is_float else None
        if skip_nan and is_float:
            flat = flat[~nan]
        if flat.size == 0 or (nan is not None and not skip_nan and bool(nan.any())):
            out = xp.asarray(np.nan, dtype=d.dtype if is_float else dt.get_default_dtype().np)
        else:
            k = (flat.size - 1) // 2
            out = xp.partition(flat, k)[k]
        return _out(EvenSplit, as_array(out), input, (save(input),), True, in_shape=d.shape, dims=None,
                    keepdim=False)
    dim = _one_dim(name, dim, d.ndim)
    if not d.ndim:
        return _select_result(input, d, dim, None, keepdim, getattr(return_types, name))
    n = d.shape[dim]
    if n == 0:
        raise IndexError(f"{name}(): Expected reduction dim {dim} to have non-zero size.")
    order = xp.argsort(d, axis=dim, kind="stable")   # NaNs sort last, ties keep their order
    pos = xp.full(keep_shape(d.shape, (dim,)), (n - 1) // 2, dtype=np.int64)
    if is_float:
        numbers = (~xp.isnan(d)).sum(axis=dim, keepdims=True)
        if skip_nan:   # the lower median of the slice's numbers (its first NaN if it has none)
            pos = xp.maximum(numbers - 1, 0) // 2
        else:          # a slice with NaN yields its first NaN, which sits right after its numbers
            pos = xp.where(numbers < n, numbers, pos)
    idx_keep = xp.take_along_axis(order, pos, axis=dim)
    return _select_result(input, d, dim, idx_keep, keepdim, getattr(return_types, name))


@registry.op(method=True, numpy_aliases=True)
def median(input: Tensor, dim=None, keepdim: bool = False):
    """The lower median of all elements (0-d), or ``(values, indices)`` along ``dim``. NaN propagates."""
    return _median("median", input, dim, keepdim, False)


@registry.op(method=True, numpy_aliases=True)
def nanmedian(input: Tensor, dim=None, keepdim: bool = False):
    """Like :func:`median`, ignoring NaN (NaN only where a slice holds nothing else)."""
    return _median("nanmedian", input, dim, keepdim, True)


# ---------------------------------------------------------------------------------------
# prod, cumsum, cumprod
# ---------------------------------------------------------------------------------------
def _int_to_long(d, dtype):
    """Target dtype of sum-like ops: ``dtype`` if given, int64 for integer/bool inputs, else the input's."""
    if dtype is not None:
        return dt.to_dtype(dtype).np
    return np.dtype(np.int64) if d.dtype.kind in "biu" else d.dtype


def _has_zero(x: Tensor) -> bool:
    return bool((x._data == 0).any())


def _products_of_others(x: Tensor, dim: int, out_keep: Tensor) -> Tensor:
    """For each element, the product of the other elements of its slice along ``dim``.

    Without zeros this is ``prod / x``. With zeros: when a graph is being built (double backward)
    an exact form whose own derivative is right (O(n^2) memory along ``dim``); otherwise the
    product of the nonzero elements goes to a slice's single zero, and nothing when it has several.
    """
    if not _has_zero(x):
        return out_keep / x
    if STATE.enabled:
        others = where(_eye_along(x.shape[dim], dim, x.ndim, x._device), 1.0, x.unsqueeze(dim))
        return others.prod(dim + 1)
    zero = x == 0
    n_zero = zero.sum(dim, keepdim=True)
    x1 = where(zero, 1.0, x)
    p = x1.prod(dim, keepdim=True)
    return where(n_zero == 0, p / x1, where((n_zero == 1) & zero, p, 0.0))


class Prod(Op):
    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        if not ctx.in_shape:
            return g
        # Complex: the conjugate of the products of the others (conj is the identity on real tensors).
        x, out = x.conj(), out.conj()
        if ctx.dim is None:
            flat = x.reshape(-1)
            return g * _products_of_others(flat, 0, out.reshape(1)).reshape(ctx.in_shape)
        others = _products_of_others(x, ctx.dim, _keepdim(out, ctx.in_shape, (ctx.dim,), ctx.keepdim))
        return _keepdim(g, ctx.in_shape, (ctx.dim,), ctx.keepdim) * others


@registry.op(method=True, numpy_aliases=True)
def prod(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Product of all elements or along ``dim``. Integer and bool inputs multiply in int64."""
    d = input._data
    target = _int_to_long(d, dtype)
    if dim is not None:
        dim = _one_dim("prod", dim, d.ndim)
    dims = None if dim is None or not d.ndim else (dim,)
    out = as_array(d.prod(axis=dims, keepdims=keepdim, dtype=target))
    return _out(Prod, out, input, (save(input),), True, in_shape=d.shape, dim=dims and dim, keepdim=keepdim)


def _cumsum_array(xp, d, dim: int, reverse: bool, dtype):
    if not reverse:
        return xp.cumsum(d, axis=dim, dtype=dtype)
    return xp.ascontiguousarray(xp.flip(xp.cumsum(xp.flip(d, dim), axis=dim, dtype=dtype), dim))


class CumSum(Op):
    @staticmethod
    def backward(ctx, g):
        return _cumsum(g, ctx.dim, not ctx.reverse)


def _cumsum(input: Tensor, dim: int, reverse: bool = False, dtype=None) -> Tensor:
    """Cumulative sum along ``dim`` (from the end when ``reverse``)."""
    d = input._data
    target = _int_to_long(d, dtype)
    if not d.ndim:
        out = d.astype(target)
    else:
        out = _cumsum_array(xp_of(input), d, dim, reverse, target)
    return _out(CumSum, as_array(out), input, dim=dim, reverse=reverse)


@registry.op(method=True, numpy_aliases=True)
def cumsum(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Cumulative sum along ``dim``. Integer and bool inputs accumulate in int64."""
    return _cumsum(input, _one_dim("cumsum", dim, input._data.ndim), False, dtype)


class CumProd(Op):
    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        if not ctx.in_shape:
            return g
        return _cumprod_grad(g, x.conj(), y.conj(), ctx.dim)   # complex: conjugate partial derivatives


def _cumprod_grad(g: Tensor, x: Tensor, y: Tensor, dim: int) -> Tensor:
    """Gradient of ``y = cumprod(x, dim)``: sum over j >= i of g_j * prod_{k <= j, k != i} x_k."""
    if not _has_zero(x):
        return _cumsum(g * y, dim, reverse=True) / x
    n = x.shape[dim]
    if STATE.enabled:
        # Double backward: C[i, j] = prod_{k <= j, k != i} x_k, exact everywhere (O(n^2) memory).
        c = where(_eye_along(n, dim, x.ndim, x._device), 1.0, x.unsqueeze(dim)).cumprod(dim + 1)
        i = _positions(n, dim, x.ndim + 1, x._device)
        j = _positions(n, dim + 1, x.ndim + 1, x._device)
        return where(j >= i, g.unsqueeze(dim) * c, 0.0).sum(dim + 1)
    # Before a slice's first zero z the no-zero formula holds; at z the product skips x_z;
    # after z every term contains x_z, so the gradient is 0.
    zero = x == 0
    pos = _positions(n, dim, x.ndim, x._device)
    first = where(zero, pos, n).amin(dim, keepdim=True)
    before = _cumsum(g * y, dim, reverse=True) / where(zero, 1.0, x)
    at_first = _cumsum(g * where(pos == first, 1.0, x).cumprod(dim), dim, reverse=True)
    return where(pos < first, before, where(pos == first, at_first, 0.0))


@registry.op(method=True, numpy_aliases=True)
def cumprod(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Cumulative product along ``dim``; the gradient is exact also where the input has zeros."""
    d = input._data
    dim = _one_dim("cumprod", dim, d.ndim)
    target = _int_to_long(d, dtype)
    out = d.astype(target) if not d.ndim else xp_of(input).cumprod(d, axis=dim, dtype=target)
    return _out(CumProd, as_array(out), input, (save(input),), True, in_shape=d.shape, dim=dim)


# ---------------------------------------------------------------------------------------
# cummax, cummin, logcumsumexp
# ---------------------------------------------------------------------------------------
def _accumulate(ufunc: str, d, axis: int, device):
    """``<ufunc>.accumulate`` of array ``d`` along ``axis``; on the host where the device's array
    module does not provide it (CuPy has ``accumulate`` for a few ufuncs only)."""
    xp = device.xp
    try:
        return getattr(xp, ufunc).accumulate(d, axis=axis)
    except (AttributeError, NotImplementedError, TypeError):
        if xp is np:
            raise
    host = getattr(np, ufunc).accumulate(device.backend.to_host(d), axis=axis)
    return device.backend.from_host(host, device.index)


class CumExtreme(Op):
    """Backward of cummax/cummin: each output's gradient goes to the element its index points at."""

    @staticmethod
    def backward(ctx, g):
        if not ctx.in_shape:
            return g
        idx = _make(ctx.idx, ctx._device)
        return g.new_zeros(ctx.in_shape).scatter_add(ctx.dim, idx, g)


def _cum_extreme_indices(d, dim: int, largest: bool, device):
    """Index of the running maximum (minimum) along ``dim``: as in PyTorch, the latest element equal
    to it (ties move the index forward), and once a NaN is met the latest NaN."""
    xp = device.xp
    running = _accumulate("maximum" if largest else "minimum", d, dim, device)
    hit = d == running
    if d.dtype.kind == "f":
        hit |= xp.isnan(d)
    pos = xp.arange(d.shape[dim], dtype=np.int64).reshape((-1,) + (1,) * (d.ndim - dim - 1))
    return _accumulate("maximum", xp.where(hit, pos, 0), dim, device)


def _cum_extreme(name: str, input: Tensor, dim):
    d = input._data
    dim = _one_dim(name, dim, d.ndim)
    xp = xp_of(input)
    if d.ndim == 0 or d.size == 0:
        idx, values = xp.zeros(d.shape, np.int64), d.copy()
    else:
        idx = _cum_extreme_indices(d, dim, name == "cummax", input._device)
        values = xp.take_along_axis(d, idx, axis=dim)   # the element itself: cummax([0., -0.]) keeps -0.
    rtype = _CummaxT if name == "cummax" else _CumminT
    out = _out(CumExtreme, as_array(values), input, in_shape=d.shape, dim=dim, idx=idx)
    return rtype(out, _make(as_array(idx), input._device))


@registry.op(method=True, numpy_aliases=True)
def cummax(input: Tensor, dim: int):
    """Running maximum along ``dim`` and the index where each was found, as ``(values, indices)``.

    Ties take the latest index; NaN propagates (and its index is the latest NaN), as in PyTorch.

    >>> ember.cummax(ember.tensor([1, 3, 2, 3]), 0).indices   # tensor([0, 1, 1, 3])
    """
    return _cum_extreme("cummax", input, dim)


@registry.op(method=True, numpy_aliases=True)
def cummin(input: Tensor, dim: int):
    """Running minimum along ``dim`` and the index where each was found, as ``(values, indices)``."""
    return _cum_extreme("cummin", input, dim)


class LogCumSumExp(Op):
    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        if not ctx.in_shape:
            return g
        return _logcumsumexp_grad(g, x, out, ctx.dim, ctx.reverse)


def _logcumsumexp_grad(g: Tensor, x: Tensor, out: Tensor, dim: int, reverse: bool) -> Tensor:
    """``grad_i = sum over j >= i of g_j exp(x_i - out_j)`` (j <= i for a reversed scan).

    Summed in log space, ``exp(x_i + logcumsumexp(log|g_j| - out_j))`` in the opposite direction,
    separately for the positive and negative parts of ``g``, so that nothing overflows.
    """
    lowest = float(np.finfo(x._data.dtype).min)   # log of a zero part: finite, so lowest - out stays ordered
    log_abs = where(g == 0, 1.0, g.abs()).log()     # (zeros are replaced by ``lowest`` below)
    pos = where(g > 0, log_abs, lowest) - out
    neg = where(g < 0, log_abs, lowest) - out
    return ((_logcumsumexp(pos, dim, not reverse) + x).exp()
            - (_logcumsumexp(neg, dim, not reverse) + x).exp())


def _logcumsumexp(input: Tensor, dim: int, reverse: bool = False) -> Tensor:
    """``log(cumsum(exp(input)))`` along ``dim`` (from the end when ``reverse``), as a running
    ``logaddexp`` so that it neither overflows nor underflows."""
    d = input._data
    xp = xp_of(input)
    if not d.ndim:
        out = d.copy()
    else:
        acc = d.astype(np.float32) if d.dtype == np.float16 else d   # half precision adds in float32
        if reverse:
            acc = xp.flip(acc, dim)
        out = _accumulate("logaddexp", acc, dim, input._device)
        if reverse:
            out = xp.ascontiguousarray(xp.flip(out, dim))
        out = out.astype(d.dtype, copy=False)
    return _out(LogCumSumExp, as_array(out), input, (save(input),), True, in_shape=d.shape, dim=dim,
                reverse=reverse)


@registry.op(method=True, numpy_aliases=True)
def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """``log(cumsum(exp(input), dim))`` computed stably; floating-point inputs only.

    >>> ember.logcumsumexp(ember.tensor([0.0, 0.0]), 0)   # tensor([0.0000, 0.6931])
    """
    d = input._data
    if d.dtype.kind != "f":
        raise NotImplementedError(f'"logcumsumexp" not implemented for \'{_tname(d.dtype)}\'')
    return _logcumsumexp(input, _one_dim("logcumsumexp", dim, d.ndim))


# ---------------------------------------------------------------------------------------
# norm, logsumexp
# ---------------------------------------------------------------------------------------
class VectorNorm(Op):
    """The p-norm for finite p other than 0 and 1 (those are composites of abs/amax/sum)."""

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        p = ctx.p
        shape, dims, keepdim = ctx.in_shape, ctx.dims, ctx.keepdim
        nrm = _keepdim(out, shape, dims, keepdim)
        g = _keepdim(g, shape, dims, keepdim)
        if p < 1:
            # sgn(x) |x|^(p-1) ||x||^(1-p); 0 where x == 0 (as PyTorch)
            zx = x == 0
            a = where(zx, 1.0, x.abs())
            return where(zx, 0.0, x.sign() * a ** (p - 1)) * (g * nrm ** (1 - p))
        # x |x|^(p-2) / ||x||^(p-1); 0 where the norm is 0
        zn = nrm == 0
        scale = where(zn, 0.0, g / where(zn, 1.0, nrm) ** (p - 1))
        if p == 2:
            return x * scale
        if p < 2:
            return x.sign() * x.abs() ** (p - 1) * scale
        return x * x.abs() ** (p - 2) * scale


class ZeroNorm(Op):
    """The "0-norm" (number of nonzeros) is piecewise constant: no gradient flows."""

    @staticmethod
    def backward(ctx, g):
        return None


def vector_norm(input: Tensor, ord=2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """``(sum |x|^ord)^(1/ord)`` over ``dim`` (all elements by default); ord may be inf, -inf or 0."""
    d = input._data
    if d.dtype.kind == "c":
        # The norm of |x| (real, of the same precision); abs's gradient g * x / |x| is the complex one.
        real = None if dtype is None else dt.to_dtype(dtype).to_real()
        return vector_norm(input.abs(), ord, dim, keepdim, dtype=real)
    if d.dtype.kind != "f":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. "
                           f"Got {_tname(d.dtype)}")
    if dtype is not None:
        target = dt.to_dtype(dtype)
        if not target.is_floating_point:
            raise RuntimeError(f"linalg.vector_norm: dtype should be floating point or complex, but got "
                               f"{_tname(target.np)}")
        if target.itemsize < d.dtype.itemsize:
            raise RuntimeError(f"linalg.vector_norm: the dtype of the input ({_tname(d.dtype)}) should be "
                               f"convertible without narrowing to the specified dtype ({_tname(target.np)})")
        if target.np != d.dtype:
            input = input.to(target)
            d = input._data
    dims = reduce_dims(dim, d.ndim)
    ord = float(ord)
    if ord in (_INF, -_INF):
        if not d.size:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {ord} norm on an empty tensor because the "
                               "operation does not have an identity")
        return _extreme("linalg.vector_norm", ord > 0, input.abs(), dims, keepdim)
    if ord == 0:
        out = as_array((d != 0).sum(axis=dims, keepdims=keepdim).astype(d.dtype))
        return _out(ZeroNorm, out, input)
    if ord == 1:
        return input.abs().sum(dims, keepdim)
    xp = xp_of(input)
    acc = _acc_dtype(d)
    a = xp.abs(d.astype(acc) if acc else d)
    with np.errstate(divide="ignore", over="ignore"):
        if ord == 2:
            out = xp.sqrt((a * a).sum(axis=dims, keepdims=keepdim))
        else:
            out = ((a ** ord).sum(axis=dims, keepdims=keepdim)) ** (1.0 / ord)
    return _out(VectorNorm, as_array(out.astype(d.dtype, copy=False)), input, (save(input),), True,
                in_shape=d.shape, dims=dims, keepdim=keepdim, p=ord)


@registry.op(method=True)
def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """Vector norm of ``input`` (``p`` a number, inf, -inf, 0) or its Frobenius norm (``p="fro"``).

    >>> ember.tensor([3.0, 4.0]).norm()   # tensor(5.)
    """
    if isinstance(p, str):
        if p != "fro":
            if p == "nuc":
                raise NotImplementedError("norm(p='nuc') (the nuclear norm) is not implemented in Ember")
            raise RuntimeError(f"linalg.matrix_norm: Order {p} not supported.")
        if dim is not None and not isinstance(dim, (int, np.integer)) and len(dim) > 2:
            raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dim))}")
        p = 2
    return vector_norm(input, 2 if p is None else p, dim, keepdim, dtype=dtype)


class LogSumExp(Op):
    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        shape, dims, keepdim = ctx.in_shape, ctx.dims, ctx.keepdim
        return _keepdim(g, shape, dims, keepdim) * (x - _keepdim(out, shape, dims, keepdim)).exp()


@registry.op(method=True, numpy_aliases=True)
def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(input)))`` over ``dim``, computed stably (shifted by the maximum)."""
    d = input._data
    if d.dtype.kind != "f":
        d = d.astype(dt.get_default_dtype().np)
    dims = reduce_dims(dim, d.ndim)
    xp = xp_of(input)
    with np.errstate(divide="ignore", invalid="ignore"):
        if d.size:
            m = d.max(axis=dims, keepdims=True)
            m = xp.where(xp.isfinite(m), m, 0)     # all -inf (or inf) slices: no shift
        else:
            m = xp.zeros(keep_shape(d.shape, dims), d.dtype)
        out = xp.log(xp.exp(d - m).sum(axis=dims, keepdims=True)) + m
    if not keepdim:
        out = out.reshape(tuple(s for i, s in enumerate(d.shape) if dims is not None and i not in dims))
    return _out(LogSumExp, as_array(out.astype(d.dtype, copy=False)), input, (save(input),), True,
                in_shape=d.shape, dims=dims, keepdim=keepdim)


# ---------------------------------------------------------------------------------------
# all, any, count_nonzero
# ---------------------------------------------------------------------------------------
def _logical_reduce(fn, input: Tensor, dim, keepdim: bool) -> Tensor:
    d = input._data
    out = fn(d, axis=reduce_dims(dim, d.ndim), keepdims=keepdim)
    if d.dtype == np.uint8:  # PyTorch keeps uint8 for uint8 inputs
        out = out.astype(np.uint8)
    return _make(as_array(out), input._device)


@registry.op(method=True, numpy_aliases=True)
def all(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """True if every element (along ``dim``) is nonzero; a bool tensor."""
    return _logical_reduce(xp_of(input).all, input, dim, keepdim)


@registry.op(method=True, numpy_aliases=True)
def any(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """True if some element (along ``dim``) is nonzero; a bool tensor."""
    return _logical_reduce(xp_of(input).any, input, dim, keepdim)


@registry.op(method=True, numpy_aliases=True)
def count_nonzero(input: Tensor, dim=None) -> Tensor:
    """Number of nonzero elements (along ``dim``, int or tuple); int64."""
    d = input._data
    out = (d != 0).sum(axis=reduce_dims(dim, d.ndim), dtype=np.int64)
    return _make(as_array(out), input._device)


# ---------------------------------------------------------------------------------------
# softmax, log_softmax (fused hot paths)
# ---------------------------------------------------------------------------------------
class Softmax(Op):
    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return y * (g - (g * y).sum(ctx.dim, keepdim=True))


class LogSoftmax(Op):
    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g - y.exp() * g.sum(ctx.dim, keepdim=True)


def _softmax(cls, name: str, input: Tensor, dim, dtype) -> Tensor:
    d = input._data
    if dtype is not None:
        d = d.astype(dt.to_dtype(dtype).np, copy=False)
    elif d.dtype.kind != "f":
        raise NotImplementedError(f'"{name}" not implemented for \'{_tname(d.dtype)}\'')
    axis = _one_dim(name, dim, d.ndim)
    shape = d.shape
    if not shape:
        d = d.reshape(1)   # a 0-d tensor is one slice of one element
    xp = xp_of(input)
    if d.size:
        z = d - d.max(axis=axis, keepdims=True)
        if cls is Softmax:
            xp.exp(z, out=z)
            z /= z.sum(axis=axis, keepdims=True)
        else:
            z -= xp.log(xp.exp(z).sum(axis=axis, keepdims=True))
    else:
        z = d.copy()
    if not shape:
        z = z.reshape(shape)
    if input._rg and STATE.enabled:
        res = record(cls, z, input._device, (input,), None, True)
        res.grad_fn.dim = axis if shape else None
        return res
    return _make(z, input._device)


@registry.op(method=True, numpy_aliases=True)
def softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim``, computed as ``exp(x - max)`` so it cannot overflow.

    >>> ember.tensor([1.0, 2.0, 3.0]).softmax(0)   # tensor([0.0900, 0.2447, 0.6652])
    """
    return _softmax(Softmax, "softmax", input, dim, dtype)


@registry.op(method=True, numpy_aliases=True)
def log_softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """``x - log(sum(exp(x)))`` along ``dim``, computed stably (shifted by the maximum)."""
    return _softmax(LogSoftmax, "log_softmax", input, dim, dtype)
