"""Activation functions (the activations of PyTorch's ``torch.nn.functional``).

The hot ones (gelu, silu, logsigmoid, which also carries softplus and the logits losses) are
fused point-wise ops: one graph node, a few array passes forward, the saved input (plus one
array the forward computed anyway) and a backward of one or two passes. The rest are short
compositions of Ember ops, which get their gradients (and double backward) for free; where
PyTorch's gradient at a kink differs from what a composition would give (hardtanh, hardswish,
hardsigmoid), the composition is written with ``where`` so that the gradients match.

``gelu`` needs erf: :func:`_erf` below is a vectorised erf (two Chebyshev interpolants chosen
per element) accurate to about 2e-15 absolute in float64 and 1e-7 in float32.
"""
from __future__ import annotations

import warnings

import numpy as np

from ..._op_hooks import observe_namespace
from ..._tensor import Tensor, _bump_version, _make, _wrap_dim
from ...autograd.function import Op
from ...autograd.grad_mode import STATE
from ...ops import elementwise as E
from ...ops._dispatch import check_writable, record, save, xp_of
from ...ops._erf import _normal_cdf, _work
from ...ops.reduction import log_softmax as _log_softmax, softmax as _softmax

__all__ = [
    "relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "prelu", "rrelu", "rrelu_", "elu", "elu_", "selu",
    "selu_", "celu", "celu_", "gelu", "silu", "mish", "hardswish", "hardsigmoid", "hardtanh", "hardtanh_",
    "tanh", "sigmoid", "softplus", "softsign", "tanhshrink", "logsigmoid", "threshold", "threshold_", "glu",
    "softmin", "softmax", "log_softmax", "softmax2d", "hardshrink", "softshrink",
]

_SQRT1_2 = 0.7071067811865476            # 1 / sqrt(2)
_INV_SQRT_2PI = 0.3989422804014327       # 1 / sqrt(2 pi)
_SQRT_2_OVER_PI = 0.7978845608028654     # sqrt(2 / pi)
_GELU_TANH_C = 0.044715


# ---------------------------------------------------------------------------------------
# Fused point-wise activations
# ---------------------------------------------------------------------------------------
class _Pointwise(Op):
    """A point-wise activation as one graph node.

    Subclasses define, on arrays, ``compute(xp, x) -> (out, aux)`` (``aux``: an array the
    backward reuses, or None) and ``deriv(xp, x, aux) -> dy/dx``; and ``deriv2(x)``, the second
    derivative written in Ember ops (so double backward, and higher, is exact).
    """

    name = ""

    @classmethod
    def forward(cls, ctx, xp, x):
        out, aux = cls.compute(xp, _work(x))
        ctx.save_for_backward(x, aux)
        return out.reshape(x.shape).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        x, aux = ctx.saved_tensors
        cls = ctx._fn
        if not STATE.enabled:
            # A plain backward records nothing: dy/dx * g directly on arrays.
            d = _derivative_array(cls, xp_of(x), x._data, None if aux is None else aux._data)
            d *= g._data
            return _make(d, x._device)
        return g * _Derivative.apply(x, aux, cls)


def _derivative_array(op, xp, x, aux):
    """dy/dx of ``op`` at the array ``x`` (``aux``: what its compute kept, or None), in x's shape."""
    return op.deriv(xp, _work(x), aux).reshape(x.shape)


class _Derivative(Op):
    """dy/dx of a ``_Pointwise`` op as a function of x (a node only under create_graph)."""

    @staticmethod
    def forward(ctx, xp, x, aux, op):
        ctx.save_for_backward(x)
        ctx.op = op
        return _derivative_array(op, xp, x, aux).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * ctx.op.deriv2(x), None, None


def _pointwise(cls, x: Tensor) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{cls.name}(): argument 'input' must be Tensor, not {type(x).__name__}")
    d = x._data
    if d.dtype.kind != "f":
        raise NotImplementedError(f'"{cls.name}" not implemented for \'{x.dtype}\'')
    out, aux = cls.compute(xp_of(x), _work(d))
    out = out.reshape(d.shape).astype(d.dtype, copy=False)
    if x._rg and STATE.enabled:
        return record(cls, out, x._device, (x,), (save(x), aux))
    return _make(out, x._device)


