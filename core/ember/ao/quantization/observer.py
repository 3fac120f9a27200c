"""Observers: they watch a tensor and compute the ``(scale, zero_point)`` that quantize it.

PyTorch's classes and formulas (``MinMaxObserver``, ``PerChannelMinMaxObserver``,
``PlaceholderObserver``, ``with_args``). Dynamic quantization uses them on weights only: activations
get their parameters at run time, per batch, so their observer is a placeholder naming the dtype.
"""
from __future__ import annotations

import functools

import numpy as np

from ... import _dtype as dt
from ..._qscheme import per_channel_affine, per_channel_symmetric, per_tensor_affine, per_tensor_symmetric
from ...nn.module import Module
from ...ops.creation import tensor

__all__ = ["ObserverBase", "MinMaxObserver", "PerChannelMinMaxObserver", "PlaceholderObserver",
           "default_weight_observer", "default_per_channel_weight_observer", "default_dynamic_quant_observer",
           "default_float_qparams_observer"]

_EPS = float(np.finfo(np.float32).eps)


class _PartialWrapper:
    """``Observer.with_args(...)``: a factory that builds the observer with those arguments."""

    def __init__(self, cls, kwargs: dict):
        self.p = functools.partial(cls, **kwargs)

    def __call__(self, *args, **kwargs):
        return self.p(*args, **kwargs)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.p.keywords.items())
        return f"functools.partial({self.p.func.__name__}, {args}){{}}"


def _quant_range(dtype, quant_min, quant_max, reduce_range: bool) -> tuple[int, int]:
    """PyTorch's default integer range for ``dtype``, halved by ``reduce_range``."""
    if quant_min is not None and quant_max is not None:
        if not quant_min <= 0 <= quant_max:
            raise ValueError("Used-specified quantization range must include 0.")
        return quant_min, quant_max
    if dtype is dt.qint8:
        return (-64, 63) if reduce_range else (-128, 127)
    return (0, 127) if reduce_range else (0, 255)


class ObserverBase(Module):
    """Base of the observers: holds the target ``dtype`` and whether quantization is dynamic."""

    def __init__(self, dtype, is_dynamic: bool = False):
        super().__init__()
        self.dtype = dtype
        self.is_dynamic = is_dynamic

    @classmethod
    def with_args(cls, **kwargs) -> _PartialWrapper:
        """A factory for this observer with ``kwargs`` bound, as a ``QConfig`` holds it.

        >>> from ember.ao.quantization import MinMaxObserver
        >>> MinMaxObserver.with_args(dtype=ember.qint8)().dtype
        ember.qint8
        """
        return _PartialWrapper(cls, kwargs)


