"""Element-wise operations: arithmetic, unary math, comparisons and logic, with their gradients.

The unary and binary math ops are the table-driven family of :class:`~ember.autograd.function.Op`
(CONTRIBUTING.md, "element-wise ops"): each is declared by ``compute`` (its forward on device
arrays) next to ``grad`` (its backward in Ember ops, so double backward works), and what
backward needs is declared by ``save``. Their ``apply`` is a fast driver (:func:`unary`,
:func:`binary`) that handles promotion, Python-number operands and graph recording for all of
them, and builds a node only when a gradient is recorded. ``where`` and ``clamp`` are plain
:class:`Op` subclasses.
"""
from __future__ import annotations

import math

import numpy as np

from .. import _dtype as dt
from .._tensor import Tensor, _bump_version, _make
from ..autograd.function import Op, device_mismatch
from ..autograd.grad_mode import STATE, no_grad
from ..backend import CPU
from ._erf import _erf
from ._dispatch import (_SCALAR_TYPE_NAMES, align_devices, broadcast_pair_shape, check_writable, as_array, promote_pair, record, result_dtype_check,
                        save, scalar_value, to_float, xp_of)
from ._inplace import check_inplace_allowed, inplace, inplace_source, make_inplace, raise_leaf_inplace  # noqa: F401
from ._registry import Registry

registry = Registry(globals(), make_inplace=make_inplace)
__all__ = registry.exported   # filled in by the @registry.op decorators below

_STATE = STATE
_PY_SCALARS = (int, float, bool, complex)


# ---------------------------------------------------------------------------------------
# Unary ops
# ---------------------------------------------------------------------------------------
class UnaryOp(Op):
    """``compute(xp, x)`` on arrays (the forward); ``grad(g, saved)`` with Ember ops, where ``saved``
    is the input or the output according to ``save`` ("input", "output" or None). ``apply`` is the
    fast driver :func:`unary`."""

    float_only = True      # integer inputs are computed in the default float dtype
    save = "input"
    # Complex inputs: a holomorphic op with real Taylor coefficients (exp, log, sin, ...) has
    # f'(conj z) = conj f'(z), so its real formula ``grad`` evaluated at the conjugate of what was
    # saved gives PyTorch's gradient (the incoming one times the conjugate derivative). False for the
    # ops whose complex gradient is written out (abs) or that refuse complex input (``real_only``).
    holomorphic = True
    real_only = False      # refused for complex input (floor, sign, relu, erf, ...), as PyTorch does

    @staticmethod
    def compute(xp, x):
        raise NotImplementedError

    @staticmethod
    def grad(g, saved):
        raise NotImplementedError

    @classmethod
    def apply(cls, x):
        return unary(cls, x)

    @staticmethod
    def backward(ctx, g):
        (s,) = ctx.saved_tensors if ctx._saved else (None,)
        fn = ctx._fn
        if s is not None and fn.holomorphic and s._data.dtype.kind == "c":
            s = s.conj()
        return fn.grad(g, s)


