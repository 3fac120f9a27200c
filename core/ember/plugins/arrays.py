"""Array interop for plugin authors: a tensor's device array, a tensor around a device array, and the
array module (``numpy`` on the CPU, ``cupy`` on CUDA, a plugin backend's own) that works on them.

Code that is not differentiable (counting, sorting, binning, image resampling) runs fastest on the
raw arrays. These three functions are the supported way to get there and back: nothing is copied,
and the tensor keeps its device. What they give up is autograd: a tensor made by :func:`from_array`
has no history, and writing into an array from :func:`to_array` is invisible to autograd (do it only
on tensors you made yourself).

>>> import ember
>>> from ember.plugins.arrays import array_module, from_array, to_array
>>> t = ember.arange(6).reshape(2, 3)
>>> xp = array_module(t)                     # numpy for a CPU tensor
>>> a = to_array(t)                          # the tensor's own array: no copy
>>> from_array(xp.cumsum(a, axis=1), t.device)
tensor([[ 0,  1,  3],
        [ 3,  7, 12]])
"""
from __future__ import annotations

import numpy as np

from .. import _dtype as dt
from .._tensor import Tensor, _make
from ..backend import CPU, Device

__all__ = ["array_module", "to_array", "from_array"]

_FROM_NP = dt.FROM_NP


def _device(device) -> Device:
    """An indexed device from a ``Device``, a device string or index (``None`` is the CPU)."""
    if device is None:
        return CPU
    return Device(device).resolved()


def array_module(x):
    """The array module (``numpy``, ``cupy``, ...) for a tensor, a device or a device string.

    >>> array_module(ember.zeros(2)).__name__
    'numpy'
    >>> array_module("cpu").__name__
    'numpy'
    """
    device = x._device if isinstance(x, Tensor) else _device(x)
    return np if device is CPU else device.xp


def to_array(tensor: Tensor):
    """The device array holding ``tensor``'s elements (shared with the tensor, not a copy).

    >>> to_array(ember.tensor([1.0, 2.0]))
    array([1., 2.], dtype=float32)
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_array expects an ember.Tensor, got {type(tensor).__name__}")
    return tensor._data


def from_array(array, device=None) -> Tensor:
    """A tensor on ``device`` around the device array ``array`` (no copy; no autograd history).

    ``device`` defaults to the CPU, where ``array`` must be a NumPy array; on another device it must
    be an array of that device's array module. NumPy scalars (what NumPy reductions return) become
    0-d tensors. The array's dtype must be one Ember has.

    >>> from_array(np.float64(2.5))
    tensor(2.5000, dtype=ember.float64)
    """
    dev = _device(device)
    if isinstance(array, np.generic):
        array = np.asarray(array)
    xp = np if dev is CPU else dev.xp
    if not isinstance(array, xp.ndarray):
        where = "the CPU" if dev is CPU else f"device {dev}"
        raise TypeError(f"from_array: a tensor on {where} needs a {xp.__name__}.ndarray, got "
                        f"{type(array).__module__}.{type(array).__name__}")
    if array.dtype not in _FROM_NP:
        raise TypeError(f"from_array: Ember has no dtype for arrays of {array.dtype}; supported: "
                        f"{', '.join(sorted(str(d) for d in _FROM_NP))}")
    return _make(array, dev)
