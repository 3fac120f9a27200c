"""Tensor creation: tensor, as_tensor, from_numpy, zeros/ones/full/empty (+ _like), arange, linspace, eye."""
from __future__ import annotations

import builtins
import math

import numpy as np

from .. import _dtype as dt
from .._tensor import Tensor, _make
from ..backend import CPU, Device
from ._registry import Registry

registry = Registry(globals())
__all__ = registry.exported   # filled in by the @registry decorators below


def resolve_device(device) -> Device:
    """An indexed, available device (``None`` -> CPU); raises a clear error for unavailable ones."""
    if device is None:
        return CPU
    d = device if type(device) is Device else Device(device)
    if d is CPU:
        return d
    d = d.resolved()
    backend = d.backend
    if not backend.is_available():
        raise RuntimeError(backend.unavailable_reason())
    n = backend.device_count()
    if d.index >= n:
        raise RuntimeError(f"invalid device {d}: only {n} {d.type} device(s) available (indices 0..{n - 1})")
    return d


def place(array: np.ndarray, device) -> Tensor:
    """Put a host array on ``device`` and wrap it."""
    d = resolve_device(device)
    if d is CPU:
        return _make(array, CPU)
    return _make(d.backend.from_host(array, d.index), d)


def parse_shape(args) -> tuple:
    """Accept ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` or ``f(ember.Size)``."""
    if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
        args = args[0]
    try:
        shape = tuple(builtins.int(s) for s in args)
    except TypeError:
        raise TypeError(f"size must be a sequence of integers, got {args!r}") from None
    if any(s < 0 for s in shape):
        raise RuntimeError(f"negative dimension in size {list(shape)}")
    return shape


def _finish(t: Tensor, requires_grad: bool) -> Tensor:
    if requires_grad:
        t.requires_grad_(True)
    return t


def _infer_numpy(data, dtype=None) -> np.ndarray:
    """Convert Python data to NumPy with PyTorch's dtype inference (``dtype``, when given, wins
    and Python floats go straight to it, without rounding through the default dtype)."""
    if isinstance(data, Tensor):
        return data._host()
    if isinstance(data, (np.ndarray, np.generic)):
        arr = np.asarray(data)
        return arr if arr.dtype in dt.FROM_NP else _convert_unsupported(arr)
    try:
        arr = np.array(data)
    except ValueError as e:
        raise ValueError(f"could not build a tensor from the given data: {e}") from None
    if arr.dtype == object:
        raise TypeError(f"could not infer a dtype for a tensor from {type(data).__name__} data "
                        "(ragged nested sequences or non-numeric elements?)")
    if arr.dtype.kind == "f":
        if dtype is not None:
            return arr
        return arr.astype(dt.get_default_dtype().np, copy=False) if _has_python_floats(data) else arr
    if arr.dtype.kind == "c":
        # Python complex numbers take the default dtype's complex counterpart (complex64), as floats do.
        if dtype is not None or not _has_python_floats(data):
            return arr
        return arr.astype(dt.default_complex().np, copy=False)
    if arr.dtype.kind in "iu" and arr.dtype != np.int64 and not isinstance(data, np.ndarray):
        return arr.astype(np.int64)
    if arr.dtype.kind == "U" or arr.dtype.kind == "S":
        raise TypeError(f"new(): invalid data type '{arr.dtype.kind == 'U' and 'str' or 'bytes'}'")
    return arr if arr.dtype in dt.FROM_NP else _convert_unsupported(arr)


def _has_python_floats(data) -> bool:
    # A list of float32 tensors/arrays keeps float32; Python floats use the default dtype.
    while isinstance(data, (list, tuple)) and data:
        data = data[0]
    return not isinstance(data, (Tensor, np.ndarray, np.generic))


def _convert_unsupported(arr: np.ndarray) -> np.ndarray:
    conv = {"uint16": np.int32, "uint32": np.int64, "float128": np.float64, "longdouble": np.float64}
    target = conv.get(arr.dtype.name)
    if target is None:
        raise TypeError(f"can't convert np.ndarray of type numpy.{arr.dtype.name}. The only supported types are: "
                        + ", ".join(d.name for d in dt.ALL))
    return arr.astype(target)