def unary(cls, x):
    """Apply a unary op (the fast path of ``cls.apply``)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{cls.__name__.lower()}(): argument 'input' must be Tensor, not {type(x).__name__}")
    d = x._data
    if cls.float_only and d.dtype.kind != "f":
        if d.dtype.kind == "c":
            if cls.real_only:
                raise NotImplementedError(f"{cls.__name__.lower()} is not supported for complex inputs")
        else:
            d = to_float(d)
    elif cls.real_only and d.dtype.kind == "c":
        raise NotImplementedError(_COMPLEX_REFUSALS.get(cls.__name__, f"{cls.__name__.lower()} is not supported "
                                                        "for complex inputs"))
    out = cls.compute(np if x._device is CPU else x._device.xp, d)
    if type(out) is not np.ndarray:
        out = as_array(out)
    if x._rg and _STATE.enabled:
        if cls.save == "input":
            return record(cls, out, x._device, (x,), (save(x),))
        return record(cls, out, x._device, (x,), None, cls.save == "output")
    return _make(out, x._device)


def _unary_op(name, compute, grad=None, save="input", float_only=True, doc="", holomorphic=True, real_only=False):
    if grad is None:
        save = None
        grad = _zero_grad
    cls = type(name, (UnaryOp,), {
        "compute": staticmethod(compute), "grad": staticmethod(grad), "save": save,
        "float_only": float_only, "__doc__": doc, "holomorphic": holomorphic, "real_only": real_only,
    })
    return cls


# PyTorch's own wording where it has one.
_COMPLEX_REFUSALS = {
    "Sign": "Unlike NumPy, torch.sign is not intended to support complex numbers. Please use torch.sgn instead.",
    "Relu": "clamp is not supported for complex types",
}


def _abs_grad(g, x):
    # |z| is not holomorphic: its gradient is g * z / |z| (sgn), 0 at 0, as in PyTorch.
    return g * (x.sgn() if x._data.dtype.kind == "c" else x.sign())


def _zero_grad(g, saved):
    return g * 0


def _neg(xp, x):
    try:
        return -x
    except TypeError:  # NumPy refuses to negate bools; PyTorch raises this error
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are trying "
                           "to invert a mask, use the `~` or `logical_not()` operator instead.") from None


Neg = _unary_op("Neg", _neg, lambda g, x: -g, save=None, float_only=False)
Abs = _unary_op("Abs", lambda xp, x: xp.abs(x), _abs_grad, float_only=False, holomorphic=False)
Exp = _unary_op("Exp", lambda xp, x: xp.exp(x), lambda g, y: g * y, save="output")
Exp2 = _unary_op("Exp2", lambda xp, x: xp.exp2(x), lambda g, y: g * y * 0.6931471805599453, save="output")
Log = _unary_op("Log", lambda xp, x: xp.log(x), lambda g, x: g / x)
Log2 = _unary_op("Log2", lambda xp, x: xp.log2(x), lambda g, x: g / (x * 0.6931471805599453))
Log10 = _unary_op("Log10", lambda xp, x: xp.log10(x), lambda g, x: g / (x * 2.302585092994046))
Log1p = _unary_op("Log1p", lambda xp, x: xp.log1p(x), lambda g, x: g / (x + 1))
Expm1 = _unary_op("Expm1", lambda xp, x: xp.expm1(x), lambda g, y: g * (y + 1), save="output")
Sqrt = _unary_op("Sqrt", lambda xp, x: xp.sqrt(x), lambda g, y: g / (y * 2), save="output")
Rsqrt = _unary_op("Rsqrt", lambda xp, x: 1 / xp.sqrt(x), lambda g, y: g * y * y * y * -0.5, save="output")
# bool squares to int64, as in PyTorch (square is x ** 2, and an int scalar lifts bool to int64).
Square = _unary_op("Square", lambda xp, x: x * x if x.dtype.kind != "b" else x.astype(np.int64),
                   lambda g, x: g * x * 2, float_only=False)
Sin = _unary_op("Sin", lambda xp, x: xp.sin(x), lambda g, x: g * x.cos())
Cos = _unary_op("Cos", lambda xp, x: xp.cos(x), lambda g, x: -(g * x.sin()))
Tan = _unary_op("Tan", lambda xp, x: xp.tan(x), lambda g, y: g * (y * y + 1), save="output")
Asin = _unary_op("Asin", lambda xp, x: xp.arcsin(x), lambda g, x: g * (1 - x * x).rsqrt())
Acos = _unary_op("Acos", lambda xp, x: xp.arccos(x), lambda g, x: -(g * (1 - x * x).rsqrt()))
Atan = _unary_op("Atan", lambda xp, x: xp.arctan(x), lambda g, x: g / (x * x + 1))
Sinh = _unary_op("Sinh", lambda xp, x: xp.sinh(x), lambda g, x: g * x.cosh())
Cosh = _unary_op("Cosh", lambda xp, x: xp.cosh(x), lambda g, x: g * x.sinh())
Tanh = _unary_op("Tanh", lambda xp, x: xp.tanh(x), lambda g, y: g * (1 - y * y), save="output")
Asinh = _unary_op("Asinh", lambda xp, x: xp.arcsinh(x), lambda g, x: g * (x * x + 1).rsqrt())
Acosh = _unary_op("Acosh", lambda xp, x: xp.arccosh(x), lambda g, x: g * (x * x - 1).rsqrt())
Atanh = _unary_op("Atanh", lambda xp, x: xp.arctanh(x), lambda g, x: g / (1 - x * x))
Reciprocal = _unary_op("Reciprocal", lambda xp, x: 1 / x, lambda g, y: -(g * y * y), save="output")
Relu = _unary_op("Relu", lambda xp, x: xp.maximum(x, 0), lambda g, y: g * (y > 0), save="output", float_only=False, real_only=True)
Sign = _unary_op("Sign", lambda xp, x: xp.sign(x) if x.dtype.kind != "b" else x.copy(), float_only=False, real_only=True)
# Integers are already whole: a copy (never the input's own storage).
Floor = _unary_op("Floor", lambda xp, x: xp.floor(x) if x.dtype.kind == "f" else x.copy(), float_only=False, real_only=True)
Ceil = _unary_op("Ceil", lambda xp, x: xp.ceil(x) if x.dtype.kind == "f" else x.copy(), float_only=False, real_only=True)
Trunc = _unary_op("Trunc", lambda xp, x: xp.trunc(x) if x.dtype.kind == "f" else x.copy(), float_only=False, real_only=True)
Frac = _unary_op("Frac", lambda xp, x: x - xp.trunc(x), lambda g, x: g, save=None, real_only=True)


def _sigmoid(xp, x):
    # exp of a non-positive argument only, so large |x| neither overflows nor warns:
    # 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) below.
    dtype = x.dtype
    if dtype.kind == "c":
        return 1 / (1 + xp.exp(-x))   # no overflow-safe branches for complex: exp(-z) as it comes
    if dtype.itemsize < 4:
        x = x.astype(np.float32)  # half precision is computed in single precision, as in PyTorch
    e = xp.exp(-xp.abs(x))
    r = 1 / (1 + e)
    return xp.where(x >= 0, r, e * r).astype(dtype, copy=False)


Sigmoid = _unary_op("Sigmoid", _sigmoid, lambda g, y: g * y * (1 - y), save="output")


_TWO_OVER_SQRT_PI = 1.1283791670955126
Erf = _unary_op("Erf", lambda xp, x: _erf(xp, x), lambda g, x: g * (-(x * x)).exp() * _TWO_OVER_SQRT_PI,
                real_only=True)
# erfc directly, not 1 - erf (which cancels to 0 for large x, where erfc is tiny but not 0); exact
# through math.erfc because the fast interpolant loses relative accuracy in the far tail.
Erfc = _unary_op("Erfc", lambda xp, x: _math_fn(xp, x, math.erfc),
                 lambda g, x: -(g * (-(x * x)).exp() * _TWO_OVER_SQRT_PI), real_only=True)


def _math_fn(xp, x, fn):
    if xp is np:
        # math.erfc is exact to double precision; frompyfunc maps it over the array.
        return np.asarray(np.frompyfunc(fn, 1, 1)(x), dtype=x.dtype)
    return xp.asarray(_math_fn(np, xp.asnumpy(x), fn))


@registry.op(method=True, inplace=True, aliases=('negative',))
def neg(input):
    return unary(Neg, input)


def _abs_inplace(method, name):
    base = make_inplace(method, name)

    def inplace_method(self):
        if self._data.dtype.kind == "c":
            raise RuntimeError("In-place abs is not supported for complex tensors.")
        return base(self)
    inplace_method.__name__ = inplace_method.__qualname__ = name
    return inplace_method


@registry.op(method=True, inplace=True, inplace_maker=_abs_inplace, aliases=('absolute',))
def abs(input):
    return unary(Abs, input)


@registry.op(method=True, inplace=True)
def exp(input):
    return unary(Exp, input)


@registry.op(method=True, inplace=True)
def exp2(input):
    return unary(Exp2, input)


@registry.op(method=True, inplace=True)
def log(input):
    return unary(Log, input)


@registry.op(method=True, inplace=True)
def log2(input):
    return unary(Log2, input)


@registry.op(method=True, inplace=True)
def log10(input):
    return unary(Log10, input)


@registry.op(method=True, inplace=True)
def log1p(input):
    return unary(Log1p, input)


@registry.op(method=True, inplace=True)
def expm1(input):
    return unary(Expm1, input)


@registry.op(method=True, inplace=True)
def sqrt(input):
    return unary(Sqrt, input)


@registry.op(method=True, inplace=True)
def rsqrt(input):
    return unary(Rsqrt, input)


@registry.op(method=True, inplace=True)
def square(input):
    return unary(Square, input)


@registry.op(method=True, inplace=True)
def sin(input):
    return unary(Sin, input)


@registry.op(method=True, inplace=True)
def cos(input):
    return unary(Cos, input)


@registry.op(method=True, inplace=True)
def tan(input):
    return unary(Tan, input)


@registry.op(method=True, inplace=True, aliases=('arcsin',))
def asin(input):
    return unary(Asin, input)


@registry.op(method=True, inplace=True, aliases=('arccos',))
def acos(input):
    return unary(Acos, input)


@registry.op(method=True, inplace=True, aliases=('arctan',))
def atan(input):
    return unary(Atan, input)


@registry.op(method=True, inplace=True)
def sinh(input):
    return unary(Sinh, input)


@registry.op(method=True, inplace=True)
def cosh(input):
    return unary(Cosh, input)


@registry.op(method=True, inplace=True)
def tanh(input):
    return unary(Tanh, input)


@registry.op(method=True, inplace=True)
def asinh(input):
    return unary(Asinh, input)


@registry.op(method=True, inplace=True)
def acosh(input):
    return unary(Acosh, input)


@registry.op(method=True, inplace=True)
def atanh(input):
    return unary(Atanh, input)


@registry.op(method=True, inplace=True)
def sigmoid(input):
    return unary(Sigmoid, input)


@registry.op(method=True, inplace=True)
def reciprocal(input):
    return unary(Reciprocal, input)


@registry.op(method=True, inplace=True)
def relu(input):
    return unary(Relu, input)


@registry.op(method=True, inplace=True)
def sign(input):
    return unary(Sign, input)


@registry.op(method=True, inplace=True)
def floor(input):
    return unary(Floor, input)


@registry.op(method=True, inplace=True)
def ceil(input):
    return unary(Ceil, input)


@registry.op(method=True, inplace=True, aliases=('fix',))
def trunc(input):
    return unary(Trunc, input)


@registry.op(method=True, inplace=True)
def frac(input):
    return unary(Frac, input)


@registry.op(method=True, inplace=True)
def erf(input):
    return unary(Erf, input)


@registry.op(method=True)
def erfc(input):
    return unary(Erfc, input)


class Round(Op):
    """Rounding to ``decimals`` digits (``decimals=0`` is the unary op ``_Round0``)."""

    @staticmethod
    def forward(ctx, xp, d, decimals=0):
        if d.dtype.kind != "f":
            return d.copy()
        return as_array(xp.round(d, decimals))

    @staticmethod
    def backward(ctx, g):
        return g * 0, None


@registry.op(method=True, inplace=True)
def round(input, *, decimals: int = 0):
    """Round half to even, like PyTorch (``decimals`` digits after the point)."""
    if decimals == 0:
        return unary(_Round0, input)
    return Round.apply(input, decimals)


_Round0 = _unary_op("Round", lambda xp, x: xp.round(x) if x.dtype.kind == "f" else x.copy(), float_only=False,
                    real_only=True)


# ---------------------------------------------------------------------------------------
# Binary ops
# ---------------------------------------------------------------------------------------
class BinaryOp(Op):
    """``compute(a, b)`` on arrays (or a Python scalar operand), the forward; ``grad(g, a, b, out,
    needs)`` returns the two input gradients (``needs`` says which are wanted). ``apply`` is the
    fast driver :func:`binary`."""

    int_to_float = False   # integer operands are computed in the default float dtype (true division)
    no_bool = False        # bool operands are an error (subtraction)
    ufunc = None           # NumPy ufunc for the no-autograd in-place fast path (same-dtype float tensors)
    save_inputs = True
    save_out = False

    @staticmethod
    def compute(a, b):
        raise NotImplementedError

    @classmethod
    def apply(cls, a, b):
        return binary(cls, a, b)

    @staticmethod
    def backward(ctx, g):
        saved = ctx.saved_tensors
        cls = ctx._fn
        needs = ctx.needs_input_grad
        if cls.save_out:
            *ab, out = saved
        else:
            ab, out = saved, None
        a, b = ab if cls.save_inputs else (None, None)
        return cls.grad(g, a, b, out, needs)


def binary(cls, a, b):
    """Apply a binary op to tensors and/or Python scalars (at least one a Tensor)."""
    if isinstance(a, Tensor):
        ad = a._data
        dev = a._device
        if isinstance(b, Tensor):
            bd = b._data
            if b._device is not dev:
                ad, bd = align_devices(cls.__name__, a, b)
                dev = a._device if a._device is not CPU else b._device
            if ad.dtype is not bd.dtype:
                if cls.no_bool and "b" in (ad.dtype.kind, bd.dtype.kind):
                    raise _bool_error(ad.dtype.kind == bd.dtype.kind)
                ad, bd = promote_pair(a, b)
            rg = a._rg or b._rg
        else:
            if type(b) not in _PY_SCALARS:
                b = scalar_value(b)
                if isinstance(b, Tensor):
                    return binary(cls, a, b)
            ad = _with_scalar(cls, ad, b)
            bd = b
            rg = a._rg
    else:
        if type(a) not in _PY_SCALARS:
            a = scalar_value(a)
            if isinstance(a, Tensor):
                return binary(cls, a, b)
        bd = _with_scalar(cls, b._data, a)
        ad = a
        dev = b._device
        rg = b._rg
    if cls.int_to_float:
        if type(ad) not in _PY_SCALARS and ad.dtype.kind not in "fc":
            ad = to_float(ad)
        if type(bd) not in _PY_SCALARS and bd.dtype.kind not in "fc":
            bd = to_float(bd)
    try:
        out = cls.compute(ad, bd)
    except (OverflowError, TypeError, ValueError) as e:
        out = _compute_again(cls, ad, bd, e)
    if type(out) is not np.ndarray:
        out = as_array(out)
    if rg and _STATE.enabled:
        saved = None
        if cls.save_inputs:
            saved = (save(a) if isinstance(a, Tensor) else a, save(b) if isinstance(b, Tensor) else b)
        return record(cls, out, dev, (a, b), saved, cls.save_out)
    return _make(out, dev)


def _with_scalar(cls, d, s):
    """Array ``d`` cast so that combining it with Python scalar ``s`` gives PyTorch's result dtype:
    a float scalar lifts integer/bool tensors to the default dtype; an int scalar lifts bool to int64."""
    k = d.dtype.kind
    if type(s) is float:
        if k in "fc":
            return d
        if k == "b" and cls.no_bool:
            raise _bool_error(False)
        return d.astype(dt.get_default_dtype().np)
    if type(s) is complex:
        if k == "c":
            return d
        # float64 + 1j -> complex128; float32, integer and bool tensors -> the default complex dtype
        return d.astype((dt.complex128 if k == "f" and d.dtype.itemsize == 8 else dt.default_complex()).np)
    if k == "b" or type(s) is bool:
        if cls.no_bool:
            raise _bool_error(k == "b" and type(s) is bool)
        if k == "b" and type(s) is int:
            return d.astype(np.int64)
    return d


def _compute_again(cls, ad, bd, err):
    """Slow path for operand combinations NumPy rejects but PyTorch defines (or rejects differently)."""
    if isinstance(err, OverflowError):
        # A Python int outside the tensor dtype's range: converted as PyTorch converts it.
        if type(bd) is int and type(ad) is not int:
            return cls.compute(ad, _fit_int(ad, bd))
        if type(ad) is int:
            return cls.compute(_fit_int(bd, ad), bd)
    elif cls.no_bool and _kind(ad) == "b" and _kind(bd) == "b":
        raise _bool_error(True) from None
    elif isinstance(err, ValueError):
        _raise_shape_error(ad, bd, err)
    raise err


def _raise_shape_error(ad, bd, err):
    """NumPy's ValueError for operands that do not broadcast, as PyTorch's RuntimeError."""
    if type(ad) not in _PY_SCALARS and type(bd) not in _PY_SCALARS:
        broadcast_pair_shape(ad.shape, bd.shape)
    raise err


def _wrap_int(value: int, dtype) -> int:
    """``value`` reduced modulo 2**bits into ``dtype``'s range (C-style integer conversion)."""
    if not -(1 << 63) <= value < (1 << 64):
        raise OverflowError(f"Python integer {value} out of bounds for {dtype}")
    bits = dtype.itemsize * 8
    value &= (1 << bits) - 1
    if dtype.kind == "i" and value >= 1 << (bits - 1):
        value -= 1 << bits
    return value


