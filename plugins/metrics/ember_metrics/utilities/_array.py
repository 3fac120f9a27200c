"""Array-level helpers of the metrics, on Ember's plugin-author array API (``ember.plugins.arrays``).

Metrics that are not differentiable (counting, sorting, binning) compute on the raw device arrays
(NumPy on CPU, CuPy on CUDA) for speed, and wrap results back as Ember tensors on the same device.
"""
from __future__ import annotations

import numpy as np

import ember
from ember import Tensor
from ember.plugins.arrays import array_module, from_array, to_array

__all__ = ["array_module", "arr", "wrap", "as_tensor", "float_np", "sigmoid", "softmax", "in_unit_interval", "eps_of"]


arr = to_array  # the device array of a tensor (no copy)


def wrap(a, device) -> Tensor:
    """An Ember tensor on ``device`` around the device array ``a`` (Python numbers become 0-d arrays)."""
    if not hasattr(a, "shape"):
        a = np.asarray(a)
    return from_array(a, device)


def as_tensor(x) -> Tensor:
    """Accept Ember tensors as they are; convert lists/NumPy arrays/numbers (on the CPU)."""
    return x if isinstance(x, Tensor) else ember.as_tensor(np.asarray(x))


def float_np(a):
    """The floating dtype a result computed from ``a`` has: floats keep theirs, others float32."""
    return a.dtype if a.dtype.kind == "f" else np.dtype(np.float32)


def sigmoid(xp, x):
    """Numerically stable logistic function on a device array."""
    return 0.5 * (1.0 + xp.tanh(0.5 * x))


def softmax(xp, x, axis: int):
    """Numerically stable softmax of a device array along ``axis``."""
    e = xp.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def in_unit_interval(xp, x) -> bool:
    """True when every value of ``x`` is a probability (so no sigmoid/softmax is applied)."""
    return x.size == 0 or bool(xp.all((x >= 0) & (x <= 1)))


def eps_of(t: Tensor) -> float:
    """Machine epsilon of ``t``'s floating dtype (float32's for other dtypes)."""
    d = to_array(t).dtype
    return float(np.finfo(d if d.kind == "f" else np.float32).eps)