@registry.op
def tensor(data, *, dtype=None, device=None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (nested lists, scalars, arrays or tensors).

    >>> ember.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    """
    arr = _infer_numpy(data, dtype)
    arr = np.array(arr, dtype=None if dtype is None else dt.to_dtype(dtype).np, order="C", copy=True)
    if device is None and isinstance(data, Tensor):
        device = data._device
    return _finish(place(arr, device), requires_grad)


@registry.op(aliases=("asarray",))
def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like :func:`tensor` but shares memory with ``data`` when dtype and device already match."""
    if isinstance(data, Tensor):
        t = data
        if dtype is not None and dt.to_dtype(dtype) is not t.dtype:
            t = t.to(dt.to_dtype(dtype))
        if device is not None and resolve_device(device) is not t._device:
            t = t.to(device)
        return t
    arr = _infer_numpy(data, dtype)
    if dtype is not None:
        arr = arr.astype(dt.to_dtype(dtype).np, copy=False)
    return place(arr, device)


@registry.op
def from_numpy(array: np.ndarray) -> Tensor:
    """A CPU tensor sharing memory with a NumPy array (writes through both ways)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    if array.dtype not in dt.FROM_NP:
        raise TypeError(f"can't convert np.ndarray of type numpy.{array.dtype.name}. The only supported types are: "
                        + ", ".join(d.name for d in dt.ALL))
    return _make(array, CPU)


@registry.op
def scalar_tensor(value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    d = dt.to_dtype(dtype) if dtype is not None else dt.get_default_dtype()
    return _finish(place(np.asarray(value, dtype=d.np), device), requires_grad)


def _filled(shape, value, dtype, device, requires_grad) -> Tensor:
    d = resolve_device(device)
    npd = dtype.np
    if d is CPU:
        if value is None:
            arr = np.empty(shape, npd)
        elif value == 0:
            arr = np.zeros(shape, npd)
        else:
            arr = np.full(shape, value, npd)
        return _finish(_make(arr, CPU), requires_grad)
    xp = d.xp
    with _on(d):
        arr = xp.empty(shape, npd) if value is None else xp.full(shape, value, npd)
    return _finish(_make(arr, d), requires_grad)


def _on(d: Device):
    import contextlib
    if d.type == "cuda" and hasattr(d.xp, "cuda"):
        return d.xp.cuda.Device(d.index)
    return contextlib.nullcontext()


def _dtype_or_default(dtype):
    return dt.get_default_dtype() if dtype is None else dt.to_dtype(dtype)


@registry.op
def zeros(*size, dtype=None, device=None, requires_grad=False, layout=None, out=None, pin_memory=False) -> Tensor:
    """A tensor of zeros: ``ember.zeros(2, 3)`` or ``ember.zeros((2, 3))``."""
    return _filled(parse_shape(size), 0, _dtype_or_default(dtype), device, requires_grad)


@registry.op
def ones(*size, dtype=None, device=None, requires_grad=False, layout=None, out=None, pin_memory=False) -> Tensor:
    """A tensor of ones."""
    return _filled(parse_shape(size), 1, _dtype_or_default(dtype), device, requires_grad)


@registry.op
def empty(*size, dtype=None, device=None, requires_grad=False, layout=None, out=None, pin_memory=False,
          memory_format=None) -> Tensor:
    """An uninitialised tensor."""
    return _filled(parse_shape(size), None, _dtype_or_default(dtype), device, requires_grad)


def _fill_dtype(value):
    if isinstance(value, Tensor):
        return value.dtype
    return dt.scalar_dtype(value)


@registry.op
def full(size, fill_value, *, dtype=None, device=None, requires_grad=False, layout=None, out=None,
         pin_memory=False) -> Tensor:
    """A tensor filled with ``fill_value``; the dtype follows the value (bool, int64 or default float)."""
    d = _fill_dtype(fill_value) if dtype is None else dt.to_dtype(dtype)
    value = fill_value.item() if isinstance(fill_value, Tensor) else fill_value
    return _filled(parse_shape((size,)), value, d, device, requires_grad)


def _like(fn, input: Tensor, dtype, device, requires_grad, *args):
    dtype = input.dtype if dtype is None else dtype
    device = input._device if device is None else device
    return fn(*args, dtype=dtype, device=device, requires_grad=requires_grad)


@registry.op
def zeros_like(input, *, dtype=None, device=None, requires_grad=False, layout=None, memory_format=None) -> Tensor:
    return _like(lambda **k: zeros(input._data.shape, **k), input, dtype, device, requires_grad)


@registry.op
def ones_like(input, *, dtype=None, device=None, requires_grad=False, layout=None, memory_format=None) -> Tensor:
    return _like(lambda **k: ones(input._data.shape, **k), input, dtype, device, requires_grad)


@registry.op
def empty_like(input, *, dtype=None, device=None, requires_grad=False, layout=None, memory_format=None) -> Tensor:
    return _like(lambda **k: empty(input._data.shape, **k), input, dtype, device, requires_grad)


@registry.op
def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False, layout=None,
              memory_format=None) -> Tensor:
    return _like(lambda **k: full(input._data.shape, fill_value, **k), input, dtype, device, requires_grad)


@registry.op
def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False, layout=None, out=None) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 unless any bound is a float."""
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = vals
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(f"arange: upper bound and larger bound inconsistent with step sign "
                           f"(start={start}, end={end}, step={step})")
    if dtype is None:
        d = dt.get_default_dtype() if any(isinstance(v, float) for v in vals) else dt.int64
    else:
        d = dt.to_dtype(dtype)
    n = max(0, math.ceil((end - start) / step))
    arr = (start + step * np.arange(n, dtype=np.float64 if d.is_floating_point or not all(
        isinstance(v, int) for v in vals) else np.int64)).astype(d.np)
    return _finish(place(arr, device), requires_grad)


def _space_args(name: str, start, end, steps, dtype):
    """Validate linspace/logspace arguments as PyTorch does; ``(start, end, steps, dtype)`` as numbers."""
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)):
        raise TypeError(f"{name}(): argument 'steps' must be int, not {type(steps).__name__}")
    ends = []
    for label, v in (("start", start), ("end", end)):
        if isinstance(v, Tensor):
            if v.ndim:
                raise RuntimeError(f"{name} only supports 0-dimensional start and end tensors, but got {label} "
                                   f"with {v.ndim} dimension(s).")
            v = v.item()
        elif isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, complex) or not isinstance(v, (int, float)):
            raise TypeError(f"{name}(): argument '{label}' must be a Number or a 0-dim Tensor, not "
                            f"{type(v).__name__}")
        ends.append(float(v))
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    d = _dtype_or_default(dtype)
    if d is dt.bool:
        raise NotImplementedError(f'"{name}_cpu" not implemented for \'Bool\'')
    return ends[0], ends[1], int(steps), d