def _bool_error(both: bool) -> RuntimeError:
    # PyTorch refuses subtraction with bool operands (``-`` on a mask is usually a bug).
    if both:
        return RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                            "Use the `^` or `logical_xor()` operator instead.")
    return RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying "
                        "to invert a mask, use the `~` or `logical_not()` operator instead.")


def _binary_op(name, compute, grad, save_inputs=True, save_out=False, int_to_float=False, no_bool=False, doc=""):
    return type(name, (BinaryOp,), {
        "compute": staticmethod(compute), "grad": staticmethod(grad), "save_inputs": save_inputs,
        "save_out": save_out, "int_to_float": int_to_float, "no_bool": no_bool, "__doc__": doc,
    })


def _conj(v):
    """The complex conjugate of a tensor or a Python number (the tensor itself when it is real).

    Backward formulas multiply by the conjugate of the other operand: PyTorch's gradient of a
    real loss with respect to a complex z is dL/dRe(z) + i dL/dIm(z), the conjugate Wirtinger one."""
    return v.conj() if isinstance(v, Tensor) else v.conjugate()


def _mul_grad(g, a, b, out, needs):
    return (g * _conj(b) if needs[0] else None, g * _conj(a) if needs[1] else None)


def _div_grad(g, a, b, out, needs):
    ga = g / _conj(b) if needs[0] else None
    gb = -(g * _conj(a)) / _conj(b * b) if needs[1] else None
    return ga, gb


