"""Indexing and sorting: ``Tensor.__getitem__``/``__setitem__``, gather/scatter, index_*, masked_*,
take, nonzero, sort/topk/unique.

Every indexing op reduces to two differentiable primitives over a parsed index (a "key"):
``_index`` reads the elements at a key (a view for basic keys) and ``_put`` writes or
accumulates values at a key. Each one's gradient is expressed with the other, so gradients
of any order follow.

A key is a tuple ``(basic, adv, dup)``. ``basic`` (ints, slices, None, Ellipsis) is applied
first and always gives a view; ``adv`` (None, or slices/Ellipsis/index arrays) is then applied
to that view with NumPy's advanced-indexing rules. Applying integers first is what makes the
result layout PyTorch's (NumPy counts integers as advanced indices when arrays are present).
``dup`` says ``adv`` holds integer arrays, whose repeated entries must accumulate in backward.
"""
from __future__ import annotations

import operator
import warnings

import numpy as np

from .._tensor import Tensor, _bump_version, _make, _wrap_dim
from ..autograd.engine import _sum_to
from ..autograd.function import Op, device_mismatch
from ..autograd.grad_mode import STATE
from ..backend import CPU
from ._dispatch import broadcast_pair_shape, check_writable, mark_view, record, xp_of
from ._inplace import inplace, inplace_source
from ._registry import Registry
from .elementwise import where
from .reduction import make_return_type, refuse_complex

registry = Registry(globals())
__all__ = registry.exported   # filled in by the @registry decorators below

_ALL = slice(None)
_INDEX_DTYPES = (np.dtype(np.int64), np.dtype(np.int32))

# ember.return_types.sort / topk / kthvalue: named tuples (values, indices).
SortResult = make_return_type("sort", ("values", "indices"))
TopkResult = make_return_type("topk", ("values", "indices"))
KthvalueResult = make_return_type("kthvalue", ("values", "indices"))


# ---------------------------------------------------------------------------------------
# Array-level reading and writing at a key
# ---------------------------------------------------------------------------------------
def xp_of_array(a):
    """NumPy or CuPy, whichever module ``a`` belongs to."""
    if isinstance(a, np.ndarray):
        return np
    import sys
    return sys.modules[type(a).__module__.split(".")[0]]


def _read(d, key):
    basic, adv, _ = key
    v = d[basic]
    return v if adv is None else v[adv]


def _int_adv(adv):
    """``adv`` with boolean masks replaced by their nonzero() index arrays (for ufunc.at)."""
    out = []
    for a in adv:
        if getattr(a, "dtype", None) == np.bool_ and a.ndim:
            out.extend(a.nonzero())
        else:
            out.append(a)
    return tuple(out)


def _ufunc_at(xp, mode, view, adv, v):
    if xp is np:
        if isinstance(v, np.ndarray) and np.may_share_memory(view, v):
            v = v.copy()
        getattr(np, mode).at(view, adv, v)
        return
    ufunc = getattr(xp, mode)
    if hasattr(ufunc, "at"):
        ufunc.at(view, adv, v)
    elif mode == "add":  # older CuPy
        import cupyx
        cupyx.scatter_add(view, adv, v)
    else:
        raise NotImplementedError(f"{mode}.at is not available for {xp.__name__} arrays")


def _write(out, key, v, mode=None):
    """Write ``v`` into array ``out`` at ``key``: assign (mode None) or combine with the
    ufunc named by mode ("add", "multiply"), repeated indices accumulating."""
    check_writable(out)
    basic, adv, dup = key
    try:
        if mode is None:
            if adv is None:
                out[basic] = v
                return
            view = out[basic]
            m = adv[0]
            if len(adv) == 1 and getattr(m, "dtype", None) == np.bool_ and m.ndim == view.ndim \
                    and not getattr(v, "ndim", 0):
                # A scalar under a full mask (masked_fill, x[mask] = 0): copyto is much faster.
                xp_of_array(out).copyto(view, v, where=m)
            else:
                view[adv] = v
        elif adv is None or not dup:
            # No index repeats, so a read-modify-write is exact.
            view = out[basic]
            sub = view if adv is None else view[adv]
            res = getattr(xp_of_array(out), mode)(sub, v)
            if adv is None:
                view[...] = res
            else:
                view[adv] = res
        else:
            _ufunc_at(xp_of_array(out), mode, out[basic], _int_adv(adv), v)
    except ValueError:
        region = _read(out, key).shape
        vshape = getattr(v, "shape", ())
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(vshape)} cannot be broadcast to "
                           f"indexing result of shape {list(region)}") from None


def _cast_value(v, dtype):
    """``v`` (an array or a Python number) as ``dtype``; leading size-1 dims of arrays are
    dropped (PyTorch accepts a value of shape (1, n) for a region of shape (n,))."""
    if isinstance(v, (int, float, bool, complex)):
        return np.asarray(v).astype(dtype)[()]
    v = v.astype(dtype, copy=False)
    k = 0
    while k < v.ndim and v.shape[k] == 1:
        k += 1
    return v.reshape(v.shape[k:]) if k else v


# ---------------------------------------------------------------------------------------
# The two differentiable primitives
# ---------------------------------------------------------------------------------------
class Index(Op):
    """Read at a key. Gradient: the incoming gradient written into zeros at the key."""

    @staticmethod
    def forward(ctx, xp, x, key):
        ctx.key, ctx.in_shape = key, x.shape
        return _read(x, key)

    @staticmethod
    def backward(ctx, g):
        key = ctx.key
        return IndexBackward.apply(g, key, ctx.in_shape, "add" if key[2] else None), None


class IndexBackward(Op):
    """Zeros of ``shape`` with ``g`` written (accumulated for repeated indices) at a key.
    Its gradient reads at the key again, so any order of derivative works."""

    @staticmethod
    def forward(ctx, xp, g, key, shape, mode):
        ctx.key = key
        out = xp.zeros_like(g, shape=shape)
        _write(out, key, g, mode)
        return out

    @staticmethod
    def backward(ctx, gg):
        return _index(gg, ctx.key), None, None, None