@registry.op
def linspace(start, end, steps: int, *, dtype=None, device=None, requires_grad=False, layout=None, out=None) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive.

    >>> linspace(0, 1, 5)
    tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])
    """
    start, end, steps, d = _space_args("linspace", start, end, steps, dtype)
    return _finish(place(_linspace_array(start, end, steps, d), device), requires_grad)


def _linspace_array(start: float, end: float, steps: int, d):
    """PyTorch's kernel: the step in the result dtype, then ``fma(step, i, start)`` for the first
    half and ``fma(-step, steps - 1 - i, end)`` for the second (so both ends are exact); integer
    dtypes truncate a float64 ramp."""
    if not d.is_floating_point or steps < 2:
        return np.linspace(start, end, steps, dtype=np.float64).astype(d.np)
    t = d.np.type
    lo, hi = t(start), t(end)
    step = (hi - lo) / t(steps - 1)
    i = np.arange(steps, dtype=np.float64)
    up = i < steps // 2
    arr = _fma(np.where(up, float(step), -float(step)), np.where(up, i, steps - 1 - i),
               np.where(up, float(lo), float(hi)))
    return arr.astype(d.np)


def _fma(a, b, c):
    """``a * b + c`` rounded once, for float64 arrays (an error-free product, as a fused multiply-add
    gives; inputs of lower precision are exact here already)."""
    p = a * b
    split = 134217729.0                                   # 2**27 + 1: Veltkamp's splitting constant
    ah = a * split - (a * split - a)
    bh = b * split - (b * split - b)
    err = ((ah * bh - p) + ah * (b - bh) + (a - ah) * bh) + (a - ah) * (b - bh)
    s = p + c
    bb = s - p
    return s + (((p - (s - bb)) + (c - bb)) + err)        # Knuth's two-sum error, plus the product's


@registry.op
def logspace(start, end, steps: int, base: float = 10.0, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``steps`` values from ``base ** start`` to ``base ** end``, evenly spaced in the exponent."""
    start, end, steps, d = _space_args("logspace", start, end, steps, dtype)
    if d.is_floating_point:   # the power in the result dtype, as PyTorch computes it
        arr = np.power(d.np.type(base), _linspace_array(start, end, steps, d))
    else:
        arr = np.power(float(base), _linspace_array(start, end, steps, dt.float64)).astype(d.np)
    return _finish(place(arr, device), requires_grad)


