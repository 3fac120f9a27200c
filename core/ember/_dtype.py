"""Ember dtypes and PyTorch's type-promotion rules.

A dtype wraps a NumPy dtype. Promotion follows PyTorch, not NumPy: categories
bool < integer < floating < complex; a higher category wins outright (int32 + float16 ->
float16), except that a complex result is wide enough for the floating operand's precision
(float64 + complex64 -> complex128); within a category the wider type wins. Zero-dimensional tensors and
Python scalars only take part when they are of a higher category than every
dimensioned operand, and a Python float then yields the default dtype (a Python complex: its
complex counterpart, complex64 for float32).
"""
from __future__ import annotations

import builtins as _builtins

import numpy as np

_py_float, _py_int, _py_bool, _py_complex = _builtins.float, _builtins.int, _builtins.bool, _builtins.complex

__all__ = [
    "dtype", "float16", "half", "float32", "float", "float64", "double",
    "int8", "int16", "short", "int32", "int", "int64", "long", "uint8", "bool", "qint8", "quint8",
    "complex64", "cfloat", "complex128", "cdouble",
    "set_default_dtype", "get_default_dtype", "promote_types", "result_type",
    "is_floating_point",
]

_BOOL, _INT, _FLOAT, _COMPLEX = 0, 1, 2, 3


class dtype:
    """A tensor element type, e.g. ``ember.float32``."""

    __slots__ = ("name", "np", "category", "itemsize", "is_floating_point", "is_signed", "is_complex")

    def __init__(self, name: str, np_dtype, category: int):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.category = category
        self.itemsize = self.np.itemsize
        self.is_floating_point = category == _FLOAT
        self.is_signed = self.np.kind not in "ub"
        self.is_complex = category == _COMPLEX

    def __repr__(self) -> str:
        return "ember." + self.name

    def __reduce__(self):
        return (_by_name, (self.name,))

    def to_real(self) -> "dtype":
        """The real dtype of the same precision (``complex64.to_real()`` is ``float32``); others: itself."""
        return _TO_REAL.get(self, self)

    def to_complex(self) -> "dtype":
        """The complex dtype of the same precision (``float32.to_complex()`` is ``complex64``).

        ``float16`` has no complex counterpart in Ember (PyTorch's ``complex32`` is not supported).
        """
        if self.is_complex:
            return self
        try:
            return _TO_COMPLEX[self]
        except KeyError:
            raise RuntimeError(f"{self} has no complex counterpart in Ember (complex64 and complex128 only)") from None


float16 = half = dtype("float16", np.float16, _FLOAT)
float32 = float = dtype("float32", np.float32, _FLOAT)
float64 = double = dtype("float64", np.float64, _FLOAT)
int8 = dtype("int8", np.int8, _INT)
int16 = short = dtype("int16", np.int16, _INT)
int32 = int = dtype("int32", np.int32, _INT)
int64 = long = dtype("int64", np.int64, _INT)
uint8 = dtype("uint8", np.uint8, _INT)
bool = dtype("bool", np.bool_, _BOOL)
complex64 = cfloat = dtype("complex64", np.complex64, _COMPLEX)
complex128 = cdouble = dtype("complex128", np.complex128, _COMPLEX)

ALL = (float16, float32, float64, int8, int16, int32, int64, uint8, bool, complex64, complex128)
_TO_REAL = {complex64: float32, complex128: float64}
_TO_COMPLEX = {float32: complex64, float64: complex128}

# The quantized element types name what ember.ao.quantization stores (int8 / uint8 values with a scale
# and zero point kept beside them by the quantized modules). There is no quantized tensor type, so
# they are kept out of ALL: no tensor has them, promotion never sees them, and NumPy's int8 still
# maps back to ember.int8.
qint8 = dtype("qint8", np.int8, _INT)
quint8 = dtype("quint8", np.uint8, _INT)
QUANTIZED = (qint8, quint8)

_NAMES = {d.name: d for d in ALL + QUANTIZED}
_NAMES.update(half=float16, float=float32, double=float64, short=int16, int=int32, long=int64, cfloat=complex64,
              cdouble=complex128)

# NumPy dtype -> Ember dtype. Keyed by the np.dtype object (hash/eq by value).
FROM_NP: dict = {d.np: d for d in ALL}


def _by_name(name: str) -> dtype:
    return _NAMES[name]


def from_numpy_dtype(np_dtype) -> dtype:
    try:
        return FROM_NP[np_dtype]
    except KeyError:
        pass
    try:
        return FROM_NP[np.dtype(np_dtype)]
    except (KeyError, TypeError):
        raise TypeError(
            f"can't convert NumPy dtype {np_dtype!r}: Ember supports "
            + ", ".join(d.name for d in ALL)
        ) from None