def _index(x: Tensor, key) -> Tensor:
    """``x`` read at ``key`` (autograd-aware); basic keys give a view sharing x's storage."""
    out = _read(x._data, key)
    if x._rg and STATE.enabled:
        res = record(Index, out, x._device, (x,))
        res.grad_fn.key, res.grad_fn.in_shape = key, x._data.shape
    else:
        res = _make(out, x._device)
    if key[1] is None:
        mark_view(res, x)
    return res


class IndexPut(Op):
    """A copy of ``base`` with ``value`` written (mode None) or combined ("add", "multiply") at a key.

    Gradients: ``base`` gets the gradient with the written region zeroed (all of it for "add");
    ``value`` gets the gradient read at the key, summed back to its shape.
    """

    @staticmethod
    def forward(ctx, xp, base, value, key, mode):
        if mode == "multiply" and any(ctx.needs_input_grad):
            raise RuntimeError("the derivative for 'scatter' with reduce='multiply' is not implemented")
        out = base.copy()
        _write(out, key, _cast_value(value, out.dtype), mode)
        ctx.key, ctx.mode = key, mode
        ctx.vshape = getattr(value, "shape", None)   # None for a Python number
        return out

    @staticmethod
    def backward(ctx, g):
        edges = ctx.needs_input_grad
        gb = gv = None
        if edges[0]:
            gb = g if ctx.mode == "add" else IndexPut.apply(g, 0, ctx.key, None)
        if edges[1]:
            gv = _index(g, ctx.key)
            vshape = ctx.vshape
            if len(vshape) > gv._data.ndim:
                # The value had leading size-1 dims beyond the region's rank.
                k = 0
                while vshape[k] == 1 and len(vshape) - k > gv._data.ndim:
                    k += 1
                gv = _sum_to(gv, vshape[k:]).reshape(vshape)
        return gb, gv, None, None


def _put(base: Tensor, key, value, mode=None) -> Tensor:
    """Out of place: ``base`` with ``value`` (a Tensor or Python number) put at ``key``."""
    if isinstance(value, Tensor) and value._device is not base._device:
        value = value.to(base._device)
    return IndexPut.apply(base, value, key, mode)


def _put_(self: Tensor, key, value, mode, name: str) -> Tensor:
    """In place: write straight into ``self`` unless autograd records the op."""
    if isinstance(value, Tensor):
        if value._device is not self._device:
            value = value.to(self._device)
        value_rg = value._rg
    else:
        value_rg = False
    if STATE.enabled and (self._rg or value_rg):
        return inplace(self, _put(inplace_source(self), key, value, mode), name)
    v = value._data if isinstance(value, Tensor) else value
    _write(self._data, key, _cast_value(v, self._data.dtype), mode)
    _bump_version(self)
    return self


# ---------------------------------------------------------------------------------------
# Parsing Python indices (PyTorch's rules)
# ---------------------------------------------------------------------------------------
def _on_device(arr, src, x: Tensor):
    """Index array ``arr`` (on device ``src``) moved to ``x``'s device; CPU indices may index any device."""
    dst = x._device
    if src is dst:
        return arr
    if src is CPU:
        return dst.backend.from_host(arr, dst.index)
    raise RuntimeError(f"indices should be either on cpu or on the same device as the indexed tensor ({dst})")


def _index_array(it, x: Tensor):
    """An index element that is a tensor, array or sequence, as a device array (or an int for 0-d
    integer indices, which select like Python ints)."""
    if isinstance(it, Tensor):
        d = _on_device(it._data, it._device, x)
    elif isinstance(it, np.ndarray):
        d = _on_device(it, CPU, x)
    elif isinstance(it, (list, tuple)):
        try:
            d = np.asarray(it)
        except ValueError:
            d = np.asarray(it, dtype=object)
        if d.dtype.kind in "fiu" and d.dtype != np.uint8:
            d = d.astype(np.int64)  # sequences become long tensors, as in PyTorch
        elif d.dtype.kind != "b" and d.dtype != np.uint8:
            raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables "
                             "are valid indices (got a sequence of non-integers)")
        d = _on_device(d, CPU, x)
    else:
        try:
            return operator.index(it)
        except TypeError:
            raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
                             f"valid indices (got {type(it).__name__})") from None
    if d.dtype == np.uint8:
        warnings.warn("indexing with dtype ember.uint8 is now deprecated, please use a dtype ember.bool instead.",
                      UserWarning, stacklevel=4)
        d = d.astype(bool)
    elif d.dtype.kind != "b" and d.dtype not in _INDEX_DTYPES:
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    if d.ndim == 0 and d.dtype.kind != "b":
        return int(d)
    return d


def _as_items(index) -> tuple:
    if type(index) is tuple:
        return index
    if type(index) is list and len(index) < 32 and any(
            i is None or i is Ellipsis or isinstance(i, (slice, list, tuple, Tensor, np.ndarray)) for i in index):
        # PyTorch still reads such a list as a tuple of indices (deprecated there too).
        warnings.warn("Using a non-tuple sequence for multidimensional indexing is deprecated; use x[tuple(seq)] "
                      "instead of x[seq].", UserWarning, stacklevel=4)
        return tuple(index)
    return (index,)


def _check_slice(s: slice) -> slice:
    if s.step is not None:
        step = operator.index(s.step)
        if step == 0:
            raise ValueError("slice step cannot be zero")
        if step < 0:
            raise ValueError("step must be greater than zero")
    return s


def _check_range(arr, n: int, dim: int, negative_ok: bool = True, exc=IndexError):
    """Raise ``exc`` for entries of integer array ``arr`` outside ``[-n, n)`` (``[0, n)``)."""
    if arr.size == 0:
        return
    lo, hi = int(arr.min()), int(arr.max())
    if hi >= n or lo < (-n if negative_ok else 0):
        bad = hi if hi >= n else lo
        raise exc(f"index {bad} is out of bounds for dimension {dim} with size {n}")