def _pow_grad(g, a, b, out, needs):
    # PyTorch's formulas term by term (grad * (b * a**(b-1)), grad * (a**b * log a)), so that
    # NaN and inf land where PyTorch puts them, e.g. 0 * inf = NaN for a zero incoming gradient.
    if (out._data if out is not None else g._data).dtype.kind == "c" or type(a) is complex or type(b) is complex:
        return _complex_pow_grad(g, a, b, needs)
    ga = gb = None
    if needs[0]:
        if isinstance(b, Tensor):
            # Zero where the exponent is 0 (not 0 * inf at a == 0), as in PyTorch.
            ga = where(b == 0, 0.0, g * (b * pow(a, b - 1)))
        elif b == 0:
            ga = _make(_xp(a._data).zeros_like(a._data), a._device)
        else:
            ga = g * (b * pow(a, b - 1))
    if needs[1]:
        # d/db a**b = a**b * log(a), defined as 0 where a == 0 and b >= 0.
        if isinstance(a, Tensor):
            gb = g * where((a == 0) & (b >= 0), 0.0, pow(a, b) * log(a))
        elif a == 0:
            gb = g * where(b >= 0, 0.0, pow(a, b) * -math.inf)
        else:
            gb = g * (pow(a, b) * (math.log(a) if a > 0 else math.nan))  # a < 0: NaN, as PyTorch
    return ga, gb


def _complex_pow_grad(g, a, b, needs):
    # The conjugates of d/da a**b = b * a**(b-1) and d/db a**b = a**b * log(a); no special values.
    ga = g * _conj(b * pow(a, b - 1)) if needs[0] else None
    gb = None
    if needs[1]:
        log_a = log(a) if isinstance(a, Tensor) else _make(np.log(np.asarray(a, dtype=b._data.dtype)), b._device)
        gb = g * _conj(pow(a, b) * log_a)
    return ga, gb


def _atan2_grad(g, a, b, out, needs):
    denom = a * a + b * b
    return (g * b / denom if needs[0] else None, -(g * a) / denom if needs[1] else None)


def _minmax_grad(select):
    def grad(g, a, b, out, needs):
        # Ties split the gradient equally, as in PyTorch.
        ga = gb = None
        if needs[0]:
            ga = where(a == b, g * 0.5, where(select(a, b), g, 0.0))
        if needs[1]:
            gb = where(a == b, g * 0.5, where(select(b, a), g, 0.0))
        return ga, gb
    return grad


def _fminmax_grad(select):
    def grad(g, a, b, out, needs):
        # a wins ties and where b is NaN (so a gets the gradient when both are NaN), as in PyTorch.
        take_a = select(a, b) | isnan(b)
        return (where(take_a, g, 0.0) if needs[0] else None, where(take_a, 0.0, g) if needs[1] else None)
    return grad


def _hypot_grad(g, a, b, out, needs):
    return (g * a / out if needs[0] else None, g * b / out if needs[1] else None)


def _copysign_grad(g, a, b, out, needs):
    # d/da copysign(a, b) = out / a (the sign flip), defined as 0 at a == 0; ``b`` only lends its sign,
    # so its gradient is zero (PyTorch returns zeros, not None).
    ga = where(a == 0, 0.0, g * (out / where(a == 0, 1.0, a))) if needs[0] else None
    return ga, g * 0 if needs[1] else None


def _logaddexp_grad(g, a, b, out, needs):
    # d/da log(e^a + e^b) = 1 / (1 + e^(b - a)); NaN where both are the same infinity, as in PyTorch.
    return (g / ((b - a).exp() + 1) if needs[0] else None, g / ((a - b).exp() + 1) if needs[1] else None)


def _logaddexp2_grad(g, a, b, out, needs):
    return (g / ((b - a).exp2() + 1) if needs[0] else None, g / ((a - b).exp2() + 1) if needs[1] else None)


def _integral(a, b) -> bool:
    """Both operands integer/bool: division by zero is an error, as in PyTorch."""
    if _kind(a) == "f" or _kind(b) == "f":
        return False
    if (b == 0) if type(b) in _PY_SCALARS else bool((b == 0).any()):
        raise RuntimeError("ZeroDivisionError")
    return True


def _floor_div(a, b):
    # floor_divide (not floor(a / b)) keeps Python's identity a == b * (a // b) + a % b for floats.
    _integral(a, b)
    return _xp(a, b).floor_divide(a, b)


def _trunc_div(a, b):
    xp = _xp(a, b)
    if not _integral(a, b):
        return xp.trunc(xp.true_divide(a, b))
    # Exact integer quotient rounded toward zero: the floor quotient, plus one where the signs
    # differ and the division is inexact.
    q = xp.floor_divide(a, b)
    return q + ((xp.remainder(a, b) != 0) & ((a < 0) != (b < 0)))


def _remainder(a, b):
    _integral(a, b)
    return _xp(a, b).remainder(a, b)


def _fmod(a, b):
    _integral(a, b)
    return _xp(a, b).fmod(a, b)


def _pow(a, b):
    xp = _xp(a, b)
    if type(b) is float and (b == 0.5 or b == -0.5) and a.dtype.kind == "f":
        # PyTorch computes these two through sqrt and rsqrt, so (-inf) ** 0.5 is NaN (C's pow gives inf).
        r = xp.sqrt(a)
        return r if b > 0 else xp.reciprocal(r, out=r)
    try:
        out = xp.power(a, b)
    except (ValueError, OverflowError) as e:
        # NumPy refuses negative integer exponents: an error for a Python-number exponent, as in
        # PyTorch, but defined element-wise for a tensor exponent.
        if type(b) is int and b < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.") from None
        if isinstance(e, OverflowError):
            raise
        return _int_pow(xp, a, b)
    if out.dtype is _INT8 and _is_bool(a) and _is_bool(b):
        return out.astype(bool)  # NumPy gives int8 for bool ** bool; PyTorch keeps bool
    return out


_INT8 = np.dtype(np.int8)


def _is_bool(x) -> bool:
    return type(x) is bool or (type(x) not in _PY_SCALARS and x.dtype.kind == "b")


def _int_pow(xp, a, b):
    """Integer powers with a tensor of exponents, some negative: as in PyTorch, 1 for base 1,
    +-1 for base -1 and 0 otherwise where the exponent is negative."""
    neg = b < 0
    out = xp.power(a, xp.where(neg, 0, b))
    odd = (b & 1) == 1
    at_neg = xp.where(a == 1, 1, xp.where(a == -1, xp.where(odd, -1, 1), 0))
    return xp.where(neg, at_neg, out).astype(out.dtype, copy=False)


def _in_float32_if_half(fn):
    """A float compute that runs half precision in float32 (PyTorch's opmath), rounding the result back."""
    def compute(a, b):
        if not any(type(x) not in _PY_SCALARS and x.dtype == np.float16 for x in (a, b)):
            return fn(_xp(a, b), a, b)
        up = [x.astype(np.float32) if type(x) not in _PY_SCALARS else x for x in (a, b)]
        return fn(_xp(a, b), *up).astype(np.float16)
    return compute


