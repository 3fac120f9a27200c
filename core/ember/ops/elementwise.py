"""Element-wise operations: arithmetic, unary math, comparisons and logic, with their gradients.

Each op is a Function subclass with ``compute`` (on device arrays) next to ``grad`` (in Ember
ops, so double backward works). The unary/binary drivers in this file handle promotion,
scalars, in-place variants and graph recording for all of them.
"""
from __future__ import annotations

import numpy as np

from .. import _dtype as dt
from .._tensor import Tensor, _bump_version, _make
from ..autograd.function import Function, device_mismatch
from ..autograd.grad_mode import STATE
from ..backend import CPU
from ._dispatch import (align_devices, as_array, promote_pair, promote_scalar, record, result_dtype_check,
                        save, scalar_value, to_float, xp_of)

__all__ = [
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "floor_divide", "remainder",
    "fmod", "pow", "float_power", "atan2", "arctan2", "maximum", "minimum", "fmax", "fmin", "hypot",
    "neg", "negative", "abs", "absolute", "exp", "exp2", "log", "log2", "log10", "log1p", "expm1", "sqrt", "rsqrt",
    "square", "sin", "cos", "tan", "asin", "acos", "atan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh",
    "asinh", "acosh", "atanh", "sigmoid", "reciprocal", "sign", "sgn", "floor", "ceil", "round", "trunc", "fix",
    "frac", "clamp", "clip", "clamp_min", "clamp_max", "where", "lerp", "relu", "erf", "erfc",
    "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal",
    "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor",
    "bitwise_not", "isnan", "isinf", "isfinite", "isposinf", "isneginf", "isclose", "allclose", "equal",
    "nan_to_num", "signbit",
]

_STATE = STATE
_PY_SCALARS = (int, float, bool)


# ---------------------------------------------------------------------------------------
# Unary ops
# ---------------------------------------------------------------------------------------
class UnaryOp(Function):
    """``compute(xp, x)`` on arrays; ``grad(g, saved)`` with Ember ops, where ``saved`` is the
    input or the output according to ``save`` ("input", "output" or None)."""

    _array_forward = True
    float_only = True      # integer inputs are computed in the default float dtype
    save = "input"

    @staticmethod
    def compute(xp, x):
        raise NotImplementedError

    @staticmethod
    def grad(g, saved):
        raise NotImplementedError

    @classmethod
    def forward(cls, ctx, x):
        d = x._data
        if cls.float_only and d.dtype.kind != "f":
            d = to_float(d)
        if cls.save == "input":
            ctx.save_for_backward(x)
        out = as_array(cls.compute(xp_of(x), d))
        if cls.save == "output":
            ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (s,) = ctx.saved_tensors if ctx._saved else (None,)
        return ctx._fn.grad(g, s)