class GeluErf(_Pointwise):
    """x Phi(x); dy/dx = Phi(x) + x phi(x); d2y/dx2 = phi(x) (2 - x^2)."""

    name = "gelu"

    @staticmethod
    def compute(xp, x):
        cdf = _normal_cdf(xp, x)
        return x * cdf, cdf

    @staticmethod
    def deriv(xp, x, cdf):
        d = x * x
        d *= -0.5
        xp.exp(d, out=d)
        d *= x
        d *= _INV_SQRT_2PI
        d += cdf
        return d

    @staticmethod
    def deriv2(x):
        pdf = (x * x * -0.5).exp() * _INV_SQRT_2PI
        return pdf * (2 - x * x)


class GeluTanh(_Pointwise):
    """x (1 + tanh(u)) / 2 with u = sqrt(2/pi) (x + 0.044715 x^3)."""

    name = "gelu"

    @staticmethod
    def compute(xp, x):
        u = x * x
        u *= _GELU_TANH_C
        u += 1
        u *= x
        u *= _SQRT_2_OVER_PI
        t = xp.tanh(u, out=u)
        out = t + 1
        out *= x
        out *= 0.5
        return out, t

    @staticmethod
    def deriv(xp, x, t):
        # (1 + t)/2 + x (1 - t^2) u'/2, u' = sqrt(2/pi) (1 + 3c x^2)
        du = x * x
        du *= 3 * _GELU_TANH_C * _SQRT_2_OVER_PI
        du += _SQRT_2_OVER_PI
        d = t * t
        xp.subtract(1, d, out=d)
        d *= du
        d *= x
        d += t
        d += 1
        d *= 0.5
        return d

    @staticmethod
    def deriv2(x):
        # (1 - t^2) (u' - x t u'^2 + x u''/2), u'' = 6 c sqrt(2/pi) x
        t = ((x + x * x * x * _GELU_TANH_C) * _SQRT_2_OVER_PI).tanh()
        du = (x * x * (3 * _GELU_TANH_C) + 1) * _SQRT_2_OVER_PI
        return (1 - t * t) * (du - x * t * du * du + x * x * (3 * _GELU_TANH_C * _SQRT_2_OVER_PI))


def _sigmoid_array(xp, x, of_negative: bool = False):
    """sigmoid(x), or sigmoid(-x), as 1 / (1 + e^-x) in one new array. e^-x overflows to inf
    for x < -88 (float32), which gives the correct limit 0."""
    with np.errstate(over="ignore"):
        if of_negative:
            e = xp.exp(x)
        else:
            e = xp.negative(x)
            xp.exp(e, out=e)
    e += 1
    return xp.reciprocal(e, out=e)


class Silu(_Pointwise):
    """x sigmoid(x); dy/dx = s (1 + x (1 - s)); d2y/dx2 = s (1 - s) (2 + x (1 - 2 s))."""

    name = "silu"

    @staticmethod
    def compute(xp, x):
        s = _sigmoid_array(xp, x)
        return x * s, s

    @staticmethod
    def deriv(xp, x, s):
        d = 1 - s
        d *= x
        d += 1
        d *= s
        return d

    @staticmethod
    def deriv2(x):
        s = x.sigmoid()
        return s * (1 - s) * (2 + x * (1 - 2 * s))


class LogSigmoid(_Pointwise):
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)) (no overflow for any x)."""

    name = "log_sigmoid"

    @staticmethod
    def compute(xp, x):
        r = xp.abs(x)
        xp.negative(r, out=r)
        xp.exp(r, out=r)
        xp.log1p(r, out=r)
        out = xp.minimum(x, 0)
        out -= r
        return out, None

    @staticmethod
    def deriv(xp, x, aux):
        return _sigmoid_array(xp, x, of_negative=True)

    @staticmethod
    def deriv2(x):
        s = x.sigmoid()
        return s * (s - 1)


# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------
def _apply(fn, input: Tensor, inplace: bool, name: str) -> Tensor:
    """``fn(input)``, or written into ``input`` (with the autograd rules of Tensor in-place ops)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if inplace:
        return E.inplace(input, fn(E.inplace_source(input)), name + "_")
    return fn(input)


def _float_only(name: str, x: Tensor) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(x).__name__}")
    if x._data.dtype.kind != "f":
        raise NotImplementedError(f'"{name}" not implemented for \'{x.dtype}\'')