def _shift(name: str, left: bool):
    """Integer shift with PyTorch's rules for shift counts outside ``[0, bits)``: 0 for a left
    shift; the sign fill (0 or -1) for a right shift. Float and bool results are not defined."""
    def compute(a, b):
        xp = _xp(a, b)
        like = b if type(a) in _PY_SCALARS else a
        a = a if type(a) not in _PY_SCALARS else xp.asarray(a, dtype=like.dtype)  # OverflowError -> wrapped
        b = b if type(b) not in _PY_SCALARS else xp.asarray(b, dtype=like.dtype)
        if a.dtype.kind not in "iu":
            raise NotImplementedError(f'"{name}" not implemented for \'{_SCALAR_TYPE_NAMES[a.dtype.name]}\'')
        bits = a.dtype.itemsize * 8
        valid = (b >= 0) & (b < bits)
        counts = xp.where(valid, b, 0).astype(a.dtype, copy=False)
        if left:
            return xp.where(valid, xp.left_shift(a, counts), 0).astype(a.dtype, copy=False)
        fill = xp.right_shift(a, bits - 1) if a.dtype.kind == "i" else 0
        return xp.where(valid, xp.right_shift(a, counts), fill).astype(a.dtype, copy=False)
    return compute


def _kind(x):
    return "f" if isinstance(x, float) else "i" if isinstance(x, (int, bool)) else x.dtype.kind


def _no_grad_binary(g, a, b, out, needs):
    return (g * 0 if needs[0] else None, g * 0 if needs[1] else None)


def _remainder_grad(g, a, b, out, needs):
    return (g if needs[0] else None, -(g * floor_divide(a, b)) if needs[1] else None)


def _fmod_grad(g, a, b, out, needs):
    return (g if needs[0] else None, -(g * trunc(div(a, b))) if needs[1] else None)


def _xp(*arrays):
    for x in arrays:
        if not isinstance(x, (int, float, bool, np.ndarray)):
            import sys
            return sys.modules[type(x).__module__.split(".")[0]]
    return np


Add = _binary_op("Add", lambda a, b: a + b, lambda g, a, b, out, needs: (g, g), save_inputs=False)
Sub = _binary_op("Sub", lambda a, b: a - b, lambda g, a, b, out, needs: (g, -g if needs[1] else None),
                 save_inputs=False, no_bool=True)
Mul = _binary_op("Mul", lambda a, b: a * b, _mul_grad)
Div = _binary_op("Div", lambda a, b: a / b, _div_grad, int_to_float=True)
Pow = _binary_op("Pow", _pow, _pow_grad)
Atan2 = _binary_op("Atan2", lambda a, b: _xp(a, b).arctan2(a, b), _atan2_grad, int_to_float=True)
Maximum = _binary_op("Maximum", lambda a, b: _xp(a, b).maximum(a, b), _minmax_grad(lambda x, y: x > y))
Minimum = _binary_op("Minimum", lambda a, b: _xp(a, b).minimum(a, b), _minmax_grad(lambda x, y: x < y))
Fmax = _binary_op("Fmax", lambda a, b: _xp(a, b).fmax(a, b), _fminmax_grad(lambda x, y: x >= y))
Fmin = _binary_op("Fmin", lambda a, b: _xp(a, b).fmin(a, b), _fminmax_grad(lambda x, y: x <= y))
Hypot = _binary_op("Hypot", lambda a, b: _xp(a, b).hypot(a, b), _hypot_grad, save_out=True, int_to_float=True)
Copysign = _binary_op("Copysign", lambda a, b: _xp(a, b).copysign(a, b), _copysign_grad, save_out=True,
                      int_to_float=True)
LogAddExp = _binary_op("LogAddExp", _in_float32_if_half(lambda xp, a, b: xp.logaddexp(a, b)), _logaddexp_grad)
LogAddExp2 = _binary_op("LogAddExp2", _in_float32_if_half(lambda xp, a, b: xp.logaddexp2(a, b)), _logaddexp2_grad)
LeftShift = _binary_op("LeftShift", _shift("lshift", True), _no_grad_binary, save_inputs=False)
RightShift = _binary_op("RightShift", _shift("rshift", False), _no_grad_binary, save_inputs=False)
FloorDivide = _binary_op("FloorDivide", _floor_div, _no_grad_binary)
TruncDivide = _binary_op("TruncDivide", _trunc_div, _no_grad_binary)
Remainder = _binary_op("Remainder", _remainder, _remainder_grad)
Fmod = _binary_op("Fmod", _fmod, _fmod_grad)


def _with_alpha(input, other, alpha):
    """``alpha * other`` for add/sub. As in PyTorch, ``alpha`` takes no part in type promotion:
    the product is kept in the result type of ``input`` and ``other``."""
    if alpha == 1 and alpha is not True:
        return other
    if isinstance(input, Tensor) and isinstance(other, Tensor) and input._data.dtype is other._data.dtype:
        r = dt.FROM_NP[input._data.dtype]
    else:
        r = dt.result_type(input, other)
    if type(alpha) is bool and r is not dt.bool:
        raise RuntimeError("Boolean alpha only supported for Boolean results.")
    if isinstance(alpha, float) and not (r.is_floating_point or r.is_complex):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
    if isinstance(alpha, complex) and not r.is_complex:
        raise RuntimeError("For non-complex input tensors, argument alpha must not be a complex number.")
    scaled = other * alpha
    return scaled.to(r) if isinstance(scaled, Tensor) and scaled.dtype is not r else scaled


# ---------------------------------------------------------------------------------------
# In-place binary ops: without autograd, a fast path writes the ufunc straight into ``self``
# ---------------------------------------------------------------------------------------
def _fast_inplace(self, other, cls, name):
    # Without autograd and with matching dtypes this writes straight into self's storage.
    if not _STATE.enabled or not (self._rg or (isinstance(other, Tensor) and other._rg)):
        if isinstance(other, Tensor) and other._device is self._device and other._data.dtype is self._data.dtype \
                and self._data.dtype.kind == "f" and cls.ufunc is not None:
            sd = self._data
            check_writable(sd)
            if broadcast_pair_shape(sd.shape, other._data.shape) == sd.shape:
                cls.ufunc(sd, other._data, out=sd) if self._device is CPU else \
                    getattr(self._device.xp, cls.ufunc.__name__)(sd, other._data, out=sd)
                _bump_version(self)
                return self
    return inplace(self, binary(cls, inplace_source(self), other), name)


Add.ufunc, Sub.ufunc, Mul.ufunc, Div.ufunc = np.add, np.subtract, np.multiply, np.divide


def _fast_inplace_maker(cls, pre=None):
    """The ``inplace_maker`` of a binary op with :func:`_fast_inplace`: the op class ``cls`` stands
    for the out-of-place method; ``pre(self, other, *args, **kwargs)`` folds extra arguments
    (``alpha``) into ``other``."""
    def make(method, name):
        if pre is None:
            def inplace_method(self, other):
                return _fast_inplace(self, other, cls, name)
        else:
            def inplace_method(self, other, *args, **kwargs):
                return _fast_inplace(self, pre(self, other, *args, **kwargs), cls, name)
        inplace_method.__name__ = name
        return inplace_method
    return make


def _alpha_pre(self, other, alpha=1):
    return _with_alpha(self, other, alpha)


def _div_(self, other, *, rounding_mode=None):
    if rounding_mode is None:
        return _fast_inplace(self, other, Div, "div_")
    return inplace(self, div(inplace_source(self), other, rounding_mode=rounding_mode), "div_")


def _comparison_inplace(method, name):
    """``x.eq_(y)``: the comparison written into ``x`` in its own dtype, as PyTorch does."""
    return make_inplace(lambda self, other: method(self, other).to(self.dtype), name)


@registry.op(method=True, inplace=True, inplace_maker=_fast_inplace_maker(Add, _alpha_pre))
def add(input, other, *, alpha=1, out=None):
    """``input + alpha * other`` with broadcasting and type promotion."""
    return binary(Add, input, _with_alpha(input, other, alpha))