def _parse(x: Tensor, index):
    """Turn a Python index into a key for ``x`` (see the module docstring), validating it."""
    shape = x._data.shape
    ndim = len(shape)
    if type(index) is int and ndim:  # the common x[i]
        n = shape[0]
        if not -n <= index < n:
            raise IndexError(f"index {index} is out of bounds for dimension 0 with size {n}")
        return ((index, Ellipsis), None, False)
    items = []
    consumed = 0
    for it in _as_items(index):
        if it is None or it is Ellipsis:
            pass
        elif type(it) is slice:
            it = _check_slice(it)
            consumed += 1
        elif isinstance(it, (bool, np.bool_)):
            it = np.asarray(bool(it))
        elif isinstance(it, (int, np.integer)):
            it = int(it)
            consumed += 1
        else:
            it = _index_array(it, x)
            consumed += 1 if type(it) is int or it.dtype.kind != "b" else it.ndim
        items.append(it)
    if consumed > ndim:
        if ndim == 0:
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                             "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
        raise IndexError(f"too many indices for tensor of dimension {ndim}")

    basic, adv, adv_shapes = [], [], []
    dup = has_ellipsis = False
    dim = 0
    for it in items:
        if it is None or type(it) is slice:
            basic.append(it)
            adv.append(_ALL)
            dim += it is not None
        elif it is Ellipsis:
            if has_ellipsis:
                raise IndexError("an index can only have a single ellipsis ('...')")
            has_ellipsis = True
            basic.append(Ellipsis)
            adv.append(Ellipsis)
            dim += ndim - consumed
        elif type(it) is int:
            n = shape[dim]
            if not -n <= it < n:
                raise IndexError(f"index {it} is out of bounds for dimension {dim} with size {n}")
            basic.append(it)
            dim += 1
        elif it.dtype.kind == "b":
            k = it.ndim
            if k == 0:
                # x[True] is x[None] indexed by [0]; x[False] by an empty index.
                xp = xp_of(x)
                basic.append(None)
                it = xp.arange(1) if bool(it) else xp.zeros(0, np.int64)
                adv.append(it)
                adv_shapes.append(it.shape)
                continue
            if it.shape != shape[dim:dim + k]:
                j = next((j for j in range(k) if dim + j >= ndim or it.shape[j] != shape[dim + j]), k - 1)
                raise IndexError(f"The shape of the mask {list(it.shape)} at index {j} does not match the shape of "
                                 f"the indexed tensor {list(shape)} at index {dim + j}")
            basic.extend([_ALL] * k)
            adv.append(it)
            adv_shapes.append(None)
            dim += k
        else:
            _check_range(it, shape[dim], dim)
            basic.append(_ALL)
            adv.append(it)
            adv_shapes.append(it.shape)
            dup = True
            dim += 1
    if not has_ellipsis:
        basic.append(Ellipsis)  # keeps results arrays (NumPy would return scalars for all-int keys)
    if not adv_shapes:
        return (tuple(basic), None, False)
    if len(adv_shapes) > 1:
        _check_broadcast(adv, adv_shapes)
    return (tuple(basic), tuple(adv), dup)


def _check_broadcast(adv, adv_shapes):
    masks = iter(a for a in adv if getattr(a, "dtype", None) == np.bool_ and a.ndim)
    shapes = [s if s is not None else (int(next(masks).sum()),) for s in adv_shapes]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise IndexError("shape mismatch: indexing tensors could not be broadcast together with shapes "
                         + ", ".join(str(list(s)) for s in shapes)) from None


# ---------------------------------------------------------------------------------------
# __getitem__ / __setitem__ / index_put / put
# ---------------------------------------------------------------------------------------
@registry.method("__getitem__")
def _getitem(self: Tensor, index) -> Tensor:
    """``x[index]``: ints, slices, None, Ellipsis give a view; integer/bool tensors, arrays and
    lists (advanced indexing) give a copy. Differentiable."""
    return _index(self, _parse(self, index))


def _type_name(v) -> str:
    t = type(v)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__name__}"


def _scalar_or_tensor(v, target: Tensor):
    """A value to write into ``target``: a Tensor or a Python number (NumPy scalars converted)."""
    if isinstance(v, Tensor) or type(v) in (int, float, bool, complex):
        return v
    if isinstance(v, np.generic):
        return v.item()
    raise TypeError(f"can't assign a {_type_name(v)} to a {target.type()}")


@registry.method("__setitem__")
def _setitem(self: Tensor, index, value) -> None:
    """``x[index] = value`` (a tensor, broadcast and cast to x's dtype, or a number), in place."""
    value = _scalar_or_tensor(value, self)
    _put_(self, _parse(self, index), value, None, "__setitem__")


def _index_put_key(self: Tensor, indices):
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put(): argument 'indices' must be a tuple of Tensors, not {type(indices).__name__}")
    for i, t in enumerate(indices):
        if not isinstance(t, Tensor):
            raise TypeError(f"index_put(): expected Tensor as element {i} in argument 'indices', "
                            f"but got {type(t).__name__}")
    return _parse(self, tuple(indices))


@registry.op(method=True)
def index_put(input: Tensor, indices, values, accumulate: bool = False) -> Tensor:
    """A copy of ``input`` with ``input[indices] = values`` (``+=`` with accumulate, repeats adding up)."""
    return _put(input, _index_put_key(input, indices), values, "add" if accumulate else None)


@registry.method("index_put_")
def _index_put_(self, indices, values, accumulate=False):
    return _put_(self, _index_put_key(self, indices), values, "add" if accumulate else None, "index_put_")


def _flat_key(input: Tensor, index: Tensor, name: str):
    """The key reading ``input`` as if flattened (row-major) at positions ``index`` (negative ok)."""
    idx = _index_data(name, index, input)
    n = input._data.size
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        if hi >= n or lo < -n:
            raise IndexError(f"out of range: tried to access index {hi if hi >= n else lo} on a tensor of "
                             f"{n} elements.")
        if lo < 0:
            idx = idx % n
    shape = input._data.shape
    if not shape:
        return ((None, Ellipsis), (idx,), True)
    return ((Ellipsis,), tuple(xp_of(input).unravel_index(idx, shape)), True)


def _put_plan(name: str, input: Tensor, index, source, accumulate):
    key = _flat_key(input, index, name)
    if not isinstance(source, Tensor):
        raise TypeError(f"{name}(): argument 'source' must be Tensor, not {type(source).__name__}")
    if source._data.size != index._data.size:
        raise RuntimeError(f"{name}(): Expected source and index to have the same number of elements, but got "
                           f"source.numel() = {source._data.size}, index.numel() = {index._data.size}")
    return key, source.reshape(index._data.shape), "add" if accumulate else None