def unary(cls, x):
    """Apply a unary op (the fast path of ``cls.apply``)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{cls.__name__.lower()}(): argument 'input' must be Tensor, not {type(x).__name__}")
    d = x._data
    if cls.float_only and d.dtype.kind != "f":
        d = to_float(d)
    out = cls.compute(np if x._device is CPU else x._device.xp, d)
    if type(out) is not np.ndarray:
        out = as_array(out)
    if x._rg and _STATE.enabled:
        if cls.save == "input":
            return record(cls, out, x._device, (x,), (save(x),))
        return record(cls, out, x._device, (x,), None, cls.save == "output")
    return _make(out, x._device)


def _unary_op(name, compute, grad=None, save="input", float_only=True, doc=""):
    if grad is None:
        save = None
        grad = _zero_grad
    cls = type(name, (UnaryOp,), {
        "compute": staticmethod(compute), "grad": staticmethod(grad), "save": save,
        "float_only": float_only, "__doc__": doc,
    })
    return cls


def _zero_grad(g, saved):
    return g * 0


Neg = _unary_op("Neg", lambda xp, x: -x, lambda g, x: -g, save=None, float_only=False)
Abs = _unary_op("Abs", lambda xp, x: xp.abs(x), lambda g, x: g * x.sign(), float_only=False)
Exp = _unary_op("Exp", lambda xp, x: xp.exp(x), lambda g, y: g * y, save="output")
Exp2 = _unary_op("Exp2", lambda xp, x: xp.exp2(x), lambda g, y: g * y * 0.6931471805599453, save="output")
Log = _unary_op("Log", lambda xp, x: xp.log(x), lambda g, x: g / x)
Log2 = _unary_op("Log2", lambda xp, x: xp.log2(x), lambda g, x: g / (x * 0.6931471805599453))
Log10 = _unary_op("Log10", lambda xp, x: xp.log10(x), lambda g, x: g / (x * 2.302585092994046))
Log1p = _unary_op("Log1p", lambda xp, x: xp.log1p(x), lambda g, x: g / (x + 1))
Expm1 = _unary_op("Expm1", lambda xp, x: xp.expm1(x), lambda g, y: g * (y + 1), save="output")
Sqrt = _unary_op("Sqrt", lambda xp, x: xp.sqrt(x), lambda g, y: g / (y * 2), save="output")
Rsqrt = _unary_op("Rsqrt", lambda xp, x: 1 / xp.sqrt(x), lambda g, y: g * y * y * y * -0.5, save="output")
Square = _unary_op("Square", lambda xp, x: x * x, lambda g, x: g * x * 2, float_only=False)
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
Relu = _unary_op("Relu", lambda xp, x: xp.maximum(x, 0), lambda g, y: g * (y > 0), save="output", float_only=False)
Sign = _unary_op("Sign", lambda xp, x: xp.sign(x), float_only=False)
Floor = _unary_op("Floor", lambda xp, x: xp.floor(x) if x.dtype.kind == "f" else x, float_only=False)
Ceil = _unary_op("Ceil", lambda xp, x: xp.ceil(x) if x.dtype.kind == "f" else x, float_only=False)
Trunc = _unary_op("Trunc", lambda xp, x: xp.trunc(x) if x.dtype.kind == "f" else x, float_only=False)
Frac = _unary_op("Frac", lambda xp, x: x - xp.trunc(x), lambda g, x: g, save=None)


def _sigmoid(xp, x):
    # exp of a non-positive argument only, so large |x| neither overflows nor warns.
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


Sigmoid = _unary_op("Sigmoid", _sigmoid, lambda g, y: g * y * (1 - y), save="output")


_TWO_OVER_SQRT_PI = 1.1283791670955126
Erf = _unary_op("Erf", lambda xp, x: _erf_precise(xp, x), lambda g, x: g * (-(x * x)).exp() * _TWO_OVER_SQRT_PI)
Erfc = _unary_op("Erfc", lambda xp, x: 1 - _erf_precise(xp, x), lambda g, x: -(g * (-(x * x)).exp() * _TWO_OVER_SQRT_PI))


def _erf_precise(xp, x):
    import math
    if xp is np:
        # math.erf is exact to double precision; frompyfunc vectorises it (NumPy has no erf).
        return np.frompyfunc(math.erf, 1, 1)(x).astype(x.dtype)
    return xp.asarray(_erf_precise(np, xp.asnumpy(x)))


def neg(input):
    return unary(Neg, input)


def abs(input):
    return unary(Abs, input)


def exp(input):
    return unary(Exp, input)


def exp2(input):
    return unary(Exp2, input)


def log(input):
    return unary(Log, input)


def log2(input):
    return unary(Log2, input)


def log10(input):
    return unary(Log10, input)


def log1p(input):
    return unary(Log1p, input)


def expm1(input):
    return unary(Expm1, input)


def sqrt(input):
    return unary(Sqrt, input)


def rsqrt(input):
    return unary(Rsqrt, input)


def square(input):
    return unary(Square, input)


def sin(input):
    return unary(Sin, input)


def cos(input):
    return unary(Cos, input)


def tan(input):
    return unary(Tan, input)


def asin(input):
    return unary(Asin, input)


def acos(input):
    return unary(Acos, input)


def atan(input):
    return unary(Atan, input)


def sinh(input):
    return unary(Sinh, input)


def cosh(input):
    return unary(Cosh, input)


def tanh(input):
    return unary(Tanh, input)


def asinh(input):
    return unary(Asinh, input)


def acosh(input):
    return unary(Acosh, input)


def atanh(input):
    return unary(Atanh, input)


def sigmoid(input):
    return unary(Sigmoid, input)


def reciprocal(input):
    return unary(Reciprocal, input)


def relu(input):
    return unary(Relu, input)


def sign(input):
    return unary(Sign, input)


def floor(input):
    return unary(Floor, input)


def ceil(input):
    return unary(Ceil, input)


def trunc(input):
    return unary(Trunc, input)


def frac(input):
    return unary(Frac, input)


def erf(input):
    return unary(Erf, input)


def erfc(input):
    return unary(Erfc, input)


negative, absolute, arcsin, arccos, arctan, sgn, fix = neg, abs, asin, acos, atan, sign, trunc


class Round(UnaryOp):
    save = None
    float_only = False

    @classmethod
    def forward(cls, ctx, x, decimals=0):
        d = x._data
        if d.dtype.kind != "f":
            return d.copy()
        return as_array(xp_of(x).round(d, decimals))

    @staticmethod
    def backward(ctx, g):
        return g * 0, None


def round(input, *, decimals: int = 0):
    """Round half to even, like PyTorch (``decimals`` digits after the point)."""
    if decimals == 0:
        return unary(_Round0, input)
    return Round.apply(input, decimals)


_Round0 = _unary_op("Round", lambda xp, x: xp.round(x) if x.dtype.kind == "f" else x.copy(), float_only=False)


# ---------------------------------------------------------------------------------------
# Binary ops
# ---------------------------------------------------------------------------------------
class BinaryOp(Function):
    """``compute(a, b)`` on arrays (or a Python scalar operand); ``grad(g, a, b, out, needs)``
    returns the two input gradients (``needs`` says which are wanted)."""

    _array_forward = True
    int_to_float = False   # integer operands are computed in the default float dtype (true division)
    save_inputs = True
    save_out = False

    @staticmethod
    def compute(a, b):
        raise NotImplementedError

    @classmethod
    def forward(cls, ctx, a, b):
        # Only reached through Function.apply (e.g. by user code); the operators use binary().
        return binary(cls, a, b)._data

    @staticmethod
    def backward(ctx, g):
        saved = ctx.saved_tensors
        cls = ctx._fn
        edges = ctx.next_edges
        needs = (edges[0] is not None, edges[1] is not None)
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
                ad, bd = promote_pair(a, b)
            rg = a._rg or b._rg
        else:
            if type(b) not in (int, float, bool):
                b = scalar_value(b)
                if isinstance(b, Tensor):
                    return binary(cls, a, b)
            ad = promote_scalar(ad, b)
            bd = b
            rg = a._rg
    else:
        if type(a) not in (int, float, bool):
            a = scalar_value(a)
            if isinstance(a, Tensor):
                return binary(cls, a, b)
        bd = promote_scalar(b._data, a)
        ad = a
        dev = b._device
        rg = b._rg
    if cls.int_to_float:
        if type(ad) not in _PY_SCALARS and ad.dtype.kind != "f":
            ad = to_float(ad)
        if type(bd) not in _PY_SCALARS and bd.dtype.kind != "f":
            bd = to_float(bd)
    out = cls.compute(ad, bd)
    if type(out) is not np.ndarray:
        out = as_array(out)
    if rg and _STATE.enabled:
        saved = None
        if cls.save_inputs:
            saved = (save(a) if isinstance(a, Tensor) else a, save(b) if isinstance(b, Tensor) else b)
        return record(cls, out, dev, (a, b), saved, cls.save_out)
    return _make(out, dev)


def _binary_op(name, compute, grad, save_inputs=True, save_out=False, int_to_float=False, doc=""):
    return type(name, (BinaryOp,), {
        "compute": staticmethod(compute), "grad": staticmethod(grad), "save_inputs": save_inputs,
        "save_out": save_out, "int_to_float": int_to_float, "__doc__": doc,
    })


def _mul_grad(g, a, b, out, needs):
    return (g * b if needs[0] else None, g * a if needs[1] else None)


def _div_grad(g, a, b, out, needs):
    ga = g / b if needs[0] else None
    gb = -(g * a) / (b * b) if needs[1] else None
    return ga, gb


def _pow_grad(g, a, b, out, needs):
    ga = gb = None
    if needs[0]:
        if isinstance(b, Tensor):
            ga = g * b * pow(a, b - 1)
        else:
            ga = g * b * pow(a, b - 1) if b != 0 else g * 0
    if needs[1]:
        # d/db a**b = a**b * log(a); PyTorch defines it as 0 where a == 0 and b >= 0.
        la = log(a) if isinstance(a, Tensor) else np.log(a) if a > 0 else None
        if isinstance(a, Tensor):
            gb = where((a == 0) & (b >= 0), 0.0, g * pow(a, b) * la)
        else:
            gb = g * pow(a, b) * la if la is not None else g * 0
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
        a_nan, b_nan = isnan(a), isnan(b)
        take_a = (select(a, b) | b_nan) & ~a_nan
        return (where(take_a, g, 0.0) if needs[0] else None, where(take_a, 0.0, g) if needs[1] else None)
    return grad


def _hypot_grad(g, a, b, out, needs):
    return (g * a / out if needs[0] else None, g * b / out if needs[1] else None)


def _floor_div(a, b):
    if _kind(a) != "f" and _kind(b) != "f":
        return np.floor_divide(a, b)
    return np.floor(np.true_divide(a, b))


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
                 save_inputs=False)
Mul = _binary_op("Mul", lambda a, b: a * b, _mul_grad)
Div = _binary_op("Div", lambda a, b: a / b, _div_grad, int_to_float=True)
Pow = _binary_op("Pow", lambda a, b: _xp(a, b).power(a, b), _pow_grad)
Atan2 = _binary_op("Atan2", lambda a, b: _xp(a, b).arctan2(a, b), _atan2_grad, int_to_float=True)
Maximum = _binary_op("Maximum", lambda a, b: _xp(a, b).maximum(a, b), _minmax_grad(lambda x, y: x > y))
Minimum = _binary_op("Minimum", lambda a, b: _xp(a, b).minimum(a, b), _minmax_grad(lambda x, y: x < y))
Fmax = _binary_op("Fmax", lambda a, b: _xp(a, b).fmax(a, b), _fminmax_grad(lambda x, y: x >= y))
Fmin = _binary_op("Fmin", lambda a, b: _xp(a, b).fmin(a, b), _fminmax_grad(lambda x, y: x <= y))
Hypot = _binary_op("Hypot", lambda a, b: _xp(a, b).hypot(a, b), _hypot_grad, save_out=True, int_to_float=True)
FloorDivide = _binary_op("FloorDivide", _floor_div, _no_grad_binary)
Remainder = _binary_op("Remainder", lambda a, b: _xp(a, b).remainder(a, b), _remainder_grad)
Fmod = _binary_op("Fmod", lambda a, b: _xp(a, b).fmod(a, b), _fmod_grad)


def _with_alpha(other, alpha):
    return other if alpha == 1 else other * alpha


def add(input, other, *, alpha=1, out=None):
    """``input + alpha * other`` with broadcasting and type promotion."""
    return binary(Add, input, _with_alpha(other, alpha))


def sub(input, other, *, alpha=1, out=None):
    """``input - alpha * other``."""
    return binary(Sub, input, _with_alpha(other, alpha))


def mul(input, other, *, out=None):
    return binary(Mul, input, other)


def div(input, other, *, rounding_mode=None, out=None):
    """True division; ``rounding_mode="trunc"`` or ``"floor"`` rounds the quotient."""
    if rounding_mode is None:
        return binary(Div, input, other)
    if rounding_mode == "floor":
        return floor_divide(input, other)
    if rounding_mode == "trunc":
        q = binary(Div, input, other)
        both_int = all(_kind(x._data if isinstance(x, Tensor) else x) != "f" for x in (input, other))
        q = trunc(q)
        return q.to(dt.promote_types(*[x.dtype if isinstance(x, Tensor) else dt.scalar_dtype(x)
                                       for x in (input, other)])) if both_int else q
    raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'")


def true_divide(input, other):
    return binary(Div, input, other)


def floor_divide(input, other):
    return binary(FloorDivide, input, other)


def remainder(input, other):
    """Python-style modulus (the result has the sign of the divisor)."""
    return binary(Remainder, input, other)


def fmod(input, other):
    """C-style modulus (the result has the sign of the dividend)."""
    return binary(Fmod, input, other)


def pow(input, exponent):
    """``input ** exponent``; either may be a tensor or a Python number."""
    return binary(Pow, input, exponent)


def float_power(input, exponent):
    a = input.double() if isinstance(input, Tensor) else float(input)
    b = exponent.double() if isinstance(exponent, Tensor) else float(exponent)
    return binary(Pow, a, b)


def atan2(input, other):
    return binary(Atan2, input, other)


def maximum(input, other):
    return binary(Maximum, input, other)


def minimum(input, other):
    return binary(Minimum, input, other)


def fmax(input, other):
    return binary(Fmax, input, other)


def fmin(input, other):
    return binary(Fmin, input, other)


def hypot(input, other):
    return binary(Hypot, input, other)


subtract, multiply, divide, arctan2 = sub, mul, div, atan2


# ---------------------------------------------------------------------------------------
# Comparisons and logic (not differentiable: results are bool)
# ---------------------------------------------------------------------------------------
def _compare(ufunc, a, b):
    if isinstance(a, Tensor):
        ad, dev = a._data, a._device
        if isinstance(b, Tensor):
            bd = b._data
            if b._device is not dev:
                ad, bd = align_devices(ufunc.__name__, a, b)
                dev = a._device if a._device is not CPU else b._device
        else:
            bd = b if type(b) in (int, float, bool) else scalar_value(b)
            if isinstance(bd, Tensor):
                return _compare(ufunc, a, bd)
    else:
        return _compare(_SWAPPED.get(ufunc, ufunc), b, a)
    xp = np if dev is CPU else dev.xp
    return _make(as_array(getattr(xp, ufunc.__name__)(ad, bd)), dev)


_SWAPPED = {np.less: np.greater, np.greater: np.less, np.less_equal: np.greater_equal,
            np.greater_equal: np.less_equal}


def eq(input, other):
    return _compare(np.equal, input, other)


def ne(input, other):
    return _compare(np.not_equal, input, other)


def lt(input, other):
    return _compare(np.less, input, other)


def le(input, other):
    return _compare(np.less_equal, input, other)


def gt(input, other):
    return _compare(np.greater, input, other)


def ge(input, other):
    return _compare(np.greater_equal, input, other)


greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def logical_and(input, other):
    return _compare(np.logical_and, input, other)


def logical_or(input, other):
    return _compare(np.logical_or, input, other)


def logical_xor(input, other):
    return _compare(np.logical_xor, input, other)


def _check_integral(name, *xs):
    for x in xs:
        k = x._data.dtype.kind if isinstance(x, Tensor) else ("f" if isinstance(x, float) else "i")
        if k == "f":
            raise TypeError(f"{name} is only supported for integer and bool tensors, got a floating-point operand")


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
        ad, bd = promote_scalar(ad, b), b
    xp = xp_of(a)
    return _make(as_array(getattr(xp, ufunc.__name__)(ad, bd)), a._device)


def bitwise_and(input, other):
    return _bitwise(np.bitwise_and, input, other)


def bitwise_or(input, other):
    return _bitwise(np.bitwise_or, input, other)


def bitwise_xor(input, other):
    return _bitwise(np.bitwise_xor, input, other)


def _predicate(fn, x: Tensor) -> Tensor:
    return _make(as_array(fn(xp_of(x), x._data)), x._device)


def logical_not(input):
    return _predicate(lambda xp, d: xp.logical_not(d), input)


def bitwise_not(input):
    _check_integral("bitwise_not", input)
    return _predicate(lambda xp, d: xp.logical_not(d) if d.dtype.kind == "b" else xp.invert(d), input)


def isnan(input):
    return _predicate(lambda xp, d: xp.isnan(d) if d.dtype.kind == "f" else xp.zeros(d.shape, bool), input)


def isinf(input):
    return _predicate(lambda xp, d: xp.isinf(d) if d.dtype.kind == "f" else xp.zeros(d.shape, bool), input)


def isposinf(input):
    return _predicate(lambda xp, d: xp.isposinf(d) if d.dtype.kind == "f" else xp.zeros(d.shape, bool), input)


def isneginf(input):
    return _predicate(lambda xp, d: xp.isneginf(d) if d.dtype.kind == "f" else xp.zeros(d.shape, bool), input)


def isfinite(input):
    return _predicate(lambda xp, d: xp.isfinite(d) if d.dtype.kind == "f" else xp.ones(d.shape, bool), input)


def signbit(input):
    return _predicate(lambda xp, d: xp.signbit(d), input)


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Element-wise ``|input - other| <= atol + rtol * |other|``."""
    ad, bd = promote_pair(input, other)
    return _make(as_array(xp_of(input).isclose(ad, bd, rtol=rtol, atol=atol, equal_nan=equal_nan)), input._device)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