@registry.op(method=True, inplace=('sub_', 'subtract_'), inplace_maker=_fast_inplace_maker(Sub, _alpha_pre), aliases=('subtract',))
def sub(input, other, *, alpha=1, out=None):
    """``input - alpha * other``."""
    return binary(Sub, input, _with_alpha(input, other, alpha))


@registry.op(method=True, inplace=('mul_', 'multiply_'), inplace_maker=_fast_inplace_maker(Mul), aliases=('multiply',))
def mul(input, other, *, out=None):
    return binary(Mul, input, other)


@registry.op(method=True, inplace=('div_', 'divide_'), inplace_maker=lambda method, name: _div_, aliases=('divide',))
def div(input, other, *, rounding_mode=None, out=None):
    """True division; ``rounding_mode="trunc"`` or ``"floor"`` rounds the quotient."""
    if rounding_mode is None:
        return binary(Div, input, other)
    if rounding_mode == "floor":
        return floor_divide(input, other)
    if rounding_mode == "trunc":
        return binary(TruncDivide, input, other)
    raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'")


@registry.op(method=True, inplace=True, inplace_maker=_fast_inplace_maker(Div))
def true_divide(input, other):
    return binary(Div, input, other)


@registry.op(method=True, inplace=True, inplace_maker=_fast_inplace_maker(FloorDivide))
def floor_divide(input, other):
    return binary(FloorDivide, input, other)


@registry.op(method=True, inplace=True, inplace_maker=_fast_inplace_maker(Remainder))
def remainder(input, other):
    """Python-style modulus (the result has the sign of the divisor)."""
    return binary(Remainder, input, other)


@registry.op(method=True, inplace=True, inplace_maker=_fast_inplace_maker(Fmod))
def fmod(input, other):
    """C-style modulus (the result has the sign of the dividend)."""
    return binary(Fmod, input, other)


@registry.op(method=True, inplace=True, inplace_maker=_fast_inplace_maker(Pow))
def pow(input, exponent):
    """``input ** exponent``; either may be a tensor or a Python number."""
    return binary(Pow, input, exponent)


@registry.op(method=True)
def float_power(input, exponent):
    a = input.double() if isinstance(input, Tensor) else float(input)
    b = exponent.double() if isinstance(exponent, Tensor) else float(exponent)
    return binary(Pow, a, b)


@registry.op(method=True, inplace=True, inplace_maker=_fast_inplace_maker(Atan2), aliases=('arctan2',))
def atan2(input, other):
    return binary(Atan2, input, other)


def _refuse_complex_pair(name, a, b):
    if any(isinstance(v, Tensor) and v._data.dtype.kind == "c" or type(v) is complex for v in (a, b)):
        raise RuntimeError(f"{name} not implemented for complex tensors.")


@registry.op(method=True, inplace=True)
def maximum(input, other):
    _refuse_complex_pair("maximum", input, other)
    return binary(Maximum, input, other)


@registry.op(method=True, inplace=True)
def minimum(input, other):
    _refuse_complex_pair("minimum", input, other)
    return binary(Minimum, input, other)


@registry.op(method=True, inplace=True)
def fmax(input, other):
    return binary(Fmax, input, other)


@registry.op(method=True, inplace=True)
def fmin(input, other):
    return binary(Fmin, input, other)


@registry.op(method=True, inplace=True)
def hypot(input, other):
    return binary(Hypot, input, other)


@registry.op(method=True, inplace=True, inplace_maker=_fast_inplace_maker(Copysign))
def copysign(input, other):
    """``input``'s magnitude with ``other``'s sign (``other`` a tensor or a number; -0.0 counts as
    negative). Integer and bool inputs give the default float dtype.

    >>> ember.copysign(ember.tensor([1.0, -2.0]), -1)   # tensor([-1., -2.])
    """
    _check_tensor_arg("copysign", "input", input)
    return binary(Copysign, input, other)


def _float_pair(name: str, input, other) -> None:
    """logaddexp/logaddexp2 take two tensors whose result type is floating point."""
    _check_tensor_arg(name, "input", input)
    _check_tensor_arg(name, "other", other)
    r = dt.result_type(input, other)
    if not r.is_floating_point:
        raise NotImplementedError(f'"{name}" not implemented for \'{_SCALAR_TYPE_NAMES[r.name]}\'')