class MinMaxObserver(ObserverBase):
    """Tracks the running min and max of what it sees; ``calculate_qparams()`` turns them into a scale
    and zero point (``qscheme`` per_tensor_affine or per_tensor_symmetric).

    >>> from ember.ao.quantization import MinMaxObserver
    >>> obs = MinMaxObserver(dtype=ember.qint8, qscheme=ember.per_tensor_symmetric)
    >>> _ = obs(ember.tensor([-1.0, 0.5, 2.55]))
    >>> obs.calculate_qparams()
    (tensor([0.0200]), tensor([0]))
    """

    _per_channel = False

    def __init__(self, dtype=dt.quint8, qscheme=per_tensor_affine, reduce_range: bool = False, quant_min=None,
                 quant_max=None, factory_kwargs=None, eps: float = _EPS, is_dynamic: bool = False, **kwargs):
        super().__init__(dtype, is_dynamic)
        if dtype not in (dt.qint8, dt.quint8):
            raise ValueError(f"{type(self).__name__} observes integer quantization: dtype must be ember.qint8 or "
                             f"ember.quint8, got {dtype}")
        allowed = (per_channel_affine, per_channel_symmetric) if self._per_channel else \
            (per_tensor_affine, per_tensor_symmetric)
        if qscheme not in allowed:
            raise NotImplementedError(f"{type(self).__name__} takes qscheme {' or '.join(map(repr, allowed))}, "
                                      f"got {qscheme!r}")
        self.qscheme, self.reduce_range, self.eps = qscheme, reduce_range, float(eps)
        self.quant_min, self.quant_max = _quant_range(dtype, quant_min, quant_max, reduce_range)
        self._lo = self._hi = None

    def _extrema(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return x.min(), x.max()

    def forward(self, x_orig):
        """Record the min and max of ``x_orig``; return it unchanged."""
        x = x_orig.detach().cpu().numpy().astype(np.float32, copy=False)
        if x.size == 0:
            return x_orig
        lo, hi = self._extrema(x)
        self._lo = lo if self._lo is None else np.minimum(self._lo, lo)
        self._hi = hi if self._hi is None else np.maximum(self._hi, hi)
        return x_orig

    @property
    def min_val(self):
        return tensor(np.inf if self._lo is None else self._lo, dtype=dt.float32)

    @property
    def max_val(self):
        return tensor(-np.inf if self._hi is None else self._hi, dtype=dt.float32)

    def calculate_qparams(self):
        """``(scale float32, zero_point int64)`` tensors (one entry per channel for per-channel observers)."""
        if self._lo is None:
            raise RuntimeError(f"{type(self).__name__} has observed nothing: call it on a tensor first")
        lo = np.minimum(np.float32(self._lo), np.float32(0))
        hi = np.maximum(np.float32(self._hi), np.float32(0))
        qmin, qmax = self.quant_min, self.quant_max
        if self.qscheme.is_symmetric:
            # PyTorch's formula: the larger magnitude onto half the integer range; zero point mid-range
            # for uint8, 0 for int8.
            scale = np.maximum(-lo, hi) / np.float32((qmax - qmin) / 2)
            zero = np.full(scale.shape, 0 if self.dtype is dt.qint8 else (qmin + qmax + 1) // 2, np.int64)
        else:
            scale = (hi - lo) / np.float32(qmax - qmin)
        scale = np.maximum(scale.astype(np.float32), np.float32(self.eps))
        if not self.qscheme.is_symmetric:
            zero = np.clip(qmin - np.rint(lo / scale), qmin, qmax).astype(np.int64)
        shape = scale.shape if self._per_channel else (1,)
        return tensor(scale.reshape(shape)), tensor(zero.reshape(shape))

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"


class PerChannelMinMaxObserver(MinMaxObserver):
    """``MinMaxObserver`` per slice along ``ch_axis`` (a weight's output rows for ``ch_axis=0``).

    >>> from ember.ao.quantization import PerChannelMinMaxObserver
    >>> obs = PerChannelMinMaxObserver(dtype=ember.qint8, qscheme=ember.per_channel_symmetric)
    >>> _ = obs(ember.tensor([[1.0, -2.55], [0.255, 0.1]]))
    >>> obs.calculate_qparams()[0]
    tensor([0.0200, 0.0020])
    """

    _per_channel = True

    def __init__(self, ch_axis: int = 0, dtype=dt.quint8, qscheme=per_channel_affine, reduce_range: bool = False,
                 quant_min=None, quant_max=None, factory_kwargs=None, eps: float = _EPS, is_dynamic: bool = False,
                 **kwargs):
        super().__init__(dtype, qscheme, reduce_range, quant_min, quant_max, factory_kwargs, eps, is_dynamic)
        self.ch_axis = ch_axis

    def _extrema(self, x: np.ndarray):
        rows = np.moveaxis(x, self.ch_axis, 0).reshape(x.shape[self.ch_axis], -1)
        return rows.min(axis=1), rows.max(axis=1)


class PlaceholderObserver(ObserverBase):
    """Observes nothing; names the ``dtype`` (for activations quantized at run time, or float16)."""

    def __init__(self, dtype=dt.float32, custom_op_name: str = "", compute_dtype=None, quant_min=None,
                 quant_max=None, qscheme=None, eps=None, is_dynamic: bool = False):
        super().__init__(dtype, is_dynamic)
        self.quant_min, self.quant_max, self.qscheme = quant_min, quant_max, qscheme

    def forward(self, x):
        return x

    def calculate_qparams(self):
        raise Exception("calculate_qparams should not be called for PlaceholderObserver")


default_weight_observer = MinMaxObserver.with_args(dtype=dt.qint8, qscheme=per_tensor_symmetric)
default_per_channel_weight_observer = PerChannelMinMaxObserver.with_args(dtype=dt.qint8,
                                                                         qscheme=per_channel_symmetric)
default_dynamic_quant_observer = PlaceholderObserver.with_args(dtype=dt.quint8, quant_min=0, quant_max=255,
                                                               is_dynamic=True)
default_float_qparams_observer = PlaceholderObserver.with_args(dtype=dt.float16)