def equal(input, other) -> bool:
    """True when both tensors have the same shape and elements."""
    return input._data.shape == other._data.shape and bool((input._data == other._data).all())


# ---------------------------------------------------------------------------------------
# where, clamp, lerp, nan_to_num
# ---------------------------------------------------------------------------------------
class Where(Function):
    _array_forward = True

    @staticmethod
    def forward(ctx, cond, x, y):
        ctx.save_for_backward(cond)
        return _where_arrays(cond, x, y)

    @staticmethod
    def backward(ctx, g):
        (cond,) = ctx.saved_tensors
        e = ctx.next_edges
        zero = g * 0
        return (None, where(cond, g, zero) if e[1] is not None else None,
                where(cond, zero, g) if e[2] is not None else None)


def _where_arrays(cond, x, y):
    xs = [v for v in (x, y) if isinstance(v, Tensor)]
    if xs:
        r = dt.result_type(*(v for v in (x, y)))
        xd = x._data.astype(r.np, copy=False) if isinstance(x, Tensor) else x
        yd = y._data.astype(r.np, copy=False) if isinstance(y, Tensor) else y
    else:
        r = dt.result_type(x, y)
        xd, yd = x, y
    xp = xp_of(cond)
    return as_array(xp.where(cond._data, xd, yd).astype(r.np, copy=False))


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
    return Where.apply(condition, input, other)


