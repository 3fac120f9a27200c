"""Shape operations: views (reshape, permute, expand, narrow, diagonal, split, ...), joins (cat, stack)
and rearranging copies (flip, roll, repeat, tril, ...).

Ops that are views in PyTorch return tensors sharing storage with their input (``mark_view``), so
in-place changes show through both and bump one version counter. Every backward is written with
Ember ops, so double backward works: a strided view's adjoint (``Embed``) scatters the gradient into
zeros and is itself differentiated by taking the same view again.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _dtype as dt
from .._tensor import Size, Tensor, _make, _wrap_dim
from ..autograd.function import Op, device_mismatch
from ..autograd.grad_mode import STATE
from ._dispatch import _SCALAR_TYPE_NAMES as _TYPE_NAMES, mark_view, record, xp_of
from .creation import arange
from ._inplace import make_inplace
from ._registry import Registry

registry = Registry(globals(), make_inplace=make_inplace)
__all__ = registry.exported   # filled in by the @registry decorators below


# ---------------------------------------------------------------------------------------
# Argument helpers
# ---------------------------------------------------------------------------------------
def _shape_arg(args) -> tuple:
    """Sizes given as ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` or ``f(ember.Size)``."""
    if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
        return tuple(int(s) for s in args[0])
    return tuple(int(s) for s in args)


def _int_tuple(x) -> tuple:
    """An int or a sequence of ints as a tuple."""
    if isinstance(x, (int, np.integer)) or (isinstance(x, Tensor) and x._data.ndim == 0):
        return (int(x),)
    return tuple(int(v) for v in x)


def _wrap_dims(dims, ndim: int) -> tuple:
    """Normalise dims, rejecting repeats with PyTorch's message."""
    out = tuple(_wrap_dim(d, ndim) for d in dims)
    for d in out:
        if out.count(d) > 1:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return out


def infer_shape(shape: tuple, numel: int) -> tuple:
    """Resolve a single -1 in ``shape`` and check the element count (PyTorch's messages)."""
    infer = None
    known = 1
    for i, s in enumerate(shape):
        if s == -1:
            if infer is not None:
                raise RuntimeError("only one dimension can be inferred")
            infer = i
        elif s < 0:
            raise RuntimeError(f"invalid shape dimension {s} at index {i} of shape {list(shape)}")
        else:
            known *= s
    if infer is not None:
        if known == 0:
            if numel == 0:
                raise RuntimeError(f"cannot reshape tensor of 0 elements into shape {list(shape)} because the "
                                   "unspecified dimension size -1 can be any value and is ambiguous")
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        if numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        return shape[:infer] + (numel // known,) + shape[infer + 1:]
    if known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def _result(cls, out, x: Tensor, attrs: dict | None = None, view: bool = False) -> Tensor:
    """Wrap ``out`` computed from ``x`` alone, recording ``cls`` (with ``attrs`` on the node) when a
    gradient is needed; ``view`` marks a result that shares ``x``'s storage."""
    if x._rg and STATE.enabled:
        res = record(cls, out, x._device, (x,))
        if attrs:
            res.grad_fn.__dict__.update(attrs)
    else:
        res = _make(out, x._device)
    if view:
        mark_view(res, x)
    return res


def _view_result(cls, out, x: Tensor, attrs: dict | None = None) -> Tensor:
    return _result(cls, out, x, attrs, view=True)


# ---------------------------------------------------------------------------------------
# reshape / view / flatten / squeeze
# ---------------------------------------------------------------------------------------
class Reshape(Op):
    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape)


def _reshape_nocopy(d, shape):
    """``d`` with ``shape`` without copying, or None when its strides don't allow that."""
    try:
        return d.reshape(shape, copy=False)
    except ValueError:  # a copy would be needed
        return None
    except TypeError:  # NumPy < 2.1 or CuPy: no ``copy`` argument; setting ``.shape`` never copies
        out = d.view()
        try:
            out.shape = shape
        except AttributeError:
            return None
        return out


@registry.op(method=True)
def reshape(input: Tensor, *shape) -> Tensor:
    """Same data with a new shape: a view when the memory layout allows, else a copy (as in PyTorch)."""
    d = input._data
    shape = infer_shape(_shape_arg(shape), d.size)
    out = _reshape_nocopy(d, shape)
    view = out is not None
    if not view:
        out = d.reshape(shape)
    return _result(Reshape, out, input, {"in_shape": d.shape}, view)


@registry.method("view")
def _view(self: Tensor, *shape) -> Tensor:
    """Like ``reshape`` but never copies: errors when the strides don't allow a view."""
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer, tuple, list, Size)):
        return _view_as_dtype(self, dt.to_dtype(shape[0]))
    d = self._data
    out = _reshape_nocopy(d, infer_shape(_shape_arg(shape), d.size))
    if out is None:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one dimension spans "
            "across two contiguous subspaces). Use .reshape(...) instead.")
    return _view_result(Reshape, out, self, {"in_shape": d.shape})


def _view_as_dtype(self: Tensor, dtype) -> Tensor:
    """``view(dtype)``: the same bytes read as ``dtype`` (no conversion), sharing storage.

    With a different element size the last dimension shrinks or grows by the size ratio, which
    needs it to be contiguous, as in PyTorch. The result is not differentiable (PyTorch's too).
    """
    d = self._data
    old, new = d.dtype.itemsize, dtype.np.itemsize
    if old != new:
        what = f"to view {_TYPE_NAMES[d.dtype.name]} as {_TYPE_NAMES[dtype.np.name]} (different element sizes)"
        if d.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 {what}")
        if d.shape[-1] != 1 and d.strides[-1] != old:
            raise RuntimeError(f"self.stride(-1) must be 1 {what}, but got {d.strides[-1] // old}")
        if new > old:
            ratio = new // old
            if d.shape[-1] % ratio:
                raise RuntimeError(f"self.size(-1) must be divisible by {ratio} {what}, but got {d.shape[-1]}")
            offset = _storage_offset(self)
            if offset % ratio:
                raise RuntimeError(f"self.storage_offset() must be divisible by {ratio} {what}, but got {offset}")
            for i, st in enumerate(d.strides[:-1]):
                if (st // old) % ratio:
                    raise RuntimeError(f"self.stride({i}) must be divisible by {ratio} {what}, but got {st // old}")
    out = d.view(dtype.np)
    return mark_view(_make(out, self._device), self)


@registry.method("storage_offset")
def _storage_offset(t: Tensor) -> int:
    """Elements between the start of the storage ``t`` views (its ``_base``) and its first element."""
    if t._base is None:
        return 0
    return (_address(t._data) - _address(t._base._data)) // t._data.dtype.itemsize


def _address(a) -> int:
    return a.__array_interface__["data"][0] if isinstance(a, np.ndarray) else a.data.ptr


@registry.op(method=True)
def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim..end_dim`` into one (a view when possible; 0-d becomes shape (1,))."""
    shape = input._data.shape
    if not shape:
        return reshape(input, (1,))
    s, e = _wrap_dim(start_dim, len(shape)), _wrap_dim(end_dim, len(shape))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    return reshape(input, shape[:s] + (math.prod(shape[s:e + 1]),) + shape[e + 1:])


@registry.op(method=True)
def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    """Split dimension ``dim`` into ``sizes`` (one entry may be -1); a view."""
    shape = input._data.shape
    d = _wrap_dim(dim, len(shape))
    sizes = _int_tuple(sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    if -1 not in sizes and math.prod(sizes) != shape[d]:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {d} "
                           f"({shape[d]}) in the input tensor")
    return reshape(input, shape[:d] + infer_shape(sizes, shape[d]) + shape[d + 1:])


@registry.op(method=True)
def ravel(input: Tensor) -> Tensor:
    """The elements as a 1-D tensor (a view when contiguous, else a copy)."""
    return reshape(input, (-1,))


@registry.op(method=True, numpy_aliases=True)
def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a dimension of size 1 at ``dim`` (a view)."""
    shape = input._data.shape
    d = _wrap_dim(dim, len(shape) + 1)
    return reshape(input, shape[:d] + (1,) + shape[d:])


@registry.op(method=True, numpy_aliases=True)
def squeeze(input: Tensor, dim=None) -> Tensor:
    """Remove dimensions of size 1: all of them, or those among ``dim`` (int or tuple) that are 1 (a view)."""
    shape = input._data.shape
    if dim is None:
        new = tuple(s for s in shape if s != 1)
    else:
        drop = _wrap_dims(_int_tuple(dim), len(shape))
        new = tuple(s for i, s in enumerate(shape) if not (i in drop and s == 1))
    return reshape(input, new)


# ---------------------------------------------------------------------------------------
# permute / transpose / movedim
# ---------------------------------------------------------------------------------------
class Permute(Op):
    @staticmethod
    def backward(ctx, g):
        return g.permute(tuple(np.argsort(ctx.dims).tolist()))


@registry.op(method=True)
def permute(input: Tensor, *dims) -> Tensor:
    """Reorder dimensions (a view)."""
    n = input._data.ndim
    dims = _shape_arg(dims)
    if len(dims) != n:
        raise RuntimeError("permute(sparse_coo): number of dimensions in the tensor input does not match the "
                           f"length of the desired ordering of dimensions i.e. input.dim() = {n} is not equal "
                           f"to len(dims) = {len(dims)}")
    dims = tuple(_wrap_dim(d, n) for d in dims)
    if len(set(dims)) != n:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return _view_result(Permute, input._data.transpose(dims), input, {"dims": dims})


@registry.op(method=True, aliases=("swapaxes", "swapdims"))
def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions (a view)."""
    n = input._data.ndim
    dims = list(range(n))
    a, b = _wrap_dim(dim0, n), _wrap_dim(dim1, n)
    if n:
        dims[a], dims[b] = dims[b], dims[a]
    return permute(input, dims)


@registry.op(method=True)
def t(input: Tensor) -> Tensor:
    """Transpose a tensor of at most 2 dimensions (0-d and 1-d tensors are returned as views)."""
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input._data.ndim}D")
    return transpose(input, 0, -1)


@registry.op(method=True)
def adjoint(input: Tensor) -> Tensor:
    """Conjugate transpose of the last two dimensions (the transpose, for real tensors)."""
    return _mT(input)


def _mT(self: Tensor) -> Tensor:
    if self._data.ndim < 2:
        raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. "
                           f"Got {self._data.ndim}-D tensor.")
    return transpose(self, -2, -1)


def _T(self: Tensor) -> Tensor:
    return permute(self, tuple(range(self._data.ndim - 1, -1, -1)))


@registry.op(method=True, aliases=("moveaxis",))
def movedim(input: Tensor, source, destination) -> Tensor:
    """Move dimensions ``source`` to positions ``destination``; the others keep their order (a view)."""
    n = input._data.ndim
    src, dst = _int_tuple(source), _int_tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} dims) should "
                           f"contain the same number of dims as destination ({list(dst)} dims)")
    src = tuple(_wrap_dim(d, n) for d in src)
    dst = tuple(_wrap_dim(d, n) for d in dst)
    for name, ds in (("source", src), ("destination", dst)):
        if len(set(ds)) != len(ds):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({list(ds)})")
    perm = [-1] * n
    for s, d in zip(src, dst):
        perm[d] = s
    rest = iter(i for i in range(n) if i not in src)
    return permute(input, [p if p != -1 else next(rest) for p in perm])


# ---------------------------------------------------------------------------------------
# expand / broadcast
# ---------------------------------------------------------------------------------------
class Expand(Op):
    @staticmethod
    def backward(ctx, g):
        # The engine sums the gradient back to the input's shape.
        return g


@registry.op(method=True)
def broadcast_to(input: Tensor, shape) -> Tensor:
    """A read-only broadcast view of ``input`` with ``shape`` (-1 keeps a dimension)."""
    shape = _int_tuple(shape)
    d = input._data
    lead = len(shape) - d.ndim
    if lead < 0:
        raise RuntimeError(f"expand({input.dtype}{{{list(d.shape)}}}, size={list(shape)}): the number of sizes "
                           f"provided ({len(shape)}) must be greater or equal to the number of dimensions in "
                           f"the tensor ({d.ndim})")
    full = []
    for i, s in enumerate(shape):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"The expanded size of the tensor ({s}) isn't allowed in a leading, "
                                   f"non-existing dimension {i}")
            full.append(s)
            continue
        have = d.shape[i - lead]
        if s == -1:
            s = have
        elif have != 1 and s != have:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing size ({have}) at "
                               f"non-singleton dimension {i}.  Target sizes: {list(shape)}.  "
                               f"Tensor sizes: {list(d.shape)}")
        full.append(s)
    return _view_result(Expand, xp_of(input).broadcast_to(d, tuple(full)), input)


@registry.method("expand")
def _expand(self: Tensor, *sizes) -> Tensor:
    return broadcast_to(self, _shape_arg(sizes))


@registry.method("expand_as")
def _expand_as(self: Tensor, other: Tensor) -> Tensor:
    return broadcast_to(self, other._data.shape)


@registry.op
def broadcast_shapes(*shapes) -> tuple:
    """The shape that all ``shapes`` (ints or sequences) broadcast to."""
    shapes = [_int_tuple(s) for s in shapes]
    ndim = max((len(s) for s in shapes), default=0)
    out = [1] * ndim
    for k, s in enumerate(shapes):
        for i, n in enumerate(s, ndim - len(s)):
            if n != 1 and out[i] != 1 and n != out[i]:
                raise RuntimeError(f"Attempting to broadcast a dimension of length {n} at {i - ndim}! Mismatching "
                                   f"argument at index {k} had {tuple(s)}; but expected shape should be "
                                   f"broadcastable to {out}")
            if n != 1:
                out[i] = n
    return Size(out)


@registry.op
def broadcast_tensors(*tensors) -> tuple:
    """Expand all tensors to their common broadcast shape (views)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    shape = broadcast_shapes(*(t._data.shape for t in tensors))
    return tuple(broadcast_to(t, shape) for t in tensors)


def _meshgrid_inputs(tensors) -> tuple:
    """The tensors of ``meshgrid(a, b)`` or ``meshgrid([a, b])``, checked as PyTorch checks them."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"meshgrid(): expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
    first = tensors[0]
    for t in tensors[1:]:
        if t._data.dtype != first._data.dtype:
            raise RuntimeError(f"meshgrid expects all tensors to have the same dtype (got {first.dtype} and {t.dtype})")
        if t._device is not first._device:
            raise RuntimeError(f"meshgrid expects all tensors to have the same device (got {first.device} and "
                               f"{t.device})")
    for t in tensors:
        if t._data.ndim > 1:
            raise RuntimeError(f"meshgrid: Expected 0D or 1D tensor in the tensor list but got a "
                               f"{t._data.ndim}-D tensor of shape {list(t._data.shape)}")
    return tensors


@registry.op
def meshgrid(*tensors, indexing: str | None = None) -> tuple:
    """Coordinate grids from 1-D (or 0-D) tensors: output ``i`` holds ``tensors[i]`` along dimension ``i``
    ("ij" indexing) and is expanded over the others. With "xy" the first two dimensions are swapped
    (Cartesian x, y order). The results are broadcast views of the inputs.

    >>> xs, ys = ember.meshgrid(ember.tensor([1, 2, 3]), ember.tensor([4, 5]), indexing="ij")
    >>> xs.shape   # ember.Size([3, 2])
    """
    tensors = _meshgrid_inputs(tensors)
    if indexing is None:
        warnings.warn("meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
                      UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    axes = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) >= 2:
        axes[0], axes[1] = 1, 0
    shape = [0] * len(tensors)
    for t, axis in zip(tensors, axes):
        shape[axis] = t._data.size
    grids = []
    for t, axis in zip(tensors, axes):
        lay = [1] * len(tensors)
        lay[axis] = -1
        grids.append(broadcast_to(reshape(t, lay), shape))
    return tuple(grids)


# ---------------------------------------------------------------------------------------
# Strided views (narrow, select, diagonal) and their adjoint (Embed)
# ---------------------------------------------------------------------------------------
# A "pick" is a function ``pick(xp, array) -> view of array``. A view op records the pick;
# its gradient is ``Embed`` (zeros with the picked part set to the gradient), whose own
# gradient picks the same part again.
class TakeView(Op):
    @staticmethod
    def backward(ctx, g):
        return Embed.apply(g, ctx.in_shape, ctx.pick)


class Slice(TakeView):
    pass


class Select(TakeView):
    pass


class Diagonal(TakeView):
    pass


class Embed(Op):
    """Zeros of ``shape`` whose part ``pick`` holds the input: the adjoint of a strided view."""

    @staticmethod
    def forward(ctx, xp, x, shape, pick):
        ctx.pick = pick
        out = xp.zeros(shape, x.dtype)
        pick(xp, out)[...] = x
        return out

    @staticmethod
    def backward(ctx, g):
        return _take(TakeView, g, ctx.pick), None, None


def _take(cls, x: Tensor, pick) -> Tensor:
    return _view_result(cls, pick(xp_of(x), x._data), x, {"in_shape": x._data.shape, "pick": pick})


def _index_pick(key: tuple):
    def pick(xp, a):
        return a[key]
    return pick


def _diagonal_pick(offset: int, dim1: int, dim2: int):
    def pick(xp, a):
        # Move the two dims last, start at the offset, then step along both at once.
        a = xp.moveaxis(a, (dim1, dim2), (-2, -1))
        a = a[..., :, offset:] if offset >= 0 else a[..., -offset:, :]
        n = min(a.shape[-2], a.shape[-1])
        step = a.strides[-2] + a.strides[-1]
        return xp.lib.stride_tricks.as_strided(a, a.shape[:-2] + (n,), a.strides[:-2] + (step,))
    return pick


@registry.op(method=True, numpy_aliases=True)
def narrow(input: Tensor, dim: int, start, length: int) -> Tensor:
    """Elements ``start .. start+length-1`` along ``dim`` (a view)."""
    shape = input._data.shape
    if not shape:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = _wrap_dim(dim, len(shape))
    size, start, length = shape[d], int(start), int(length)
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    if start < 0:
        start += size
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return _take(Slice, input, _index_pick((slice(None),) * d + (slice(start, start + length),)))


@registry.op(method=True, numpy_aliases=True)
def select(input: Tensor, dim: int, index) -> Tensor:
    """The slice at ``index`` along ``dim``, with that dimension removed (a view)."""
    shape = input._data.shape
    if not shape:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _wrap_dim(dim, len(shape))
    index = int(index)
    if not -shape[d] <= index < shape[d]:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(shape)} at dimension {d}")
    # The trailing Ellipsis keeps NumPy from returning a scalar for a 0-d result.
    return _take(Select, input, _index_pick((slice(None),) * d + (index % shape[d], Ellipsis)))


def _diag_dims(ndim: int, dim1: int, dim2: int) -> tuple:
    d1, d2 = _wrap_dim(dim1, ndim), _wrap_dim(dim2, ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


@registry.op(method=True)
def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The ``offset`` diagonal of the planes ``dim1``/``dim2``, as a new last dimension (a view)."""
    d1, d2 = _diag_dims(input._data.ndim, dim1, dim2)
    return _take(Diagonal, input, _diagonal_pick(int(offset), d1, d2))


class Unfold(Op):
    """``Tensor.unfold``: a strided view of sliding windows. Backward adds each window's gradient
    back where the window lies (``UnfoldBackward``), so overlapping windows sum."""

    @staticmethod
    def backward(ctx, g):
        return UnfoldBackward.apply(g, ctx.in_shape, ctx.dim, ctx.size, ctx.step)


class UnfoldBackward(Op):
    """Zeros of ``shape`` plus every window of ``g`` (``unfold``'s layout) added at its place."""

    @staticmethod
    def forward(ctx, xp, gd, shape, dim, size, step):
        ctx.dim, ctx.size, ctx.step = dim, size, step
        out = xp.zeros(shape, gd.dtype)
        n = gd.shape[dim]
        lead = (slice(None),) * dim
        # Loop over the shorter of the window length and the window count.
        if size <= n:
            for j in range(size):   # element j of every window: positions j, j + step, ...
                out[lead + (slice(j, j + (n - 1) * step + 1, step),)] += gd[..., j]
        else:
            for k in range(n):      # window k covers positions k*step .. k*step + size - 1
                out[lead + (slice(k * step, k * step + size),)] += xp.moveaxis(xp.take(gd, k, axis=dim), -1, dim)
        return out

    @staticmethod
    def backward(ctx, gg):
        return _unfold(gg, ctx.dim, ctx.size, ctx.step), None, None, None, None


def _unfold(x: Tensor, dim: int, size: int, step: int) -> Tensor:
    """Windows of ``size`` every ``step`` along ``dim`` (checked), as a new last dimension."""
    d = x._data
    n = (d.shape[dim] - size) // step + 1
    shape = d.shape[:dim] + (n,) + d.shape[dim + 1:] + (size,)
    strides = d.strides[:dim] + (d.strides[dim] * step,) + d.strides[dim + 1:] + (d.strides[dim],)
    out = xp_of(x).lib.stride_tricks.as_strided(d, shape, strides)
    if step < size and isinstance(out, np.ndarray):
        # Overlapping windows share memory: an in-place write through them would update some
        # elements several times, so the view is read-only (like an expanded tensor).
        out.flags.writeable = False
    return _view_result(Unfold, out, x, {"in_shape": d.shape, "dim": dim, "size": size, "step": step})


def _check_int(name: str, arg: str, v) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{name}(): argument '{arg}' must be int, not {type(v).__name__}")
    return int(v)


@registry.op(method=True, export=False)
def unfold(self: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """``Tensor.unfold``: all windows of length ``size`` taken every ``step`` along ``dimension``, as a
    view with the window elements in a new last dimension.

    >>> ember.arange(5.).unfold(0, 2, 2)   # tensor([[0., 1.], [2., 3.]])
    """
    dimension = _check_int("unfold", "dimension", dimension)
    size, step = _check_int("unfold", "size", size), _check_int("unfold", "step", step)
    d = self._data
    dim = _wrap_dim(dimension, d.ndim)
    length = d.shape[dim] if d.ndim else 1
    if size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {dim} is {length} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if not d.ndim:   # a 0-d tensor is one element: its single window is a (size,) view
        return reshape(_unfold(reshape(self, 1), 0, size, step), size)
    return _unfold(self, dim, size, step)


@registry.op(method=True)
def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Place the last dimension of ``input`` on the ``offset`` diagonal of the new planes ``dim1``/``dim2``."""
    shape = input._data.shape
    d1, d2 = _diag_dims(len(shape) + 1, dim1, dim2)
    n = shape[-1] + abs(int(offset))
    out_shape = list(shape[:-1])
    for d in sorted((d1, d2)):
        out_shape.insert(d, n)
    return Embed.apply(input, tuple(out_shape), _diagonal_pick(int(offset), d1, d2))


@registry.op(method=True)
def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """1-D input: a square matrix with ``input`` on the ``diagonal``-th diagonal; 2-D input: that diagonal
    as a new 1-D tensor."""
    n = input._data.ndim
    if n == 1:
        return diag_embed(input, diagonal, 0, 1)
    if n == 2:
        return _take(Diagonal, input, _diagonal_pick(int(diagonal), 0, 1)).clone()
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {n}D")


@registry.op(method=True)
def trace(input: Tensor) -> Tensor:
    """Sum of the main diagonal of a matrix (integer inputs sum to int64)."""
    if input._data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input._data.ndim}")
    return diagonal(input).sum()


# ---------------------------------------------------------------------------------------
# split / chunk / tensor_split / unbind: one node with several view outputs
# ---------------------------------------------------------------------------------------
class Split(Op):
    @staticmethod
    def forward(ctx, xp, x, dim, bounds):
        ctx.dim, ctx.bounds, ctx.in_shape = dim, bounds, x.shape
        pre = (slice(None),) * dim
        return tuple(x[pre + (slice(a, b),)] for a, b in bounds)

    @staticmethod
    def backward(ctx, *grads):
        dim, bounds, in_shape = ctx.dim, ctx.bounds, ctx.in_shape
        starts, ends = [a for a, _ in bounds], [b for _, b in bounds]
        if starts == [0] + ends[:-1] and ends[-1] == in_shape[dim]:
            return cat(grads, dim), None, None
        # Pieces that overlap or leave gaps (tensor_split at unordered indices): add each back in place.
        pre = (slice(None),) * dim
        total = None
        for (a, b), g in zip(bounds, grads):
            e = Embed.apply(g, in_shape, _index_pick(pre + (slice(a, b),)))
            total = e if total is None else total + e
        return total, None, None


class Unbind(Op):
    @staticmethod
    def forward(ctx, xp, x, dim):
        ctx.dim = dim
        pre = (slice(None),) * dim
        # The trailing Ellipsis keeps NumPy from returning scalars for 0-d pieces.
        return tuple(x[pre + (i, Ellipsis)] for i in range(x.shape[dim]))

    @staticmethod
    def backward(ctx, *grads):
        return stack(grads, ctx.dim), None


def _views_of(x: Tensor, outs) -> tuple:
    for o in outs:
        mark_view(o, x)
    return outs


def _split_at(x: Tensor, dim: int, bounds) -> tuple:
    """Views ``x[..., a:b]`` along ``dim`` for each ``(a, b)`` in ``bounds`` (Python slice semantics)."""
    size = x._data.shape[dim]
    norm = []
    for a, b in bounds:
        a, b, _ = slice(a, b).indices(size)
        norm.append((a, max(a, b)))
    return _views_of(x, Split.apply(x, dim, tuple(norm))) if norm else ()


def _bounds(sizes) -> list:
    ends = np.cumsum(sizes).tolist()
    return [(e - s, e) for s, e in zip(sizes, ends)]


@registry.op
def split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Split into pieces of ``split_size`` (the last may be smaller) or of the given sizes (views)."""
    shape = tensor._data.shape
    d = _wrap_dim(dim, len(shape))
    if not shape:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    size = shape[d]
    if isinstance(split_size_or_sections, (int, np.integer)) or (
            isinstance(split_size_or_sections, Tensor) and split_size_or_sections._data.ndim == 0):
        s = int(split_size_or_sections)
        if s < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={s}")
        if s == 0 and size:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}")
        sizes = [s] * (size // s) + ([size % s] if size % s else []) if s else [0]
    else:
        sizes = [int(v) for v in split_size_or_sections]
        if any(v < 0 for v in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative entries, but got "
                               f"split_sizes={sizes}")
        if sum(sizes) != size:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's "
                               f"size at dimension {d}), but got split_sizes={sizes}")
    return _split_at(tensor, d, _bounds(sizes))


@registry.method("split")
def _split_method(self: Tensor, split_size, dim: int = 0) -> tuple:
    return split(self, split_size, dim)


@registry.op(method=True, numpy_aliases=True)
def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Split into at most ``chunks`` pieces of equal size (the last may be smaller); views."""
    shape = input._data.shape
    if not shape:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = _wrap_dim(dim, len(shape))
    size = shape[d]
    if size == 0:
        return _split_at(input, d, [(0, 0)] * chunks)
    return split(input, -(-size // chunks), d)


@registry.op(method=True, numpy_aliases=True)
def tensor_split(input: Tensor, indices_or_sections, dim: int = 0) -> tuple:
    """Split into ``sections`` nearly equal pieces, or at the given ``indices`` (views, like NumPy's
    ``array_split``)."""
    shape = input._data.shape
    if not shape:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    d = _wrap_dim(dim, len(shape))
    size = shape[d]
    ios = indices_or_sections
    if isinstance(ios, Tensor):
        if ios._data.dtype != np.int64:
            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to have dtype of long, but got "
                               f"{ios.dtype.name.capitalize()}")
        if ios._data.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a zero-dimensional or "
                               f"one-dimensional tensor, but got a tensor with {ios._data.ndim} dims")
        ios = ios.item() if ios._data.ndim == 0 else ios.tolist()
    if isinstance(ios, (int, np.integer)):
        n = int(ios)
        if n <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {n}")
        q, r = divmod(size, n)
        return _split_at(input, d, _bounds([q + 1] * r + [q] * (n - r)))
    idx = [int(i) for i in ios]
    return _split_at(input, d, list(zip([0] + idx, idx + [None])))


@registry.op(method=True, numpy_aliases=True)
def unbind(input: Tensor, dim: int = 0) -> tuple:
    """The slices along ``dim``, with that dimension removed (views)."""
    shape = input._data.shape
    if not shape:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = _wrap_dim(dim, len(shape))
    return _views_of(input, Unbind.apply(input, d)) if shape[d] else ()


# ---------------------------------------------------------------------------------------
# cat / stack and friends
# ---------------------------------------------------------------------------------------
class Cat(Op):
    @staticmethod
    def forward(ctx, xp, dim, dtype, *arrays):
        # PyTorch's legacy rule: 1-D empty tensors are skipped (whatever the other tensors' shapes).
        ctx.dim = dim
        ctx.sizes = [None if _skipped(a) else a.shape[dim] for a in arrays]
        kept = [a.astype(dtype.np, copy=False) for a, s in zip(arrays, ctx.sizes) if s is not None]
        if not kept:
            return xp.zeros((0,), dtype.np)
        return xp.concatenate(kept, axis=dim)

    @staticmethod
    def backward(ctx, g):
        pieces = iter(split(g, [s for s in ctx.sizes if s is not None], ctx.dim))
        return (None, None) + tuple(None if s is None else next(pieces) for s in ctx.sizes)


def _skipped(t) -> bool:
    """A 1-D empty tensor (or its array), which ``cat`` skips."""
    return t.shape == (0,)


def _tensor_list(tensors, name: str) -> tuple:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, not "
                        f"{type(tensors).__name__}")
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element in argument 0, but got {type(t).__name__}")
    return tuple(tensors)


def _same_device(tensors, name: str) -> None:
    dev = tensors[0]._device
    for t in tensors[1:]:
        if t._device is not dev:
            raise device_mismatch(name, dev, t._device)


@registry.op(aliases=("concat", "concatenate"))
def cat(tensors, dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Concatenate tensors along an existing dimension ``dim``; dtypes are promoted to their result type."""
    if axis is not None:
        dim = axis
    tensors = _tensor_list(tensors, "cat")
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if t._data.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    _same_device(tensors, "cat")
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = dt.promote_types(dtype, t.dtype)
    kept = [(i, t._data.shape) for i, t in enumerate(tensors) if not _skipped(t)]
    d = 0
    if kept:
        first = kept[0][1]
        d = _wrap_dim(dim, len(first))
        for i, s in kept[1:]:
            if len(s) != len(first):
                raise RuntimeError(f"Tensors must have same number of dimensions: got {len(first)} and {len(s)}")
            for k in range(len(s)):
                if k != d and s[k] != first[k]:
                    raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected size "
                                       f"{first[k]} but got size {s[k]} for tensor number {i} in the list.")
    return Cat.apply(d, dtype, *tensors)


@registry.op(numpy_aliases=True)
def stack(tensors, dim: int = 0) -> Tensor:
    """Join tensors of equal shape along a new dimension ``dim``."""
    tensors = _tensor_list(tensors, "stack")
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    first = tensors[0]._data.shape
    for i, t in enumerate(tensors[1:], 1):
        if t._data.shape != first:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(first)} at entry 0 and "
                               f"{list(t._data.shape)} at entry {i}")
    d = _wrap_dim(dim, len(first) + 1)
    return cat([unsqueeze(t, d) for t in tensors], d)


def _atleast(nd: int, tensors):
    single = len(tensors) == 1 and isinstance(tensors[0], Tensor)
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    out = []
    for t in tensors:
        shape = t._data.shape
        if len(shape) < nd:
            # 0-d -> (1,)*nd; 1-d (n,) -> (1, n) or (1, n, 1); 2-d (m, n) -> (m, n, 1)
            new = {0: (1,) * nd, 1: (1,) + shape + (1,) * (nd - 2), 2: shape + (1,)}[len(shape)]
            t = reshape(t, new)
        out.append(t)
    return out[0] if single else tuple(out)


@registry.op
def atleast_1d(*tensors):
    """Each tensor with at least one dimension (a tuple for several inputs)."""
    return _atleast(1, tensors)


@registry.op
def atleast_2d(*tensors):
    """Each tensor with at least two dimensions (1-d tensors become rows)."""
    return _atleast(2, tensors)


@registry.op
def atleast_3d(*tensors):
    """Each tensor with at least three dimensions."""
    return _atleast(3, tensors)


@registry.op
def hstack(tensors) -> Tensor:
    """Concatenate horizontally: along dim 0 for 1-d tensors, else dim 1."""
    ts = atleast_1d(_tensor_list(tensors, "hstack"))
    return cat(ts, 0 if ts and ts[0]._data.ndim == 1 else 1)


@registry.op(aliases=("row_stack",))
def vstack(tensors) -> Tensor:
    """Concatenate vertically (rows), after making every tensor at least 2-d."""
    return cat(atleast_2d(_tensor_list(tensors, "vstack")), 0)


@registry.op
def dstack(tensors) -> Tensor:
    """Concatenate along the third dimension, after making every tensor at least 3-d."""
    return cat(atleast_3d(_tensor_list(tensors, "dstack")), 2)


@registry.op
def column_stack(tensors) -> Tensor:
    """Stack 0-d/1-d tensors as columns (and concatenate 2-d tensors) along dim 1."""
    ts = _tensor_list(tensors, "column_stack")
    return cat([reshape(t, (t._data.size, 1)) if t._data.ndim <= 1 else t for t in ts], 1)


# ---------------------------------------------------------------------------------------
# Rearranging copies: flip, roll, rot90, repeat, tile, repeat_interleave, tril/triu
# ---------------------------------------------------------------------------------------
class Flip(Op):
    @staticmethod
    def backward(ctx, g):
        return flip(g, ctx.dims)


@registry.op
def flip(input: Tensor, dims) -> Tensor:
    """Reverse the order of elements along ``dims`` (a copy, as in PyTorch)."""
    ds = _wrap_dims(_int_tuple(dims), input._data.ndim)
    out = xp_of(input).flip(input._data, ds).copy() if ds else input._data.copy()
    return _result(Flip, out, input, {"dims": ds})


@registry.method("flip")
def _flip_method(self: Tensor, *dims) -> Tensor:
    return flip(self, _shape_arg(dims))


@registry.op(method=True)
def fliplr(input: Tensor) -> Tensor:
    """Reverse the columns (dim 1) of a tensor with at least 2 dimensions."""
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


@registry.op(method=True)
def flipud(input: Tensor) -> Tensor:
    """Reverse the rows (dim 0) of a tensor with at least 1 dimension."""
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


class Roll(Op):
    @staticmethod
    def backward(ctx, g):
        return roll(g, tuple(-s for s in ctx.shifts), ctx.dims)


@registry.op(method=True)
def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Rotate elements along ``dims`` by ``shifts``; with ``dims=None`` the flattened tensor is rolled
    and the shape restored."""
    shifts = _int_tuple(shifts)
    if not shifts:
        raise RuntimeError("`shifts` required")
    n = input._data.ndim
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        out = xp_of(input).roll(input._data, shifts[0])
    else:
        dims = tuple(_wrap_dim(d, n) for d in _int_tuple(dims))
        if len(shifts) != len(dims):
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
        out = xp_of(input).roll(input._data, shifts, dims)
    return _result(Roll, out, input, {"shifts": shifts, "dims": dims})


@registry.op(method=True)
def rot90(input: Tensor, k: int = 1, dims=(0, 1)) -> Tensor:
    """Rotate by 90 degrees ``k`` times in the plane ``dims`` (from the first towards the second axis)."""
    dims = _int_tuple(dims)
    n = input._data.ndim
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if n < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {n}")
    a, b = _wrap_dim(dims[0], n), _wrap_dim(dims[1], n)
    if a == b:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {a} and dim1 = {b}")
    k = int(k) % 4
    if k == 1:
        return transpose(flip(input, (b,)), a, b)
    if k == 2:
        return flip(input, (a, b))
    if k == 3:
        return transpose(flip(input, (a,)), a, b)
    return input.clone()


class Repeat(Op):
    @staticmethod
    def backward(ctx, g):
        # Output dim i is (reps[i] copies) x (input size); sum over the copies.
        inter = []
        for r, p in zip(ctx.reps, ctx.padded):
            inter += [r, p]
        g = g.reshape(tuple(inter)).sum(tuple(range(0, len(inter), 2)))
        return g.reshape(ctx.in_shape)


@registry.method("repeat")
def _repeat(self: Tensor, *sizes) -> Tensor:
    """Tile the tensor ``sizes[i]`` times along each dimension (extra leading sizes add dimensions)."""
    reps = _shape_arg(sizes)
    d = self._data
    if len(reps) < d.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions "
                           "of tensor")
    padded = (1,) * (len(reps) - d.ndim) + d.shape
    out_shape = [r * p for r, p in zip(reps, padded)]
    if any(r < 0 for r in reps):
        bad = next(r for r in reps if r < 0)
        raise RuntimeError(f"Trying to create tensor with negative dimension {bad}: {out_shape}")
    if not reps:
        return self.clone()
    out = xp_of(self).tile(d.reshape(padded), reps)
    return _result(Repeat, out, self, {"reps": reps, "padded": padded, "in_shape": d.shape})


@registry.op(method=True)
def tile(input: Tensor, dims) -> Tensor:
    """Repeat the tensor ``dims[i]`` times along each dimension (missing leading dims count as 1)."""
    dims = _int_tuple(dims)
    return _repeat(input, (1,) * (input._data.ndim - len(dims)) + dims)


class RepeatInterleave(Op):
    @staticmethod
    def forward(ctx, xp, x, reps, dim):
        ctx.reps, ctx.dim = reps, dim
        r = _uniform(reps)
        if r is None and xp is not np:
            r = reps.tolist()  # CuPy takes per-element counts as a list
        return xp.repeat(x, reps if r is None else r, axis=dim)

    @staticmethod
    def backward(ctx, g):
        return SegmentSum.apply(g, ctx.reps, ctx.dim), None, None


class SegmentSum(Op):
    """Sums of consecutive segments of lengths ``reps`` along ``dim`` (the adjoint of repeat_interleave)."""

    @staticmethod
    def forward(ctx, xp, d, reps, dim):
        ctx.reps, ctx.dim = reps, dim
        pre, post, n = d.shape[:dim], d.shape[dim + 1:], len(reps)
        r = _uniform(reps)
        if r:  # equal segments: a reshape and a sum
            return d.reshape(pre + (n, r) + post).sum(axis=dim + 1)
        out = xp.zeros(pre + (n,) + post, d.dtype)
        nz = np.nonzero(reps)[0]
        if nz.size:  # reduceat would return an element, not 0, for an empty segment
            starts = (np.cumsum(reps) - reps)[nz]
            out[(slice(None),) * dim + (xp.asarray(nz),)] = xp.add.reduceat(d, xp.asarray(starts), axis=dim)
        return out

    @staticmethod
    def backward(ctx, g):
        return RepeatInterleave.apply(g, ctx.reps, ctx.dim), None, None


def _uniform(reps):
    """The common count when all of ``reps`` (a host int64 array) are equal, else None."""
    return int(reps[0]) if reps.size and (reps == reps[0]).all() else None


@registry.op(method=True, numpy_aliases=True)
def repeat_interleave(input: Tensor, repeats=None, dim: int | None = None, *, output_size: int | None = None):
    """Repeat each element ``repeats`` times (an int or one count per element) along ``dim``
    (flattened when ``dim`` is None). ``repeat_interleave(counts)`` gives ``[0]*counts[0] + [1]*counts[1] ...``."""
    if repeats is None:  # the one-argument form: indices repeated by counts
        counts = input
        return repeat_interleave(arange(counts._data.shape[0] if counts._data.ndim else 1,
                                        device=counts._device), counts, 0, output_size=output_size)
    if dim is None:
        input, dim = reshape(input, (-1,)), 0
    d = _wrap_dim(dim, input._data.ndim)
    if input._data.ndim == 0:
        input = reshape(input, (1,))
    size = input._data.shape[d]
    if isinstance(repeats, Tensor):
        if repeats._data.dtype.kind not in "iu":
            raise RuntimeError(f"repeat_interleave: repeats must be an integer tensor, got {repeats.dtype}")
        if repeats._data.ndim > 1:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        reps = repeats._host().astype(np.int64).reshape(-1)  # counts decide the output shape: keep them on host
        if reps.size == 1:
            reps = np.full(size, reps[0], np.int64)
        elif reps.size != size:
            raise RuntimeError(f"repeats must have the same size as input along dim, but got repeats.size(0) = "
                               f"{reps.size} and input.size({d}) = {size}")
        if size and reps.min() < 0:
            raise RuntimeError("repeats can not be negative")
    else:
        if int(repeats) < 0:
            raise RuntimeError("Repeats must be non-negative")
        reps = np.full(size, int(repeats), np.int64)
    if output_size is not None and int(reps.sum()) != output_size:
        raise RuntimeError(f"repeat_interleave: Invalid output_size, expected {int(reps.sum())} but got "
                           f"{output_size}")
    return RepeatInterleave.apply(input, reps, d)


class Tril(Op):
    @staticmethod
    def backward(ctx, g):
        return _triangle(Tril, g, ctx.k)


class Triu(Op):
    @staticmethod
    def backward(ctx, g):
        return _triangle(Triu, g, ctx.k)


def _triangle(cls, input: Tensor, diagonal: int) -> Tensor:
    name = cls.__name__.lower()
    if input._data.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    k = int(diagonal)
    return _result(cls, getattr(xp_of(input), name)(input._data, k), input, {"k": k})


@registry.op(method=True, inplace=True)
def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dimensions (elements on and below the ``diagonal``-th diagonal)."""
    return _triangle(Tril, input, diagonal)


@registry.op(method=True, inplace=True)
def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dimensions (elements on and above the ``diagonal``-th diagonal)."""
    return _triangle(Triu, input, diagonal)


registry.method("view_as", lambda self, other: _view(self, other._data.shape))
registry.method("reshape_as", lambda self, other: reshape(self, other._data.shape))
registry.method("mT", property(_mT))
registry.method("mH", property(_mT))
registry.method("T", property(_T))