def _check_tensor_arg(name: str, arg: str, v) -> None:
    if not isinstance(v, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' must be Tensor, not {type(v).__name__}")


@registry.op(method=True)
def logaddexp(input, other):
    """``log(exp(input) + exp(other))`` without overflow (floating-point tensors).

    >>> ember.logaddexp(ember.tensor([0.0]), ember.tensor([0.0]))   # tensor([0.6931])
    """
    _float_pair("logaddexp", input, other)
    return binary(LogAddExp, input, other)


@registry.op(method=True)
def logaddexp2(input, other):
    """``log2(2**input + 2**other)`` without overflow (floating-point tensors)."""
    _float_pair("logaddexp2", input, other)
    return binary(LogAddExp2, input, other)


# ---------------------------------------------------------------------------------------
# Comparisons and logic (not differentiable: results are bool)
# ---------------------------------------------------------------------------------------
_ORDERED = {"less": "lt", "greater": "gt", "less_equal": "le", "greater_equal": "ge"}


def _refuse_complex_order(ufunc, ad, bd):
    """PyTorch has no order on complex numbers (NumPy's is lexicographic): lt/gt/le/ge refuse them."""
    kinds = [getattr(v, "dtype", None) for v in (ad, bd)]
    if any(k is not None and k.kind == "c" for k in kinds) or type(bd) is complex:
        d = next((k for k in kinds if k is not None and k.kind == "c"), dt.default_complex().np)
        raise NotImplementedError(f'"{_ORDERED[ufunc.__name__]}_cpu" not implemented for '
                                  f"'{_SCALAR_TYPE_NAMES[dt.FROM_NP[d].name]}'")


def _compare(ufunc, a, b):
    if isinstance(a, Tensor):
        ad, dev = a._data, a._device
        if isinstance(b, Tensor):
            bd = b._data
            if b._device is not dev:
                ad, bd = align_devices(ufunc.__name__, a, b)
                dev = a._device if a._device is not CPU else b._device
        else:
            tb = type(b)
            if tb is int:
                if b < 0 or b > 127:  # cheap test first: most scalars fit every integer dtype
                    b = _fit_int(ad, b)
            elif tb is not float and tb is not bool and tb is not complex:
                b = scalar_value(b)
                if isinstance(b, Tensor):
                    return _compare(ufunc, a, b)
                if type(b) is int:
                    b = _fit_int(ad, b)
            bd = b
    else:
        return _compare(_SWAPPED.get(ufunc, ufunc), b, a)
    if (ad.dtype.kind == "c" or (bd.dtype.kind == "c" if type(bd) not in _PY_SCALARS else type(bd) is complex)) \
            and ufunc.__name__ in _ORDERED:
        _refuse_complex_order(ufunc, ad, bd)
    try:
        if dev is CPU:
            return _make(as_array(ufunc(ad, bd)), dev)
        return _make(as_array(getattr(dev.xp, ufunc.__name__)(ad, bd)), dev)
    except ValueError as e:
        _raise_shape_error(ad, bd, e)


def _fit_int(d, value: int):
    """A Python int operand converted for array ``d`` as PyTorch converts scalars to the tensor's
    dtype: wrapped around into an integer dtype's range; a float beyond int64 for floating point."""
    k = d.dtype.kind
    if k in "iu":
        info = np.iinfo(d.dtype)
        return value if info.min <= value <= info.max else _wrap_int(value, d.dtype)
    if k == "f" and not -(1 << 63) <= value < (1 << 63):
        return float(value)  # NumPy won't convert such ints to a floating-point dtype itself
    return value


_SWAPPED = {np.less: np.greater, np.greater: np.less, np.less_equal: np.greater_equal,
            np.greater_equal: np.less_equal}


@registry.op(method=True, inplace=True, inplace_maker=_comparison_inplace, aliases=())
def eq(input, other):
    return _compare(np.equal, input, other)


@registry.op(method=True, inplace=True, inplace_maker=_comparison_inplace, aliases=('not_equal',))
def ne(input, other):
    return _compare(np.not_equal, input, other)


@registry.op(method=True, inplace=True, inplace_maker=_comparison_inplace, aliases=('less',))
def lt(input, other):
    return _compare(np.less, input, other)


@registry.op(method=True, inplace=True, inplace_maker=_comparison_inplace, aliases=('less_equal',))
def le(input, other):
    return _compare(np.less_equal, input, other)


@registry.op(method=True, inplace=True, inplace_maker=_comparison_inplace, aliases=('greater',))
def gt(input, other):
    return _compare(np.greater, input, other)


@registry.op(method=True, inplace=True, inplace_maker=_comparison_inplace, aliases=('greater_equal',))
def ge(input, other):
    return _compare(np.greater_equal, input, other)


@registry.op(method=True, inplace=True)
def logical_and(input, other):
    return _compare(np.logical_and, input, other)


@registry.op(method=True, inplace=True)
def logical_or(input, other):
    return _compare(np.logical_or, input, other)


@registry.op(method=True, inplace=True)
def logical_xor(input, other):
    return _compare(np.logical_xor, input, other)


def _check_integral(name, *xs):
    # As in PyTorch: a floating-point operand makes the result floating point, which bitwise ops
    # do not implement.
    for x in xs:
        k = x._data.dtype.kind if isinstance(x, Tensor) else ("f" if isinstance(x, float) else "i")
        if k == "f":
            r = dt.result_type(*xs) if len(xs) == 2 else dt.FROM_NP[x._data.dtype]
            raise NotImplementedError(f'"{name}" not implemented for \'{_SCALAR_TYPE_NAMES[r.name]}\' (bitwise ops '
                                      "take integer and bool tensors)")


def _bitwise(ufunc, a, b):
    _check_integral(ufunc.__name__, a, b)
    if not isinstance(a, Tensor):
        a, b = b, a
    ad = a._data
    if isinstance(b, Tensor):
        if b._device is not a._device:
            raise device_mismatch(ufunc.__name__, a._device, b._device)
        if ad.dtype is not b._data.dtype:
            ad, bd = promote_pair(a, b)
        else:
            bd = b._data
    else:
        if type(b) is not bool and not isinstance(b, (int, np.integer)):
            raise TypeError(f"{ufunc.__name__}(): expected a Tensor or an integer, got {type(b).__name__}")
        if type(b) is not bool:
            b = _fit_int(ad, int(b))
            if ad.dtype.kind == "b":
                ad = ad.astype(np.int64)
        bd = b
    xp = xp_of(a)
    try:
        return _make(as_array(getattr(xp, ufunc.__name__)(ad, bd)), a._device)
    except ValueError as e:
        _raise_shape_error(ad, bd, e)


@registry.op(method=True, inplace=('bitwise_and_', '__iand__'))
def bitwise_and(input, other):
    return _bitwise(np.bitwise_and, input, other)


@registry.op(method=True, inplace=('bitwise_or_', '__ior__'))
def bitwise_or(input, other):
    return _bitwise(np.bitwise_or, input, other)


@registry.op(method=True, inplace=('bitwise_xor_', '__ixor__'))
def bitwise_xor(input, other):
    return _bitwise(np.bitwise_xor, input, other)


@registry.op(method=True, inplace=True, inplace_maker=_fast_inplace_maker(LeftShift))
def bitwise_left_shift(input, other):
    """``input << other`` on integer tensors (either may be a Python int). Shifting by a negative
    count or by the bit width or more gives 0, as in PyTorch.

    >>> ember.tensor([1, 2], dtype=ember.int8) << 6   # tensor([ 64, -128], dtype=ember.int8)
    """
    return binary(LeftShift, input, other)


@registry.op(method=True, inplace=True, inplace_maker=_fast_inplace_maker(RightShift))
def bitwise_right_shift(input, other):
    """``input >> other`` on integer tensors: arithmetic (sign-filling) for signed dtypes. Shifting by
    a negative count or by the bit width or more gives the sign fill (0 or -1), as in PyTorch."""
    return binary(RightShift, input, other)


def _predicate(fn, x: Tensor) -> Tensor:
    return _make(as_array(fn(xp_of(x), x._data)), x._device)


@registry.op(method=True, inplace=True)
def logical_not(input):
    return _predicate(lambda xp, d: xp.logical_not(d), input)


@registry.op(method=True, inplace=True)
def bitwise_not(input):
    _check_integral("bitwise_not", input)
    return _predicate(lambda xp, d: xp.logical_not(d) if d.dtype.kind == "b" else xp.invert(d), input)


def _invert(self):
    # The ``~`` operator refuses floating point with a TypeError, as in PyTorch (bitwise_not raises
    # NotImplementedError).
    if self._data.dtype.kind == "f":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    return bitwise_not(self)


@registry.op(method=True)
def isnan(input):
    return _predicate(lambda xp, d: xp.isnan(d) if d.dtype.kind in "fc" else xp.zeros(d.shape, bool), input)


@registry.op(method=True)
def isinf(input):
    return _predicate(lambda xp, d: xp.isinf(d) if d.dtype.kind in "fc" else xp.zeros(d.shape, bool), input)


@registry.op(method=True)
def isposinf(input):
    return _predicate(lambda xp, d: xp.isposinf(d) if d.dtype.kind == "f" else xp.zeros(d.shape, bool), input)


@registry.op(method=True)
def isneginf(input):
    return _predicate(lambda xp, d: xp.isneginf(d) if d.dtype.kind == "f" else xp.zeros(d.shape, bool), input)


@registry.op(method=True)
def isfinite(input):
    return _predicate(lambda xp, d: xp.isfinite(d) if d.dtype.kind in "fc" else xp.ones(d.shape, bool), input)


@registry.op(method=True)
def signbit(input):
    return _predicate(lambda xp, d: xp.signbit(d), input)


@registry.op(method=True)
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Element-wise ``|input - other| <= atol + rtol * |other|``."""
    ad, bd = promote_pair(input, other)
    return _make(as_array(xp_of(input).isclose(ad, bd, rtol=rtol, atol=atol, equal_nan=equal_nan)), input._device)


@registry.op(method=True)
def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


@registry.op(method=True)
def equal(input, other) -> bool:
    """True when both tensors have the same shape and elements."""
    return input._data.shape == other._data.shape and bool((input._data == other._data).all())


# ---------------------------------------------------------------------------------------
# where, clamp, lerp, nan_to_num
# ---------------------------------------------------------------------------------------
class Where(Op):
    """``x`` where ``cond`` holds, else ``y`` (arrays or Python numbers), in ``dtype``."""

    @staticmethod
    def forward(ctx, xp, cond, x, y, dtype):
        ctx.save_for_backward(cond)
        if type(x) not in _PY_SCALARS:
            x = x.astype(dtype, copy=False)
        if type(y) not in _PY_SCALARS:
            y = y.astype(dtype, copy=False)
        return as_array(xp.where(cond, x, y).astype(dtype, copy=False))

    @staticmethod
    def backward(ctx, g):
        (cond,) = ctx.saved_tensors
        e = ctx.needs_input_grad
        zero = g * 0
        return (None, where(cond, g, zero) if e[1] else None,
                where(cond, zero, g) if e[2] else None, None)


@registry.op(method=lambda self, condition, other: where(condition, self, other))
def where(condition, input=None, other=None):
    """``input`` where ``condition`` holds, else ``other`` (either may be a Python number).

    With only ``condition``, returns the indices of its nonzero elements (as ``nonzero(as_tuple=True)``).
    """
    if input is None and other is None:
        return condition.nonzero(as_tuple=True)
    if not isinstance(condition, Tensor):
        raise TypeError("where(): argument 'condition' must be a Tensor")
    if condition._data.dtype.kind != "b":
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype {condition.dtype}")
    return Where.apply(condition, input, other, dt.result_type(input, other).np)


class Clamp(Op):
    """``x`` limited to ``[lo, hi]`` (arrays, Python numbers or None), in the result dtype ``r``."""

    @staticmethod
    def forward(ctx, xp, x, lo, hi, r):
        ctx.save_for_backward(x, lo, hi)
        out = x.astype(r, copy=False)
        fit = r.kind in "iu"   # int bounds must be fitted to an integer result dtype
        for bound, fn in ((lo, xp.maximum), (hi, xp.minimum)):
            if bound is not None:
                if fit and type(bound) is int:
                    bound = _fit_int(out, bound)
                out = fn(out, bound)
        return as_array(out.astype(r, copy=False))

    @staticmethod
    def backward(ctx, g):
        # PyTorch's rule: x gets the gradient where min <= x <= max; a tensor min where x < min < max;
        # a tensor max where x > max, and everywhere when max < min (the output is then max).
        x, lo, hi = ctx.saved_tensors
        e = ctx.needs_input_grad
        zero = g * 0
        gx = glo = ghi = None
        if e[0]:
            mask = x >= lo if lo is not None else None
            if hi is not None:
                mask = x <= hi if mask is None else mask & (x <= hi)
            gx = where(mask, g, zero)
        if e[1]:
            glo = where((x < lo) & (lo < hi) if hi is not None else x < lo, g, zero)
        if e[2]:
            ghi = where((x > hi) | (hi < lo) if lo is not None else x > hi, g, zero)
        return gx, glo, ghi, None


def _clamp_dtype(x, lo, hi):
    """The result type promotes over the input and both bounds (numbers included), as in PyTorch;
    a float input with number bounds (the common case) keeps its dtype."""
    xd = x._data
    if xd.dtype.kind == "f" and not isinstance(lo, Tensor) and not isinstance(hi, Tensor):
        return xd.dtype
    r = dt.result_type(*(v for v in (x, lo, hi) if v is not None)).np
    if r.kind == "b":
        raise NotImplementedError("clamp is not implemented for bool tensors")
    return r


@registry.op(method=True, inplace=('clamp_', 'clip_'), aliases=('clip',))
def clamp(input, min=None, max=None):
    """Limit values to ``[min, max]`` (either bound may be omitted, a number or a tensor)."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if input._data.dtype.kind == "c":
        raise NotImplementedError("clamp is not supported for complex types")
    return Clamp.apply(input, min, max, _clamp_dtype(input, min, max))


@registry.op(method=True, inplace=True)
def clamp_min(input, min):
    return clamp(input, min=min)


@registry.op(method=True, inplace=True)
def clamp_max(input, max):
    return clamp(input, max=max)


@registry.op(method=True, inplace=True)
def lerp(input, end, weight):
    """``input + weight * (end - input)`` (composite: its gradient follows from the ops).

    ``end`` (and a tensor ``weight`` with dimensions) must have ``input``'s floating-point dtype.
    """
    if not input.is_floating_point():
        raise NotImplementedError(f"lerp is only implemented for floating-point tensors, got {input.dtype}")
    for name, v in (("end", end), ("weight", weight)):
        if isinstance(v, Tensor) and v.dtype is not input.dtype and (name == "end" or v.ndim):
            raise RuntimeError(f"expected dtype {input.dtype} for `{name}` but got dtype {v.dtype}")
    if not isinstance(weight, Tensor) and weight >= 0.5:
        # From the end point for large weights, so that weight == 1 gives exactly ``end``.
        return end - (end - input) * (1 - weight)
    return input + weight * (end - input)


@registry.op(method=True, inplace=True)
def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """Replace NaN and infinities by finite numbers (the dtype's extremes by default)."""
    d = input._data
    if d.dtype.kind != "f":
        return input.clone()
    info = np.finfo(d.dtype)
    posinf = info.max if posinf is None else posinf
    neginf = info.min if neginf is None else neginf
    bad = _make(~xp_of(input).isfinite(d), input._device)
    fill = _make(xp_of(input).nan_to_num(d, nan=nan, posinf=posinf, neginf=neginf), input._device)
    return where(bad, fill, input)


# ---------------------------------------------------------------------------------------
# Operator dunders
# ---------------------------------------------------------------------------------------
def _reflect(fn):
    def method(self, other):
        return fn(other, self)
    return method


def _operator(cls, reflected=False):
    """The operator method ``self <op> other`` (``other <op> self`` when reflected) of the binary op ``cls``."""
    if reflected:
        return lambda self, other: binary(cls, other, self)
    return lambda self, other: binary(cls, self, other)


def _register_operators() -> None:
    """Python's operators on tensors; ``&=``, ``|=`` and ``^=`` are registered with the bitwise ops."""
    ops = dict(
        __add__=_operator(Add), __sub__=_operator(Sub), __rsub__=_operator(Sub, True), __mul__=_operator(Mul),
        __truediv__=_operator(Div), __rtruediv__=_operator(Div, True), __floordiv__=floor_divide,
        __rfloordiv__=_reflect(floor_divide), __mod__=remainder, __rmod__=_reflect(remainder),
        __pow__=_operator(Pow), __rpow__=_operator(Pow, True), __neg__=neg, __pos__=lambda self: self,
        __abs__=abs, __eq__=eq, __ne__=ne, __lt__=lt, __le__=le, __gt__=gt, __ge__=ge,
        __and__=lambda self, other: bitwise_and(self, other), __or__=lambda self, other: bitwise_or(self, other),
        __xor__=lambda self, other: bitwise_xor(self, other), __invert__=_invert,
        __lshift__=_operator(LeftShift), __rlshift__=_operator(LeftShift, True),
        __rshift__=_operator(RightShift), __rrshift__=_operator(RightShift, True),
    )
    # The reflected forms of commutative operators are the operators themselves.
    for name, same in dict(__radd__="__add__", __rmul__="__mul__", __rand__="__and__", __ror__="__or__",
                           __rxor__="__xor__").items():
        ops[name] = ops[same]
    for name, cls in dict(__iadd__=Add, __isub__=Sub, __imul__=Mul, __itruediv__=Div, __ipow__=Pow,
                          __ifloordiv__=FloorDivide, __imod__=Remainder, __ilshift__=LeftShift,
                          __irshift__=RightShift).items():
        ops[name] = _fast_inplace_maker(cls)(None, name)
    for name, impl in ops.items():
        registry.method(name, impl)


_register_operators()