class Clamp(Function):
    _array_forward = True

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x, lo, hi)
        xd = x._data
        xp = xp_of(x)
        lod = lo._data if isinstance(lo, Tensor) else lo
        hid = hi._data if isinstance(hi, Tensor) else hi
        if (isinstance(lo, float) or isinstance(hi, float)) and xd.dtype.kind != "f":
            xd = to_float(xd)
        out = xd
        if lod is not None:
            out = xp.maximum(out, lod)
        if hid is not None:
            out = xp.minimum(out, hid)
        if out is xd:
            out = xd.copy()
        return as_array(out.astype(xd.dtype, copy=False))

    @staticmethod
    def backward(ctx, g):
        x, lo, hi = ctx.saved_tensors
        e = ctx.next_edges
        mask = None
        if lo is not None:
            mask = x >= lo
        if hi is not None:
            m = x <= hi
            mask = m if mask is None else mask & m
        zero = g * 0
        gx = where(mask, g, zero) if e[0] is not None else None
        glo = where(x < lo, g, zero) if lo is not None and e[1] is not None else None
        ghi = where(x > hi, g, zero) if hi is not None and e[2] is not None else None
        return gx, glo, ghi


def clamp(input, min=None, max=None):
    """Limit values to ``[min, max]`` (either bound may be omitted, a number or a tensor)."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    return Clamp.apply(input, min, max)


clip = clamp


def clamp_min(input, min):
    return clamp(input, min=min)


def clamp_max(input, max):
    return clamp(input, max=max)


def lerp(input, end, weight):
    """``input + weight * (end - input)`` (composite: its gradient follows from the ops)."""
    return input + weight * (end - input)


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
# In-place variants and operator dunders
# ---------------------------------------------------------------------------------------
def inplace(self: Tensor, result: Tensor, name: str) -> Tensor:
    """Write ``result`` (computed out of place from ``self``) into ``self``'s storage.

    When a gradient is recorded, ``self`` takes ``result``'s place in the graph (its
    ``grad_fn`` becomes the op's node), as PyTorch's in-place ops do.
    """
    sd = self._data
    rd = result._data
    if rd.shape != sd.shape:
        if np.broadcast_shapes(rd.shape, sd.shape) != sd.shape:
            raise RuntimeError(f"output with shape {list(sd.shape)} doesn't match the broadcast shape {list(rd.shape)}")
    result_dtype_check(name, rd, sd)
    if result.grad_fn is not None:
        check_inplace_allowed(self)
        sd[...] = rd
        self.grad_fn = result.grad_fn
        self._output_nr = result._output_nr
        self._rg = True
    else:
        if self._rg and _STATE.enabled and self.grad_fn is None:
            raise_leaf_inplace()
        sd[...] = rd
    _bump_version(self)
    return self


def check_inplace_allowed(self: Tensor) -> None:
    if self.grad_fn is None and self._rg:
        raise_leaf_inplace()
    base = self._base
    if base is not None and (base._rg or self._rg):
        raise RuntimeError(
            "Ember does not support in-place operations that need autograd on a view of a tensor that "
            "requires grad (PyTorch rebases the view's base here). Apply the op out of place, e.g. "
            "x = x.clone(); x[...] = ..., or modify the base tensor instead of the view."
        )


def raise_leaf_inplace():
    raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")


def inplace_source(self: Tensor) -> Tensor:
    """What an in-place op computes from: ``self`` itself, or, when autograd records the op,
    a copy of its current values (``self``'s storage is about to be overwritten)."""
    if self._rg and _STATE.enabled:
        return _make(self._data.copy(), self._device, True, self.grad_fn, self._output_nr)
    return self


def _fast_inplace(self, other, cls, name):
    # Without autograd and with matching dtypes this writes straight into self's storage.
    if not _STATE.enabled or not (self._rg or (isinstance(other, Tensor) and other._rg)):
        if isinstance(other, Tensor) and other._device is self._device and other._data.dtype is self._data.dtype \
                and self._data.dtype.kind == "f" and cls.ufunc is not None:
            sd = self._data
            if np.broadcast_shapes(sd.shape, other._data.shape) == sd.shape:
                cls.ufunc(sd, other._data, out=sd) if self._device is CPU else \
                    getattr(self._device.xp, cls.ufunc.__name__)(sd, other._data, out=sd)
                _bump_version(self)
                return self
    return inplace(self, binary(cls, inplace_source(self), other), name)


Add.ufunc, Sub.ufunc, Mul.ufunc, Div.ufunc = np.add, np.subtract, np.multiply, np.divide
for _c in (Pow, Atan2, Maximum, Minimum, Fmax, Fmin, Hypot, FloorDivide, Remainder, Fmod):
    _c.ufunc = None


def _make_inplace_unary(fn, name):
    def method(self, *args, **kwargs):
        return inplace(self, fn(inplace_source(self), *args, **kwargs), name)
    method.__name__ = name
    return method


def _make_inplace_binary(cls, name, pre=None):
    def method(self, other, *args, **kwargs):
        if pre is not None:
            other = pre(other, *args, **kwargs)
        return _fast_inplace(self, other, cls, name)
    method.__name__ = name
    return method


def _make_inplace_fn(fn, name):
    def method(self, *args, **kwargs):
        return inplace(self, fn(inplace_source(self), *args, **kwargs), name)
    method.__name__ = name
    return method


def _alpha_pre(other, alpha=1):
    return _with_alpha(other, alpha)


def _reflect(fn):
    def method(self, other):
        return fn(other, self)
    return method


def _attach():
    T = Tensor
    T.__add__ = lambda self, other: binary(Add, self, other)
    T.__radd__ = T.__add__
    T.__sub__ = lambda self, other: binary(Sub, self, other)
    T.__rsub__ = lambda self, other: binary(Sub, other, self)
    T.__mul__ = lambda self, other: binary(Mul, self, other)
    T.__rmul__ = T.__mul__
    T.__truediv__ = lambda self, other: binary(Div, self, other)
    T.__rtruediv__ = lambda self, other: binary(Div, other, self)
    T.__floordiv__ = floor_divide
    T.__rfloordiv__ = _reflect(floor_divide)
    T.__mod__ = remainder
    T.__rmod__ = _reflect(remainder)
    T.__pow__ = lambda self, other: binary(Pow, self, other)
    T.__rpow__ = lambda self, other: binary(Pow, other, self)
    T.__neg__ = neg
    T.__pos__ = lambda self: self
    T.__abs__ = abs
    T.__eq__ = eq
    T.__ne__ = ne
    T.__lt__ = lt
    T.__le__ = le
    T.__gt__ = gt
    T.__ge__ = ge
    T.__and__ = lambda self, other: bitwise_and(self, other)
    T.__rand__ = T.__and__
    T.__or__ = lambda self, other: bitwise_or(self, other)
    T.__ror__ = T.__or__
    T.__xor__ = lambda self, other: bitwise_xor(self, other)
    T.__rxor__ = T.__xor__
    T.__invert__ = bitwise_not

    methods = dict(
        add=add, sub=sub, subtract=sub, mul=mul, multiply=mul, div=div, divide=div, true_divide=true_divide,
        floor_divide=floor_divide, remainder=remainder, fmod=fmod, pow=pow, float_power=float_power, atan2=atan2,
        arctan2=atan2, maximum=maximum, minimum=minimum, fmax=fmax, fmin=fmin, hypot=hypot,
        neg=neg, negative=neg, abs=abs, absolute=abs, exp=exp, exp2=exp2, log=log, log2=log2, log10=log10,
        log1p=log1p, expm1=expm1, sqrt=sqrt, rsqrt=rsqrt, square=square, sin=sin, cos=cos, tan=tan, asin=asin,
        acos=acos, atan=atan, arcsin=asin, arccos=acos, arctan=atan, sinh=sinh, cosh=cosh, tanh=tanh,
        asinh=asinh, acosh=acosh, atanh=atanh, sigmoid=sigmoid, reciprocal=reciprocal, relu=relu, sign=sign,
        sgn=sign, floor=floor, ceil=ceil, round=round, trunc=trunc, fix=trunc, frac=frac, erf=erf, erfc=erfc,
        clamp=clamp, clip=clamp, clamp_min=clamp_min, clamp_max=clamp_max, where=lambda self, c, o: where(c, self, o),
        lerp=lerp, nan_to_num=nan_to_num, eq=eq, ne=ne, lt=lt, le=le, gt=gt, ge=ge, greater=gt, greater_equal=ge,
        less=lt, less_equal=le, not_equal=ne, logical_and=logical_and, logical_or=logical_or,
        logical_xor=logical_xor, logical_not=logical_not, bitwise_and=bitwise_and, bitwise_or=bitwise_or,
        bitwise_xor=bitwise_xor, bitwise_not=bitwise_not, isnan=isnan, isinf=isinf, isfinite=isfinite,
        isposinf=isposinf, isneginf=isneginf, signbit=signbit, isclose=isclose, allclose=allclose, equal=equal,
    )
    for name, fn in methods.items():
        setattr(T, name, fn)

    for name, cls in dict(add_=Add, sub_=Sub, subtract_=Sub, mul_=Mul, multiply_=Mul, div_=Div,
                          divide_=Div, true_divide_=Div, pow_=Pow, atan2_=Atan2, remainder_=Remainder,
                          fmod_=Fmod, floor_divide_=FloorDivide).items():
        pre = _alpha_pre if name in ("add_", "sub_", "subtract_") else None
        setattr(T, name, _make_inplace_binary(cls, name, pre))
    T.__iadd__ = _make_inplace_binary(Add, "__iadd__")
    T.__isub__ = _make_inplace_binary(Sub, "__isub__")
    T.__imul__ = _make_inplace_binary(Mul, "__imul__")
    T.__itruediv__ = _make_inplace_binary(Div, "__itruediv__")
    T.__ipow__ = _make_inplace_binary(Pow, "__ipow__")
    T.__ifloordiv__ = _make_inplace_binary(FloorDivide, "__ifloordiv__")
    T.__imod__ = _make_inplace_binary(Remainder, "__imod__")
    for name in ("neg", "abs", "exp", "log", "log2", "log10", "log1p", "expm1", "sqrt", "rsqrt", "square", "sin",
                 "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "sigmoid", "reciprocal", "relu",
                 "sign", "floor", "ceil", "round", "trunc", "frac", "erf", "clamp", "clip", "clamp_min",
                 "clamp_max", "lerp", "nan_to_num", "maximum", "minimum", "exp2", "atanh", "asinh", "acosh",
                 "hypot", "fmax", "fmin", "logical_not", "logical_and", "logical_or", "logical_xor",
                 "bitwise_not", "bitwise_and", "bitwise_or", "bitwise_xor"):
        setattr(T, name + "_", _make_inplace_fn(methods[name], name + "_"))
    for name in ("eq", "ne", "lt", "le", "gt", "ge"):
        setattr(T, name + "_", _make_inplace_fn(lambda s, o, _f=methods[name]: _f(s, o).to(s.dtype), name + "_"))
    T.__iand__ = T.bitwise_and_
    T.__ior__ = T.bitwise_or_
    T.__ixor__ = T.bitwise_xor_


_attach()
