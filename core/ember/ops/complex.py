"""Complex numbers: ``real``/``imag`` and ``view_as_real``/``view_as_complex`` (views), ``conj``,
``complex``, ``polar``, ``angle``, ``sgn`` and the ``is_complex`` queries.

Gradients follow PyTorch's convention: for a real loss L of a complex z, the gradient stored for z is
dL/dRe(z) + i dL/dIm(z) (the conjugate Wirtinger derivative, times 2). So ``real`` sends a real
gradient g back as g + 0i, ``imag`` as i g, and a real input reached by a complex gradient keeps its
real part (the engine does that once, for every op).
"""
from __future__ import annotations

import numpy as np

from .. import _dtype as dt
from .._tensor import Tensor, _make
from ..autograd.function import Op
from ..autograd.grad_mode import STATE
from ._dispatch import _SCALAR_TYPE_NAMES, mark_view, record
from ._inplace import make_inplace
from ._registry import Registry
from .elementwise import abs as _abs, cos, sin, where

registry = Registry(globals(), make_inplace=make_inplace)
__all__ = registry.exported   # filled in by the @registry decorators below


def _view(cls, out, input: Tensor) -> Tensor:
    """``out`` (an array sharing ``input``'s memory) as a view of ``input``, recorded as ``cls``."""
    if input._rg and STATE.enabled:
        res = record(cls, out, input._device, (input,))
    else:
        res = _make(out, input._device)
    return mark_view(res, input)


def _check_complex(name: str, input: Tensor, message: str) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input._data.dtype.kind != "c":
        raise RuntimeError(message)


class Real(Op):
    @staticmethod
    def backward(ctx, g):
        return g.to(ctx.complex_dtype)            # g + 0i


class Imag(Op):
    @staticmethod
    def backward(ctx, g):
        return g * 1j                             # the imaginary part moves by i per unit of gradient


def _with_dtype(res: Tensor, input: Tensor) -> Tensor:
    if res.grad_fn is not None:
        res.grad_fn.complex_dtype = input.dtype
    return res


@registry.op(method=property(lambda self: real(self), lambda self, value: real(self).copy_(_as_value(value))))
def real(input: Tensor) -> Tensor:
    """The real part of a complex tensor, as a view (writes go through); a real tensor itself.

    >>> z = ember.tensor([1 + 2j, 3 - 1j])
    >>> z.real
    tensor([1., 3.])
    >>> z.real = ember.tensor([0.0, 5.0]); z
    tensor([0.+2.j, 5.-1.j])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"real(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input._data.dtype.kind != "c":
        return input
    return _with_dtype(_view(Real, input._data.real, input), input)


@registry.op(method=property(lambda self: imag(self), lambda self, value: imag(self).copy_(_as_value(value))))
def imag(input: Tensor) -> Tensor:
    """The imaginary part of a complex tensor, as a view (writes go through).

    >>> ember.tensor([1 + 2j, 3 - 1j]).imag
    tensor([ 2., -1.])
    """
    _check_complex("imag", input, "imag is not implemented for tensors with non-complex dtypes.")
    return _view(Imag, input._data.imag, input)


def _as_value(value):
    return value if isinstance(value, Tensor) else _make(np.asarray(value))


class ViewAsReal(Op):
    @staticmethod
    def backward(ctx, g):
        return view_as_complex(g.contiguous())


class ViewAsComplex(Op):
    @staticmethod
    def backward(ctx, g):
        return view_as_real(g)


@registry.op
def view_as_real(input: Tensor) -> Tensor:
    """A complex tensor's memory seen as real numbers: shape ``(..., 2)`` (real, imaginary), a view.

    >>> ember.view_as_real(ember.tensor([1 + 2j, 3 - 1j]))
    tensor([[ 1.,  2.],
            [ 3., -1.]])
    """
    _check_complex("view_as_real", input, "view_as_real is only supported for complex tensors")
    d = input._data
    # A new last axis of length 1 is contiguous whatever d's strides are, so the item size can change.
    out = d[..., None].view(d.real.dtype)
    return _view(ViewAsReal, out, input)


@registry.op
def view_as_complex(input: Tensor) -> Tensor:
    """A real tensor of shape ``(..., 2)`` seen as complex numbers, a view (PyTorch's stride rules).

    >>> ember.view_as_complex(ember.tensor([[1.0, 2.0], [3.0, -1.0]]))
    tensor([1.+2.j, 3.-1.j])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"view_as_complex(): argument 'input' must be Tensor, not {type(input).__name__}")
    d = input._data
    if d.dtype.kind != "f" or d.dtype.itemsize < 4:
        raise RuntimeError("view_as_complex is only supported for float and double tensors, but got a tensor of "
                           f"scalar type: {_type_name(input.dtype)}")
    if d.ndim == 0 or d.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    if d.strides[-1] != d.itemsize:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if any(s % (2 * d.itemsize) for s in d.strides[:-1]):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
    if _storage_offset(input) % 2:
        raise RuntimeError("Tensor must have a storage_offset divisible by 2")
    out = d.view(dt.FROM_NP[d.dtype].to_complex().np)[..., 0]
    return _view(ViewAsComplex, out, input)


def _storage_offset(t: Tensor) -> int:
    """Elements between the start of ``t``'s storage (its base's data) and its first element (checked on
    the CPU only: 0 elsewhere)."""
    if t._base is None or t._device.type != "cpu":
        return 0
    start = t._base._data.__array_interface__["data"][0]
    return (t._data.__array_interface__["data"][0] - start) // t._data.itemsize