def to_dtype(obj) -> dtype:
    """Accept an Ember dtype, a NumPy dtype/type, a name, or Python's float/int/bool."""
    if type(obj) is dtype:
        return obj
    if obj is _py_float:
        return _default[0]
    if obj is _py_int:
        return int64
    if obj is _py_bool:
        return bool
    if obj is _py_complex:
        return default_complex()
    if isinstance(obj, str):
        try:
            return _NAMES[obj.removeprefix("ember.").removeprefix("torch.")]
        except KeyError:
            raise TypeError(f"unknown dtype name {obj!r}") from None
    return from_numpy_dtype(obj)


_default = [float32]


def get_default_dtype() -> dtype:
    """The dtype of floating-point tensors created from Python floats (float32 unless changed)."""
    return _default[0]


def default_complex() -> dtype:
    """The dtype of tensors made from Python complex numbers: the default dtype's complex counterpart
    (complex64 for float32 and float16: Ember has no complex32)."""
    return complex128 if _default[0] is float64 else complex64


def set_default_dtype(d) -> None:
    """Set the default floating-point dtype (``float32`` or ``float64``, or ``float16``)."""
    d = to_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default[0] = d
    _binary_cache.clear()


def is_floating_point(t) -> _py_bool:
    return t.dtype.is_floating_point


def _promote(a: dtype, b: dtype) -> dtype:
    if a.category != b.category:
        hi, lo = (a, b) if a.category > b.category else (b, a)
        if hi.is_complex and lo.is_floating_point:
            # complex64 + float64 -> complex128: the complex result keeps the float's precision.
            return _TO_COMPLEX[_promote(hi.to_real(), lo)] if lo is not float16 else hi
        return hi
    # Within a category PyTorch's table agrees with NumPy's (uint8 + int8 -> int16).
    return FROM_NP[np.promote_types(a.np, b.np)]


_PROMOTE = {(a, b): _promote(a, b) for a in ALL for b in ALL}


def promote_types(a: dtype, b: dtype) -> dtype:
    """The smallest dtype both ``a`` and ``b`` convert to, by PyTorch's rules."""
    try:
        return _PROMOTE[a, b]
    except KeyError:
        return _PROMOTE[to_dtype(a), to_dtype(b)]


# Operand "kinds" for promotion: a tensor with dimensions, a zero-dim tensor, a Python scalar.
DIM, ZERO_DIM, SCALAR = 0, 1, 2


def scalar_dtype(value) -> dtype:
    t = type(value)
    if t is _py_bool or t is np.bool_:
        return bool
    if t is _py_float or isinstance(value, np.floating):
        return _default[0]
    if t is _py_int or isinstance(value, np.integer):
        return int64
    if t is _py_complex or isinstance(value, np.complexfloating):
        return default_complex()
    raise TypeError(f"unsupported scalar type {t.__name__}")


def _operand(op):
    """(dtype, kind) of a tensor or a Python/NumPy scalar."""
    t = type(op)
    if t is _py_float or t is _py_int or t is _py_bool or t is _py_complex or isinstance(op, np.generic):
        return scalar_dtype(op), SCALAR
    data = getattr(op, "_data", None)  # a Tensor's array
    if data is None:
        raise TypeError(f"result_type() expects tensors and numbers, got {t.__name__}")
    return FROM_NP[data.dtype], DIM if data.ndim else ZERO_DIM


def result_type(*operands) -> dtype:
    """PyTorch's ``result_type`` over tensors and Python scalars."""
    if len(operands) == 2:
        return binary_result(*_operand(operands[0]), *_operand(operands[1]))
    best = [None, None, None]  # per kind: promoted dtype
    for op in operands:
        d, kind = _operand(op)
        best[kind] = d if best[kind] is None else _PROMOTE[best[kind], d]
    return _combine(best[DIM], best[ZERO_DIM], best[SCALAR])


def _combine(dim, zero, scalar) -> dtype:
    result = dim
    for other in (zero, scalar):
        if other is None:
            continue
        if result is None:
            result = other
        elif other.category > result.category:
            # A higher-category scalar/zero-dim operand decides the category; a float
            # Python scalar maps to the default dtype, a zero-dim tensor keeps its own.
            if other.is_complex and result.is_floating_point:
                # float64 tensor + complex scalar -> complex128: the tensor's precision is kept.
                result = _TO_COMPLEX.get(result, other) if result is not float16 else other
            else:
                result = other
    return result


_binary_cache: dict = {}


def binary_result(a_dt: dtype, a_kind: int, b_dt: dtype, b_kind: int) -> dtype:
    """Cached two-operand ``result_type`` keyed by dtype and operand kind."""
    key = (a_dt, a_kind, b_dt, b_kind)
    r = _binary_cache.get(key)
    if r is None:
        slots = [None, None, None]
        slots[a_kind] = a_dt
        slots[b_kind] = b_dt if slots[b_kind] is None else _PROMOTE[slots[b_kind], b_dt]
        r = _binary_cache[key] = _combine(*slots)
    return r