# ---------------------------------------------------------------------------------------
# The activations
# ---------------------------------------------------------------------------------------
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(x, 0)``."""
    return input.relu_() if inplace else E.relu(input)


def relu_(input: Tensor) -> Tensor:
    return input.relu_()


class Hardtanh(Op):
    """``clamp(x, lo, hi)`` as one node (one pass forward); the gradient is 1 strictly inside (lo, hi), as
    PyTorch's, kept as a mask. The backward is linear in ``g``, so it is its own derivative's formula."""

    @staticmethod
    def forward(ctx, xp, d, lo, hi):
        ctx.inside = (d > lo) & (d < hi)
        return xp.clip(d, lo, hi)

    @staticmethod
    def backward(ctx, g):
        if not STATE.enabled:
            return _make(g._data * ctx.inside, g._device), None, None
        return g * _make(ctx.inside.astype(g._data.dtype), g._device), None, None


def _clamp_in_place(input: Tensor, lo: float, hi: float) -> Tensor:
    """No gradient to record: clip straight into ``input``'s storage (one pass, no temporary)."""
    d = input._data
    check_writable(d)
    xp_of(input).clip(d, lo, hi, out=d)
    _bump_version(input)
    return input


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """``clamp(x, min_val, max_val)``; the gradient is 1 strictly inside the interval (as PyTorch's).

    >>> ember.nn.functional.hardtanh(ember.tensor([-2.0, 0.5, 3.0]))
    tensor([-1.0000,  0.5000,  1.0000])
    """
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    lo, hi = float(min_val), float(max_val)
    if isinstance(input, Tensor) and input._data.dtype.kind == "f" and not (input._rg and STATE.enabled):
        if inplace:
            return _clamp_in_place(input, lo, hi)
        return _make(xp_of(input).clip(input._data, lo, hi), input._device)

    def fn(x):
        if x._data.dtype.kind != "f":   # integers keep their dtype and need no gradient
            return x.clamp(min_val, max_val).to(x.dtype)
        return Hardtanh.apply(x, lo, hi)
    return _apply(fn, input, inplace, "hardtanh")


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(x, 0), 6)``."""
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x`` for ``x > 0``, else ``negative_slope * x``."""
    _float_only("leaky_relu", input)
    return _apply(lambda x: E.where(x > 0, x, x * negative_slope), input, inplace, "leaky_relu")


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    return leaky_relu(input, negative_slope, inplace=True)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """Leaky ReLU with a learned slope per channel (dim 1; a 1-element ``weight`` is shared)."""
    _float_only("prelu", input)
    n = weight.numel()
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.ndim > 1 or (n != 1 and n != channels):
        raise RuntimeError("Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                           f"{n} and channel size = {channels}.")
    if n != 1:   # one slope per channel, broadcast over the dims after it
        weight = weight.reshape((n,) + (1,) * (input.ndim - 2))
    return E.where(input > 0, input, weight * input)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Randomised leaky ReLU: slopes drawn from U(lower, upper) when training, else their mean."""
    _float_only("rrelu", input)
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)

    def fn(x):
        from ...ops.random import rand_like
        slope = rand_like(x.detach()) * (upper - lower) + lower
        return E.where(x >= 0, x, x * slope)
    return _apply(fn, input, inplace, "rrelu")


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False) -> Tensor:
    return rrelu(input, lower, upper, training, inplace=True)


def _elu(x: Tensor, alpha: float, scale: float, input_scale: float) -> Tensor:
    # The negative branch only sees min(x, 0): exp never overflows, so its (discarded) gradient
    # at large x is 0 rather than 0 * inf = nan.
    z = x.clamp_max(0.0)
    if input_scale != 1:
        z = z * input_scale
    neg = z.expm1() * (alpha * scale)
    return E.where(x > 0, x * scale if scale != 1 else x, neg)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)``."""
    _float_only("elu", input)
    return _apply(lambda x: _elu(x, alpha, 1.0, 1.0), input, inplace, "elu")


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return elu(input, alpha, inplace=True)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """``scale * elu(x, alpha)`` with the self-normalising constants."""
    _float_only("selu", input)
    return _apply(lambda x: _elu(x, _SELU_ALPHA, _SELU_SCALE, 1.0), input, inplace, "selu")


def selu_(input: Tensor) -> Tensor:
    return selu(input, inplace=True)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` for ``x > 0``, else ``alpha * (exp(x / alpha) - 1)``."""
    _float_only("celu", input)
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return _apply(lambda x: _elu(x, alpha, 1.0, 1.0 / alpha), input, inplace, "celu")


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return celu(input, alpha, inplace=True)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """``x * Phi(x)`` (Phi: the standard normal CDF); ``approximate="tanh"`` uses
    ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``."""
    if approximate == "none":
        return _pointwise(GeluErf, input)
    if approximate == "tanh":
        return _pointwise(GeluTanh, input)
    raise RuntimeError("approximate argument must be either none or tanh.")


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * sigmoid(x)`` (swish)."""
    if inplace:
        return _apply(lambda x: _pointwise(Silu, x), input, True, "silu")
    return _pointwise(Silu, input)


def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(x))``, stable for any ``x``."""
    return _pointwise(LogSigmoid, input)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta x)) / beta``, and ``x`` itself where ``beta x > threshold``."""
    _float_only("softplus", input)
    z = input * beta if beta != 1 else input
    soft = -logsigmoid(-z)
    if beta != 1:
        soft = soft / beta
    return E.where(z > threshold, input, soft)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * tanh(softplus(x))``."""
    _float_only("mish", input)
    return _apply(lambda x: x * softplus(x).tanh(), input, inplace, "mish")


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * relu6(x + 3) / 6``; gradient 0 for ``x <= -3``, 1 for ``x >= 3`` (as PyTorch's)."""
    _float_only("hardswish", input)

    def fn(x):
        return E.where(x <= -3, 0.0, E.where(x < 3, x * (x + 3) / 6, x))
    return _apply(fn, input, inplace, "hardswish")


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """``relu6(x + 3) / 6``; the gradient is 1/6 strictly inside (-3, 3)."""
    _float_only("hardsigmoid", input)

    def fn(x):
        return E.where(x <= -3, 0.0, E.where(x >= 3, 1.0, x / 6 + 0.5))
    return _apply(fn, input, inplace, "hardsigmoid")


def tanh(input: Tensor) -> Tensor:
    return E.tanh(input)


def sigmoid(input: Tensor) -> Tensor:
    return E.sigmoid(input)


def softsign(input: Tensor) -> Tensor:
    """``x / (1 + |x|)``."""
    return input / (input.abs() + 1)


def tanhshrink(input: Tensor) -> Tensor:
    """``x - tanh(x)``."""
    return input - input.tanh()


def _threshold(input: Tensor, limit: float, value: float, inplace: bool) -> Tensor:
    def fn(x):
        out = E.where(x > limit, x, value)
        return out if out.dtype is x.dtype else out.to(x.dtype)
    return _apply(fn, input, inplace, "threshold")


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``x`` where ``x > threshold``, else ``value``."""
    return _threshold(input, threshold, value, inplace)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    return _threshold(input, threshold, value, True)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x`` where ``|x| > lambd``, else 0."""
    return E.where(input.abs() > lambd, input, 0.0)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0."""
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {float(lambd)}.")
    return E.where(input > lambd, input - lambd, E.where(input < -lambd, input + lambd, 0.0))


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit: ``a * sigmoid(b)`` for the two halves ``a, b`` of ``input`` along ``dim``."""
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    dim = _wrap_dim(dim, input.ndim)
    n = input.shape[dim]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim} is size {n}")
    a, b = input.split(n // 2, dim)
    return a * b.sigmoid()


def _legacy_softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    """PyTorch's deprecated choice of dim when none is given (0 for 0-, 1- and 3-d inputs, else 1)."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
                  "dim=X as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """Softmax along ``dim`` (PyTorch's legacy implicit dim, with its warning, when omitted)."""
    if dim is None:
        dim = _legacy_softmax_dim("softmax", input.ndim, _stacklevel)
    return _softmax(input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """Log-softmax along ``dim`` (PyTorch's legacy implicit dim, with its warning, when omitted)."""
    if dim is None:
        dim = _legacy_softmax_dim("log_softmax", input.ndim, _stacklevel)
    return _log_softmax(input, dim, dtype=dtype)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``softmax(-x)`` along ``dim``."""
    if dim is None:
        dim = _legacy_softmax_dim("softmin", input.ndim, _stacklevel)
    if dtype is not None:
        input = input.to(dtype)
    return _softmax(-input, dim)


def softmax2d(input: Tensor) -> Tensor:
    """Softmax over the channels of a ``(N, C, H, W)`` or ``(C, H, W)`` input."""
    if input.ndim not in (3, 4):
        raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D instead")
    return _softmax(input, -3)


def _softmax_any(input: Tensor, dim, stacklevel: int, dtype, log: bool = False) -> Tensor:
    """softmax/log_softmax with PyTorch's legacy ``dim=None`` handling (used by the modules)."""
    if dim is None:
        dim = _legacy_softmax_dim("log_softmax" if log else "softmax", input.ndim, stacklevel)
    return (_log_softmax if log else _softmax)(input, dim, dtype=dtype)


# Published for op observers (graph capture, the profiler): see ember._op_hooks.
observe_namespace(globals(), __all__)