@registry.op(method=True)
def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """A copy of ``input`` with ``source`` written at flat (row-major) positions ``index``."""
    return _put(input, *_put_plan("put", input, index, source, accumulate))


@registry.method("put_")
def _put_method_(self, index, source, accumulate=False):
    return _put_(self, *_put_plan("put_", self, index, source, accumulate), "put_")


# ---------------------------------------------------------------------------------------
# gather / scatter / index_* / take
# ---------------------------------------------------------------------------------------
def _index_data(name: str, index, input: Tensor):
    """The device array of an integer index tensor for op ``name``."""
    if not isinstance(index, Tensor):
        raise TypeError(f"{name}(): argument 'index' must be Tensor, not {type(index).__name__}")
    d = index._data
    if d.dtype not in _INDEX_DTYPES:
        raise RuntimeError(f"{name}(): Expected dtype int32 or int64 for index, but got {index.dtype}")
    if index._device is not input._device:
        if index._device is not CPU:
            raise device_mismatch(name, input._device, index._device)
        d = input._device.backend.from_host(d, input._device.index)
    return d


def _dim_key(idx, dim: int, ndim: int):
    """The key reading ``out[i_0, ..., idx[i], ..., i_n]`` for every position ``i`` of ``idx``
    (gather/scatter along ``dim``): index ``idx`` at ``dim`` and open aranges elsewhere."""
    if ndim == 0:
        return ((None, Ellipsis), (idx,), True)
    xp = xp_of_array(idx)
    adv = tuple(idx if d == dim else xp.arange(idx.shape[d]).reshape((-1,) + (1,) * (ndim - 1 - d))
                for d in range(ndim))
    return ((Ellipsis,), adv, True)


def _along_dim_checks(name: str, input: Tensor, dim, index):
    ndim = input._data.ndim
    dim = _wrap_dim(dim, ndim)
    idx = _index_data(name, index, input)
    if ndim == 0 and idx.size == 1:
        idx = idx.reshape(())  # a 0-d input takes a 0-d or one-element index
    if idx.ndim != ndim:
        what = "input" if name == "gather" else "self"
        raise RuntimeError(f"Index tensor must have the same number of dimensions as {what} tensor")
    return dim, idx


@registry.op(method=True, numpy_aliases=True)
def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False, out=None) -> Tensor:
    """``out[i][j] = input[index[i][j]][j]`` for dim 0 (and likewise for other dims)."""
    dim, idx = _along_dim_checks("gather", input, dim, index)
    shape = input._data.shape
    for d in range(len(shape)):
        if d != dim and idx.shape[d] > shape[d]:
            raise RuntimeError(f"Size does not match at dimension {d} expected index {list(idx.shape)} to be no "
                               f"larger than self {list(shape)} apart from dimension {dim}")
    _check_range(idx, shape[dim] if shape else 1, dim, negative_ok=False, exc=RuntimeError)
    return _index(input, _dim_key(idx, dim, len(shape)))


def _scatter_plan(name, input: Tensor, dim, index, src, value, reduce):
    """(key, value, mode) for scatter/scatter_add into ``input``."""
    if src is None:
        if value is None:
            raise TypeError(f"{name}(): expected a 'src' tensor or a 'value' number")
        src = value
    dim, idx = _along_dim_checks(name, input, dim, index)
    shape = input._data.shape
    if reduce not in (None, "add", "multiply"):
        raise RuntimeError("reduce argument must be either add or multiply.")
    is_tensor = isinstance(src, Tensor)
    if is_tensor and src._data.dtype != input._data.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    sshape = src._data.shape if is_tensor else None
    for d in range(len(shape)):
        if (d != dim and idx.shape[d] > shape[d]) or (is_tensor and idx.shape[d] > sshape[d]):
            raise RuntimeError(f"Expected index {list(idx.shape)} to be no larger than self {list(shape)} apart "
                               f"from dimension {dim}" + (f" and to be no larger size than src {list(sshape)}"
                                                          if is_tensor else ""))
    _check_range(idx, shape[dim] if shape else 1, dim, negative_ok=False, exc=RuntimeError)
    if is_tensor and sshape != idx.shape:
        src = src[tuple(slice(0, s) for s in idx.shape)]  # only src's leading part is used
    elif not is_tensor:
        src = _scalar_or_tensor(src, input)
    return _dim_key(idx, dim, len(shape)), src, reduce


@registry.op(method=True, numpy_aliases=True)
def scatter(input: Tensor, dim: int, index: Tensor, src=None, *, value=None, reduce=None) -> Tensor:
    """A copy of ``input`` with ``src`` (a tensor or a number) written at ``index`` along ``dim``
    (``out[index[i][j]][j] = src[i][j]`` for dim 0). ``reduce`` may be "add" or "multiply"."""
    return _put(input, *_scatter_plan("scatter", input, dim, index, src, value, reduce))


@registry.method("scatter_", numpy_aliases=True)
def _scatter_(self, dim, index, src=None, *, value=None, reduce=None):
    return _put_(self, *_scatter_plan("scatter_", self, dim, index, src, value, reduce), "scatter_")