@registry.op
def eye(n: int, m: int | None = None, *, dtype=None, device=None, requires_grad=False, layout=None, out=None) -> Tensor:
    """A 2-D tensor with ones on the diagonal."""
    d = _dtype_or_default(dtype)
    return _finish(place(np.eye(n, n if m is None else m, dtype=d.np), device), requires_grad)


# ---- Tensor.new_* -----------------------------------------------------------------------
def _new_kwargs(self, dtype, device):
    return (self.dtype if dtype is None else dtype), (self._device if device is None else device)


@registry.method("new_zeros")
def _new_zeros(self, *size, dtype=None, device=None, requires_grad=False, **_):
    dtype, device = _new_kwargs(self, dtype, device)
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


@registry.method("new_ones")
def _new_ones(self, *size, dtype=None, device=None, requires_grad=False, **_):
    dtype, device = _new_kwargs(self, dtype, device)
    return ones(*size, dtype=dtype, device=device, requires_grad=requires_grad)


@registry.method("new_empty")
def _new_empty(self, *size, dtype=None, device=None, requires_grad=False, **_):
    dtype, device = _new_kwargs(self, dtype, device)
    return empty(*size, dtype=dtype, device=device, requires_grad=requires_grad)


@registry.method("new_full")
def _new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False, **_):
    dtype, device = _new_kwargs(self, dtype, device)
    return full(size, fill_value, dtype=dtype, device=device, requires_grad=requires_grad)


@registry.method("new_tensor")
def _new_tensor(self, data, *, dtype=None, device=None, requires_grad=False, **_):
    dtype, device = _new_kwargs(self, dtype, device)
    return tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)


def _tensor_new(cls, *args, device=None, dtype=None):
    """``ember.Tensor(data)`` and ``ember.Tensor(*sizes)``, as in PyTorch (default dtype)."""
    if len(args) == 1 and not isinstance(args[0], int):
        t = tensor(args[0], dtype=dtype or dt.get_default_dtype(), device=device)
    else:
        t = empty(*args, dtype=dtype, device=device)
    if cls is not Tensor:
        t2 = object.__new__(cls)
        for s in Tensor.__slots__[:-1]:
            setattr(t2, s, getattr(t, s))
        return t2
    return t


# ``ember.Tensor(...)`` / ``ember.Tensor(shape)``: the legacy constructor, set when the ops load.
registry.method("__new__", staticmethod(_tensor_new))
