"""dtype and device conversion (``Tensor.to``, ``.float()``, ``.cuda()``, ...), ``clone`` and ``contiguous``."""
from __future__ import annotations

import warnings

import numpy as np

from .. import _dtype as dt
from .._tensor import Tensor, _make
from ..autograd.function import Op
from ..backend import CPU, Device
from ._dispatch import broadcast_pair_shape, check_writable, record, xp_of
from .creation import resolve_device
from ..autograd.grad_mode import STATE
from ._inplace import inplace, inplace_source
from ._registry import Registry
from .._tensor import _bump_version

registry = Registry(globals())
__all__ = registry.exported   # filled in by the @registry decorators below


class Cast(Op):
    """Change dtype; the gradient is cast back to the input's dtype by the engine (complex to real
    keeps the real part, which is also the gradient of a real input that became complex)."""

    @staticmethod
    def forward(ctx, xp, x, dtype):
        if x.dtype.kind == "c" and not dtype.is_complex:
            x = x.real   # what NumPy's astype does, without its ComplexWarning
        return x.astype(dtype.np)

    @staticmethod
    def backward(ctx, g):
        return g, None


class ToDevice(Op):
    """Move to another device; the gradient moves back."""

    @staticmethod
    def forward(ctx, xp, x, device):
        # The output lives on another device: forward returns it as a tensor there.
        ctx.src = ctx._device
        return _make(_transfer(x, ctx._device, device), device)

    @staticmethod
    def backward(ctx, g):
        return g.to(ctx.src), None


def _transfer(data, src: Device, dst: Device):
    if src is dst:
        return data
    if src.type == dst.type:
        return dst.backend.move(data, dst.index)
    host = data if src is CPU else src.backend.to_host(data)
    return host if dst is CPU else dst.backend.from_host(host, dst.index)


class Clone(Op):
    @staticmethod
    def forward(ctx, xp, x):
        return x.copy()

    @staticmethod
    def backward(ctx, g):
        return g


@registry.op(method=True)
def clone(input: Tensor, *, memory_format=None) -> Tensor:
    """A copy of ``input`` with its own storage; gradients flow back to ``input``."""
    d = input._data.copy()
    if input._rg and STATE.enabled:
        return record(Clone, d, input._device, (input,))
    return _make(d, input._device)


@registry.method("contiguous")
def _contiguous(self: Tensor, memory_format=None) -> Tensor:
    if self._data.flags.c_contiguous:
        return self
    return clone(self)


def _parse_to_args(args, kwargs):
    """Tensor.to(device=None, dtype=None, non_blocking=False, copy=False) and its overloads."""
    device = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            device, dtype = a._device, a.dtype
        elif isinstance(a, dt.dtype) or a in (float, int, bool) or (isinstance(a, type) and issubclass(a, np.generic)):
            dtype = a
        elif isinstance(a, (str, Device, int)) and not isinstance(a, bool):
            device = a
        elif isinstance(a, bool):
            continue  # non_blocking / copy passed positionally
        else:
            raise TypeError(f"to() received an invalid argument {a!r}")
    return device, dtype, copy


@registry.method("to")
def _to(self: Tensor, *args, **kwargs) -> Tensor:
    """Convert dtype and/or device: ``t.to("cuda")``, ``t.to(ember.float64)``, ``t.to(other)``.

    Returns ``self`` when nothing changes (unless ``copy=True``). Differentiable.
    """
    device, dtype, copy = _parse_to_args(args, kwargs)
    out = self
    if device is not None:
        d = resolve_device(device)
        if d is not self._device:
            out = ToDevice.apply(out, d)
    if dtype is not None:
        d = dt.to_dtype(dtype)
        if d.np != out._data.dtype:
            _warn_discarded_imag(out, d)
            out = Cast.apply(out, d)
    if copy and out is self:
        out = clone(self)
    return out


def _warn_discarded_imag(t: Tensor, d: dt.dtype) -> None:
    if t._data.dtype.kind == "c" and not d.is_complex:
        warnings.warn("Casting complex values to real discards the imaginary part", UserWarning, stacklevel=3)


def _cast_method(d: dt.dtype):
    def method(self, memory_format=None):
        if self._data.dtype == d.np:
            return self
        _warn_discarded_imag(self, d)
        return Cast.apply(self, d)
    method.__name__ = d.name
    return method


@registry.method("type")
def _type(self: Tensor, dtype=None, non_blocking=False):
    if dtype is None:
        return f"ember.{'cuda.' if self._device.type == 'cuda' else ''}{_LEGACY[self.dtype]}"
    if isinstance(dtype, str):
        name = dtype.rsplit(".", 1)[-1]
        inv = {v: k for k, v in _LEGACY.items()}
        if name in inv:
            return self.to(inv[name])
    return self.to(dtype)


_LEGACY = {dt.float32: "FloatTensor", dt.float64: "DoubleTensor", dt.float16: "HalfTensor",
           dt.int64: "LongTensor", dt.int32: "IntTensor", dt.int16: "ShortTensor", dt.int8: "CharTensor",
           dt.uint8: "ByteTensor", dt.bool: "BoolTensor", dt.complex64: "ComplexFloatTensor",
           dt.complex128: "ComplexDoubleTensor"}


@registry.method("cpu")
def _cpu(self, memory_format=None):
    return self.to(CPU)


@registry.method("cuda")
def _cuda(self, device=None, non_blocking=False, memory_format=None):
    if device is None:
        device = "cuda"
    elif isinstance(device, int):
        device = f"cuda:{device}"
    return self.to(device)


@registry.method("type_as")
def _type_as(self, other):
    return self.to(other.dtype)


@registry.method("copy_")
def _copy_(self: Tensor, src: Tensor, non_blocking=False) -> Tensor:
    """Copy ``src`` into ``self`` (broadcasting, casting, across devices)."""
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'src' must be Tensor, not {type(src).__name__}")
    moved = src.to(self._device) if src._device is not self._device else src
    if (moved._rg or self._rg) and STATE.enabled:
        # Through autograd: the old value gets a zero gradient, ``src`` the copied one.
        value = moved.to(self.dtype) + inplace_source(self) * 0
        return inplace(self, value, "copy_")
    check_writable(self._data)
    if moved._data.shape != self._data.shape and \
            broadcast_pair_shape(self._data.shape, moved._data.shape) != self._data.shape:
        raise RuntimeError(f"output with shape {list(self._data.shape)} doesn't match the broadcast shape "
                           f"{list(broadcast_pair_shape(self._data.shape, moved._data.shape))}")
    data = moved._data
    if data.dtype.kind == "c" and self._data.dtype.kind != "c":
        data = data.real   # the real part, as PyTorch copies complex into real (NumPy would warn)
    xp_of(self).copyto(self._data, data.astype(self._data.dtype, copy=False))
    _bump_version(self)
    return self


for _name, _dtype in dict(float=dt.float32, double=dt.float64, half=dt.float16, long=dt.int64, int=dt.int32,
                          short=dt.int16, char=dt.int8, byte=dt.uint8, bool=dt.bool, cfloat=dt.complex64,
                          cdouble=dt.complex128).items():
    registry.method(_name, _cast_method(_dtype))
del _name, _dtype