def _type_name(d: dt.dtype) -> str:
    return _SCALAR_TYPE_NAMES[d.name]


class Conj(Op):
    @staticmethod
    def forward(ctx, xp, x):
        return xp.conj(x)

    @staticmethod
    def backward(ctx, g):
        return g.conj()


@registry.op(method=True, aliases=("conj_physical",))
def conj(input: Tensor) -> Tensor:
    """The complex conjugate; a real tensor itself.

    Deviation: PyTorch's ``conj`` is a lazy view (a conjugate bit); Ember's is a copy, so
    ``is_conj()`` is always False and writes into the result do not reach ``input``.

    >>> ember.tensor([1 + 2j]).conj()
    tensor([1.-2.j])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"conj(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input._data.dtype.kind != "c":
        return input
    return Conj.apply(input)


@registry.op(method=True)
def resolve_conj(input: Tensor) -> Tensor:
    """``input`` itself: Ember's conjugates are never lazy."""
    return input


@registry.op(method=True)
def resolve_neg(input: Tensor) -> Tensor:
    """``input`` itself: Ember's negations are never lazy."""
    return input


@registry.op(method=True)
def is_conj(input: Tensor) -> bool:
    """Always False (Ember's ``conj`` copies)."""
    return False


@registry.op(method=True)
def is_neg(input: Tensor) -> bool:
    """Always False (Ember has no lazy negation)."""
    return False


@registry.op
def is_complex(input: Tensor) -> bool:
    """True if ``input`` has a complex dtype.

    >>> ember.is_complex(ember.zeros(2, dtype=ember.complex64))
    True
    """
    return input._data.dtype.kind == "c"


class Complex(Op):
    @staticmethod
    def forward(ctx, xp, re, im):
        out = xp.empty(np.broadcast_shapes(re.shape, im.shape), dt.FROM_NP[re.dtype].to_complex().np)
        out.real, out.imag = re, im
        return out

    @staticmethod
    def backward(ctx, g):
        e = ctx.needs_input_grad
        return (real(g) if e[0] else None), (imag(g) if e[1] else None)


def _check_float_pair(re, im) -> None:
    for name, t in (("real", re), ("imag", im)):
        if not isinstance(t, Tensor):
            raise TypeError(f"complex(): argument '{name}' must be Tensor, not {type(t).__name__}")
    if re._data.dtype.kind != "f" or im._data.dtype.kind != "f":
        raise RuntimeError(f"Expected both inputs to be Half, Float or Double tensors but got "
                           f"{_type_name(re.dtype)} and {_type_name(im.dtype)}")
    if re.dtype is not im.dtype:
        raise RuntimeError(f"Expected object of scalar type {_type_name(re.dtype)} but got scalar type "
                           f"{_type_name(im.dtype)} for second argument")
    if re.dtype is dt.float16:
        raise RuntimeError("complex(): float16 inputs would make complex32, which Ember does not support")


@registry.op
def complex(real: Tensor, imag: Tensor) -> Tensor:
    """``real + i imag`` from two float tensors of the same dtype (broadcast).

    >>> ember.complex(ember.tensor([1.0, 2.0]), ember.tensor([0.5, -1.0]))
    tensor([1.+0.5000j, 2.-1.0000j])
    """
    _check_float_pair(real, imag)
    return Complex.apply(real, imag)


@registry.op
def polar(abs: Tensor, angle: Tensor) -> Tensor:
    """``abs * (cos(angle) + i sin(angle))``: the complex numbers of given magnitude and phase.

    >>> ember.polar(ember.tensor([2.0]), ember.tensor([0.0]))
    tensor([2.+0.j])
    """
    _check_float_pair(abs, angle)
    return complex(abs * cos(angle), abs * sin(angle))


class Angle(Op):
    @staticmethod
    def forward(ctx, xp, x):
        ctx.save_for_backward(x)
        if x.dtype.kind == "c":
            return xp.angle(x)
        # Real input: pi for negative numbers, 0 otherwise, NaN kept (as PyTorch).
        return xp.where(x < 0, np.pi, 0).astype(x.dtype) + x * 0

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        if x._data.dtype.kind != "c":
            return g * 0
        # d angle: g * i z / |z|^2, and 0 at z = 0 (PyTorch's choice).
        sq = x.real * x.real + x.imag * x.imag
        return where(sq == 0, 0.0, g * (x * 1j) / where(sq == 0, 1.0, sq))


@registry.op(method=True)
def angle(input: Tensor) -> Tensor:
    """The phase (argument) of each element, in radians; for real input pi where negative, else 0.

    >>> ember.tensor([1j, -1.0 + 0j]).angle()
    tensor([1.5708, 3.1416])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"angle(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input._data.dtype.kind not in "fc":
        input = input.to(dt.get_default_dtype())
    return Angle.apply(input)


@registry.op(method=True, inplace=True)
def sgn(input: Tensor) -> Tensor:
    """``z / |z|`` (0 at 0) for complex input; ``sign`` for real input.

    >>> ember.tensor([3 + 4j, 0j]).sgn()
    tensor([0.6000+0.8000j, 0.0000+0.0000j])
    """
    if input._data.dtype.kind != "c":
        return input.sign()
    a = _abs(input)
    zero = a == 0
    return where(zero, 0.0, input / where(zero, 1.0, a))