@registry.op(method=True, numpy_aliases=True)
def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim`` (repeated indices add up)."""
    return _put(input, *_scatter_plan("scatter_add", input, dim, index, src, None, "add"))


@registry.method("scatter_add_", numpy_aliases=True)
def _scatter_add_(self, dim, index, src):
    return _put_(self, *_scatter_plan("scatter_add_", self, dim, index, src, None, "add"), "scatter_add_")


# ---------------------------------------------------------------------------------------
# scatter_reduce
# ---------------------------------------------------------------------------------------
# PyTorch also takes "max"/"min" for "amax"/"amin" (undocumented, kept for compatibility).
_SCATTER_REDUCES = {"sum": "sum", "prod": "prod", "mean": "mean", "amax": "amax", "amin": "amin",
                    "max": "amax", "min": "amin"}
_REDUCE_UFUNCS = {"sum": "add", "mean": "add", "prod": "multiply", "amax": "maximum", "amin": "minimum"}


def _reduce_identity(reduce: str, dtype):
    """The value a reduction starts from (what ``include_self=False`` puts in place of ``self``)."""
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.kind == "b":
        return reduce == "amin"
    info = np.finfo(dtype) if dtype.kind == "f" else np.iinfo(dtype)
    if dtype.kind == "f":
        return -np.inf if reduce == "amax" else np.inf
    return info.min if reduce == "amax" else info.max


def _scatter_reduce_array(d, key, s, reduce: str, include_self: bool):
    """``d`` with the values ``s`` combined into it at ``key`` (repeated indices accumulate)."""
    xp = xp_of_array(d)
    out = d.copy()
    if not include_self:
        _write(out, key, _reduce_identity(reduce, d.dtype))
    _write(out, key, s, _REDUCE_UFUNCS[reduce])
    if reduce == "mean":
        counts = xp.full(d.shape, 1 if include_self else 0, dtype=np.int64)
        _write(counts, key, 1, "add")
        counts = xp.maximum(counts, 1)
        # Integers divide with rounding down, as in PyTorch.
        out = out // counts if d.dtype.kind in "iu" else out / counts.astype(d.dtype)
    return out.astype(d.dtype, copy=False)


class ScatterReduce(Op):
    """``scatter_reduce`` as one node; the backward follows PyTorch's definitions (ties of amax/amin
    share the gradient, prod divides out the zeros exactly)."""

    @staticmethod
    def forward(ctx, xp, input, src, dim, idx, reduce, include_self):
        out = _scatter_reduce_array(input, _dim_key(idx, dim, input.ndim), src, reduce, include_self)
        ctx.dim, ctx.idx, ctx.reduce, ctx.include_self = dim, idx, reduce, include_self
        ctx.save_for_backward(input, src, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, src, out = ctx.saved_tensors
        dim, reduce, include_self = ctx.dim, ctx.reduce, ctx.include_self
        index = _make(ctx.idx, g._device)
        if reduce == "sum":
            gx, gs = g, g.gather(dim, index)
        elif reduce == "mean":
            n = (g.new_ones if include_self else g.new_zeros)(g.shape).scatter_add(dim, index, src.new_ones(src.shape))
            gx = g / n.masked_fill(n == 0, 1)
            gs = gx.gather(dim, index)
        elif reduce == "prod":
            gx, gs = _scatter_prod_grads(g, x, src, out, dim, index, include_self)
        else:
            gx, gs = _scatter_extreme_grads(g, x, src, out, dim, index)
        if not include_self:
            gx = gx.scatter(dim, index, 0.0)   # self's values at the scattered positions were not used
        return gx, gs, None, None, None, None


def _scatter_prod_grads(g, x, src, out, dim, index, include_self):
    """Gradients of a scattered product: the product of the other factors at each position, with
    zeros divided out exactly (a single zero among the factors gets the product of the rest)."""
    x_nonzero = x.masked_fill(x == 0, 1)
    gx = g * scatter_reduce(x_nonzero, dim, index, src, "prod", include_self=include_self) / x_nonzero
    src_zero = src == 0
    zeros_at = x.new_zeros(x.shape).scatter_add(dim, index, src_zero.to(x.dtype)).gather(dim, index)
    single_zero = src_zero & (zeros_at == 1)
    # A lone zero's gradient is the product of the other factors: the result with that zero set to 1.
    without_zero = scatter_reduce(x, dim, index, src.masked_fill(single_zero, 1), "prod", include_self=include_self)
    gs = where(single_zero, (g * without_zero).gather(dim, index), (g * out).gather(dim, index)
               / src.masked_fill(src_zero, 1))
    if STATE.enabled and bool((zeros_at._data > 1).any()):
        # The formula is not differentiable where two zeros meet; PyTorch refuses the double backward.
        gs = _DoubleBackwardError.apply(gs, "scatter_reduce(): Double backward is unsupported for src when >1 "
                                            "zeros in src are scattered to the same position in self")
    return gx, gs


def _scatter_extreme_grads(g, x, src, out, dim, index):
    """amax/amin: the gradient of each output is shared by the elements equal to it, ``self``
    included (even with ``include_self=False``, as in PyTorch)."""
    x_hit = (x == out).to(x.dtype)
    src_hit = (src == out.gather(dim, index)).to(x.dtype)
    share = g / x_hit.scatter_add(dim, index, src_hit)
    return x_hit * share, src_hit * share.gather(dim, index)


class _DoubleBackwardError(Op):
    """Identity whose backward raises: marks a gradient that cannot be differentiated again."""

    @staticmethod
    def forward(ctx, xp, x, message):
        ctx.message = message
        return x

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError(ctx.message)


def _scatter_reduce_plan(name: str, input: Tensor, dim, index, src, reduce):
    """(dim, index array, src limited to the index's extent, canonical reduce) after PyTorch's checks."""
    if not isinstance(src, Tensor):
        raise TypeError(f"{name}(): argument 'src' must be Tensor, not {type(src).__name__}")
    if reduce not in _SCATTER_REDUCES:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    reduce = _SCATTER_REDUCES[reduce]
    dim, idx = _along_dim_checks(name, input, dim, index)
    if src._data.dtype != input._data.dtype:
        raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype (got {input.dtype} and "
                           f"{src.dtype})")
    if reduce == "mean" and input._data.dtype.kind == "b":
        raise NotImplementedError(f'"{name}" with reduce="mean" is not implemented for \'Bool\'')
    shape, sshape = input._data.shape, src._data.shape
    if len(sshape) != idx.ndim and not (idx.ndim == 0 and src._data.size == 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    for d in range(idx.ndim):
        if (d != dim and idx.shape[d] > shape[d]) or idx.shape[d] > sshape[d]:
            raise RuntimeError(f"Expected index {list(idx.shape)} to be no larger than self {list(shape)} apart "
                               f"from dimension {dim} and to be no larger size than src {list(sshape)}")
    _check_range(idx, shape[dim] if shape else 1, dim, negative_ok=False, exc=RuntimeError)
    if sshape != idx.shape:
        src = src.reshape(()) if idx.ndim == 0 else src[tuple(slice(0, s) for s in idx.shape)]
    if src._device is not input._device:
        raise device_mismatch(name, input._device, src._device)
    return dim, idx, src, reduce


@registry.op(method=True, numpy_aliases=True)
def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """A copy of ``input`` with ``src`` combined in at ``index`` along ``dim`` by ``reduce``
    ("sum", "prod", "mean", "amax" or "amin"); ``include_self=False`` leaves ``input``'s own values
    out at the positions written to.

    >>> ember.tensor([0., 0.]).scatter_reduce(0, ember.tensor([0, 0, 1]), ember.tensor([1., 3., 2.]), "amax")
    tensor([3., 2.])
    """
    dim, idx, src, reduce = _scatter_reduce_plan("scatter_reduce", input, dim, index, src, reduce)
    return ScatterReduce.apply(input, src, dim, idx, reduce, bool(include_self))


@registry.method("scatter_reduce_", numpy_aliases=True)
def _scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
    dim, idx, src, reduce = _scatter_reduce_plan("scatter_reduce_", self, dim, index, src, reduce)
    return inplace(self, ScatterReduce.apply(inplace_source(self), src, dim, idx, reduce, bool(include_self)),
                   "scatter_reduce_")


def _select_key(name: str, input: Tensor, dim, index, negative_ok: bool):
    """(key, dim, number of indices) of ``index_select(input, dim, index)``."""
    ndim = input._data.ndim
    dim = _wrap_dim(dim, ndim)
    idx = _index_data(name, index, input)
    if idx.ndim > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector")
    idx = idx.reshape(-1)
    n = input._data.shape[dim] if ndim else 1
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        if hi >= n or lo < (-n if negative_ok else 0):
            raise IndexError(f"index out of range in self ({name}: index {hi if hi >= n else lo} for "
                             f"dimension {dim} with size {n})")
    if ndim == 0:
        return ((None, Ellipsis), (idx,), True), 0, idx.size
    return ((Ellipsis,), (_ALL,) * dim + (idx,), True), dim, idx.size


@registry.op(method=True, numpy_aliases=True)
def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The entries of ``input`` at positions ``index`` (a vector) along ``dim``."""
    return _index(input, _select_key("index_select", input, dim, index, False)[0])


def _index_source_plan(name, input, dim, index, source, negative_ok):
    key, dim, n = _select_key(name, input, dim, index, negative_ok)
    if not isinstance(source, Tensor):
        raise TypeError(f"{name}(): argument 'source' must be Tensor, not {type(source).__name__}")
    want = input._data.shape[:dim] + (n,) + input._data.shape[dim + 1:] if input._data.ndim else (n,)
    if source._data.shape != want:
        raise RuntimeError(f"{name}(): source of shape {list(source._data.shape)} does not match the shape "
                           f"{list(want)} of the indexed region (number of indices: {n}, for dim: {dim})")
    return key


@registry.op(method=True, numpy_aliases=True)
def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """A copy of ``input`` with ``alpha * source`` added at positions ``index`` along ``dim``."""
    key = _index_source_plan("index_add", input, dim, index, source, False)
    return _put(input, key, source if alpha == 1 else source * alpha, "add")


@registry.method("index_add_", numpy_aliases=True)
def _index_add_(self, dim, index, source, *, alpha=1):
    key = _index_source_plan("index_add_", self, dim, index, source, False)
    return _put_(self, key, source if alpha == 1 else source * alpha, "add", "index_add_")


@registry.op(method=True, numpy_aliases=True)
def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """A copy of ``input`` with the slices of ``source`` written at positions ``index`` along ``dim``."""
    key = _index_source_plan("index_copy", input, dim, index, source, True)
    return _put(input, key, source)


@registry.method("index_copy_", numpy_aliases=True)
def _index_copy_(self, dim, index, source):
    return _put_(self, _index_source_plan("index_copy_", self, dim, index, source, True), source, None,
                 "index_copy_")


def _fill_value(name: str, value, target: Tensor):
    if isinstance(value, Tensor) and value._data.ndim:
        raise RuntimeError(f"{name} only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value._data.ndim} dimension(s).")
    return _scalar_or_tensor(value, target)


@registry.op(method=True, numpy_aliases=True)
def index_fill(input: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """A copy of ``input`` with ``value`` (a number or 0-d tensor) at positions ``index`` along ``dim``."""
    key = _select_key("index_fill", input, dim, index, True)[0]
    return _put(input, key, _fill_value("index_fill_", value, input))


@registry.method("index_fill_", numpy_aliases=True)
def _index_fill_(self, dim, index, value):
    key = _select_key("index_fill_", self, dim, index, True)[0]
    return _put_(self, key, _fill_value("index_fill_", value, self), None, "index_fill_")


@registry.op(method=True)
def take(input: Tensor, index: Tensor) -> Tensor:
    """``input`` read as 1-D at positions ``index``; the result has ``index``'s shape."""
    return _index(input, _flat_key(input, index, "take"))


@registry.op(method=True, numpy_aliases=True)
def take_along_dim(input: Tensor, indices: Tensor, dim=None) -> Tensor:
    """Values of ``input`` at ``indices`` along ``dim`` (broadcasting the other dims);
    with ``dim=None``, both are flattened first."""
    if dim is None:
        return take_along_dim(input.reshape(-1), indices.reshape(-1), 0)
    ndim = input._data.ndim
    if indices._data.ndim != ndim:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same number of dimensions, "
                           f"but got {ndim} dimensions for input, and {indices._data.ndim} dimensions for indices")
    dim = _wrap_dim(dim, ndim)
    idx = _index_data("take_along_dim", indices, input)
    n = input._data.shape[dim] if ndim else 1
    _check_range(idx, n, dim)
    idx = idx % n if idx.size and int(idx.min()) < 0 else idx
    ishape, jshape = list(input._data.shape), list(idx.shape)
    if ndim:
        ishape[dim] = jshape[dim] = 1
    common = broadcast_pair_shape(tuple(ishape), tuple(jshape))
    in_shape = common[:dim] + (n,) + common[dim + 1:] if ndim else ()
    idx_shape = common[:dim] + (idx.shape[dim],) + common[dim + 1:] if ndim else ()
    if in_shape != input._data.shape:
        input = input.expand(in_shape)
    if idx_shape != idx.shape:
        idx = xp_of(input).broadcast_to(idx, idx_shape)
    return _index(input, _dim_key(idx, dim, ndim))


# ---------------------------------------------------------------------------------------
# masked_* / nonzero
# ---------------------------------------------------------------------------------------
def _mask_data(name: str, mask, input: Tensor, msg: str):
    if not isinstance(mask, Tensor):
        raise TypeError(f"{name}(): argument 'mask' must be Tensor, not {type(mask).__name__}")
    if mask._data.dtype != np.bool_:
        raise RuntimeError(msg.format(dtype=mask.dtype))
    return _on_device(mask._data, mask._device, input) if mask._device is not input._device else mask._data


def _masked_plan(name: str, input: Tensor, mask, msg: str, inplace_op: bool):
    """(broadcast input, key) for a masked op; in place, the mask must broadcast to ``input``."""
    m = _mask_data(name, mask, input, msg)
    shape = broadcast_pair_shape(input._data.shape, m.shape)
    if shape != input._data.shape:
        if inplace_op:
            raise RuntimeError(f"output with shape {list(input._data.shape)} doesn't match the broadcast shape "
                               f"{list(shape)}")
        input = input.expand(shape)
    if m.shape != shape:
        m = xp_of(input).broadcast_to(m, shape)
    key = ((Ellipsis,), (m,), False) if shape else ((None, Ellipsis), (m.reshape(1),), False)
    return input, key


_FILL_MSG = "masked_fill_ only supports boolean masks, but got mask with dtype {dtype}"


@registry.op(method=True)
def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:
    """A copy of ``input`` with ``value`` (a number or 0-d tensor) where ``mask`` is True (broadcast)."""
    base, key = _masked_plan("masked_fill", input, mask, _FILL_MSG, False)
    return _put(base, key, _fill_value("masked_fill_", value, input))


@registry.method("masked_fill_")
def _masked_fill_(self, mask, value):
    _, key = _masked_plan("masked_fill_", self, mask, _FILL_MSG, True)
    return _put_(self, key, _fill_value("masked_fill_", value, self), None, "masked_fill_")


@registry.op(method=True)
def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The entries of ``input`` where ``mask`` is True (both broadcast), as a 1-D tensor."""
    base, key = _masked_plan("masked_select", input, mask, "masked_select: expected BoolTensor for mask", False)
    return _index(base, key)


_SCATTER_MSG = "masked_scatter_ only supports boolean masks, but got mask with dtype {dtype}"


def _masked_source(name, input, key, source):
    if not isinstance(source, Tensor):
        raise TypeError(f"{name}(): argument 'source' must be Tensor, not {type(source).__name__}")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"masked_scatter_: expected self and source to have same dtypes but got "
                           f"{input.dtype} and {source.dtype}")
    nnz = int(xp_of(input).count_nonzero(key[1][0]))
    if source._data.size < nnz:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    return source.reshape(-1)[:nnz]


@registry.op(method=True)
def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """A copy of ``input`` with consecutive elements of ``source`` written where ``mask`` is True."""
    base, key = _masked_plan("masked_scatter", input, mask, _SCATTER_MSG, False)
    return _put(base, key, _masked_source("masked_scatter", input, key, source))


@registry.method("masked_scatter_")
def _masked_scatter_(self, mask, source):
    _, key = _masked_plan("masked_scatter_", self, mask, _SCATTER_MSG, True)
    return _put_(self, key, _masked_source("masked_scatter_", self, key, source), None, "masked_scatter_")


@registry.op(method=True)
def nonzero(input: Tensor, *, as_tuple: bool = False, out=None):
    """Indices of the nonzero elements: an int64 tensor of shape (n, ndim), or with
    ``as_tuple=True`` one 1-D tensor per dimension (as ``numpy.nonzero``)."""
    d = input._data
    xp = xp_of(input)
    if as_tuple:
        parts = xp.nonzero(d.reshape(1) if d.ndim == 0 else d)
        return tuple(_make(p.astype(np.int64, copy=False), input._device) for p in parts)
    return _make(xp.argwhere(d).astype(np.int64, copy=False), input._device)


@registry.op(method=True)
def argwhere(input: Tensor) -> Tensor:
    """Indices of the nonzero elements as an int64 tensor of shape (n, ndim)."""
    return nonzero(input)


# ---------------------------------------------------------------------------------------
# Sorting
# ---------------------------------------------------------------------------------------
def _argsort_array(d, dim: int, descending: bool, xp):
    """Stable sort order along ``dim``; NaN counts as the largest value (as in PyTorch)."""
    if d.ndim == 0:
        return xp.zeros((), np.int64)
    if not descending:
        return xp.argsort(d, axis=dim, kind="stable").astype(np.int64, copy=False)
    # Descending and stable: sort the reversed array ascending, then reverse the order back,
    # so equal elements keep their original order.
    order = xp.argsort(xp.flip(d, axis=dim), axis=dim, kind="stable")
    return (d.shape[dim] - 1 - xp.flip(order, axis=dim)).astype(np.int64, copy=False)


def _sorted_along(input: Tensor, dim, descending: bool):
    """(dim, order indices array) of ``input`` sorted along ``dim``."""
    refuse_complex("sort", input, RuntimeError, " Sort does not support complex dtypes on CPU")
    d = input._data
    dim = _wrap_dim(dim, d.ndim)
    return dim, _argsort_array(d, dim, descending, xp_of(input))


def _values_at(input: Tensor, idx, dim: int) -> Tensor:
    """Differentiable ``gather(input, dim, idx)`` without re-validating ``idx``."""
    return _index(input, _dim_key(idx, dim, input._data.ndim))


@registry.op(method=True, numpy_aliases=True)
def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False, *, out=None):
    """Sorted values and their original indices along ``dim`` (a named tuple ``(values, indices)``).

    The sort is always stable; NaN sorts as the largest value.
    """
    dim, idx = _sorted_along(input, dim, descending)
    return SortResult(_values_at(input, idx, dim), _make(idx, input._device))


@registry.op(method=True, numpy_aliases=True)
def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """The indices that sort ``input`` along ``dim``."""
    return _make(_sorted_along(input, dim, descending)[1], input._device)


@registry.op(method=True)
def msort(input: Tensor) -> Tensor:
    """``input`` sorted along its first dimension."""
    return sort(input, 0).values


def _slice_dim(idx, dim: int, start: int, stop: int):
    if idx.ndim == 0:
        return idx
    return idx[(_ALL,) * dim + (slice(start, stop),)]


def _topk_order(d, k: int, dim: int, largest: bool, xp):
    """The first ``k`` entries of the stable (descending if ``largest``) sort order along ``dim``,
    found by partitioning (O(n)) and sorting only the ``k`` selected entries."""
    n = d.shape[dim] if d.ndim else 1
    if k == 0 or 4 * k > n or (d.dtype.kind == "f" and bool(xp.isnan(d).any())):
        return _slice_dim(_argsort_array(d, dim, largest, xp), dim, 0, k)
    kd = xp.moveaxis(d, dim, -1)
    if largest:  # an order-reversing map, so the k smallest of kd are wanted
        kd = -kd if kd.dtype.kind == "f" else ~kd
    t = xp.partition(kd, k - 1, axis=-1)[..., k - 1:k]  # the k-th smallest value of each row
    below, tied = kd < t, kd == t
    # Everything below the threshold, then the first tied entries (by position) to make up k.
    take = below | (tied & (xp.cumsum(tied, axis=-1) <= k - below.sum(axis=-1, keepdims=True)))
    pos = xp.nonzero(take)[-1].reshape(kd.shape[:-1] + (k,))
    order = xp.take_along_axis(pos, xp.argsort(xp.take_along_axis(kd, pos, -1), axis=-1, kind="stable"), -1)
    return xp.moveaxis(order, -1, dim).astype(np.int64, copy=False)


@registry.op(method=True, numpy_aliases=True)
def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True, *, out=None):
    """The ``k`` largest (or smallest) values along ``dim`` and their indices, as ``(values, indices)``."""
    refuse_complex("topk_cpu", input)
    d = input._data
    dim = _wrap_dim(dim, d.ndim)
    if not 0 <= k <= (d.shape[dim] if d.ndim else 1):
        raise RuntimeError("selected index k out of range")
    idx = _topk_order(d, k, dim, largest, xp_of(input))
    return TopkResult(_values_at(input, idx, dim), _make(idx, input._device))


@registry.op(method=True, numpy_aliases=True)
def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False, *, out=None):
    """The ``k``-th smallest value (1-based) along ``dim`` and its index, as ``(values, indices)``."""
    d = input._data
    dim = _wrap_dim(dim, d.ndim)
    if not 1 <= k <= (d.shape[dim] if d.ndim else 1):
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {dim}")
    idx = _slice_dim(_topk_order(d, k, dim, False, xp_of(input)), dim, k - 1, k)
    values = _values_at(input, idx, dim)
    indices = _make(idx, input._device)
    if not keepdim and d.ndim:
        values, indices = values.squeeze(dim), indices.squeeze(dim)
    return KthvalueResult(values, indices)


def _unique_outputs(input, out, inverse, counts, return_inverse, return_counts):
    dev = input._device
    res = [_make(out, dev)]
    if return_inverse:
        res.append(_make(inverse.astype(np.int64, copy=False), dev))
    if return_counts:
        res.append(_make(counts.astype(np.int64, copy=False), dev))
    return res[0] if len(res) == 1 else tuple(res)


@registry.op(method=True)
def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,
           dim=None):
    """The distinct elements (sorted), or distinct slices along ``dim``; optionally the inverse
    indices (input positions -> output positions) and the counts. Results are always sorted
    (as PyTorch's are on CPU). Not differentiable."""
    d = input._data
    xp = xp_of(input)
    kwargs = dict(return_inverse=True, return_counts=True)
    if xp is np:
        kwargs["equal_nan"] = False  # NaNs are distinct from each other, as in PyTorch
    if dim is None:
        out, inverse, counts = xp.unique(d.reshape(-1), **kwargs)
        inverse = inverse.reshape(d.shape)
    else:
        dim = _wrap_dim(dim, d.ndim)
        out, inverse, counts = xp.unique(d, axis=dim, **kwargs)
        inverse = inverse.reshape(-1)
    return _unique_outputs(input, out, inverse, counts, return_inverse, return_counts)


@registry.op(method=True)
def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False, dim=None):
    """Collapse each run of equal consecutive elements (or slices along ``dim``) to one."""
    d = input._data
    xp = xp_of(input)
    if dim is None:
        rows, inv_shape = d.reshape(-1), d.shape
    else:
        dim = _wrap_dim(dim, d.ndim)
        rows = xp.moveaxis(d, dim, 0)
        inv_shape = (rows.shape[0],)
    n = rows.shape[0]
    new = xp.ones(n, bool)  # True where a run starts
    if n > 1:
        diff = rows[1:] != rows[:-1]
        new[1:] = diff.reshape(n - 1, diff.size // (n - 1)).any(axis=1)
    starts = xp.nonzero(new)[0]
    inverse = (xp.cumsum(new) - 1).reshape(inv_shape)
    counts = xp.diff(xp.concatenate([starts, xp.asarray([n], dtype=starts.dtype)]))
    out = rows[starts] if dim is None else xp.moveaxis(rows[starts], 0, dim).copy()
    return _unique_outputs(input, out, inverse, counts, return_inverse, return_counts)


def _pad_index(mode: str, size: int, lo: int, hi: int):
    """Source positions of a padded dim for the index-based padding modes of ``F.pad`` and ``stft``
    (negative amounts crop).

    Reflect and replicate mirror or repeat around the ends of the whole input. Circular padding, as in
    PyTorch, wraps around the *cropped* input: with ``(-1, 2)`` on ``[0 1 2 3 4]`` the kept part is
    ``[1 2 3 4]`` and the result ``[1 2 3 4 1 2]``.
    """
    if mode == "circular":
        start = max(-lo, 0)
        kept = size - start - max(-hi, 0)
        return start + np.arange(-max(lo, 0), kept + max(hi, 0)) % kept
    i = np.arange(-lo, size + hi)
    if mode == "reflect":
        period = 2 * (size - 1) if size > 1 else 1
        i = np.abs(i) % period
        return np.where(i >= size, period - i, i)
    return np.clip(i, 0, size - 1)  # replicate
