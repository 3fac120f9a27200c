"""Shared machinery for element-wise ops: operand checks, type promotion and graph recording.

The drivers here are the hot path of every arithmetic operator, so they avoid generic
argument handling: they read array slots directly, promote dtypes only when they
differ, and build a graph node only when a gradient is being recorded.
"""
from __future__ import annotations

import numpy as np

from .. import _dtype as dt
from .._tensor import Tensor, _make
from ..autograd.function import Node, _SavedOutput, _next_seq, _version_counter, device_mismatch
from ..backend import CPU
from .creation import as_tensor

_ndarray = np.ndarray
_FROM_NP = dt.FROM_NP
_SCALARS = (int, float, bool)
_new_node = object.__new__


def as_array(out):
    """NumPy returns scalars for 0-d results; tensors always hold arrays."""
    return out if type(out) is _ndarray else np.asarray(out) if isinstance(out, (np.generic, float, int, complex)) else out


def scalar_value(b):
    """A Python scalar from a NumPy scalar (NumPy scalars would promote like arrays)."""
    if isinstance(b, np.generic):
        return b.item()
    if isinstance(b, np.ndarray):
        return as_tensor(b)
    raise TypeError(f"unsupported operand type {type(b).__name__}; expected a Tensor or a number")


def xp_of(t: Tensor):
    return np if t._device is CPU else t._device.xp


def edge(t: Tensor):
    """The graph edge to ``t``: its node (or itself, for a leaf), output index, shape and dtype."""
    return (t.grad_fn or t, t._output_nr, t._data.shape, t._data.dtype)


def save(t) -> tuple:
    """Pack an input tensor for backward together with its current version."""
    vc = t._vc
    if vc is None:
        vc = t._vc = [0]
    return (t, vc[0])


def record(cls, out, device, inputs, saved=None, save_output=False) -> Tensor:
    """Wrap ``out`` as the output of a new ``cls`` node over ``inputs`` (tensors or constants)."""
    node = _new_node(Node)
    node._fn = cls
    node.next_edges = tuple([(x.grad_fn or x, x._output_nr, x._data.shape, x._data.dtype)
                             if isinstance(x, Tensor) and x._rg else None for x in inputs])
    node._seq = _next_seq()
    node._device = device
    res = _make(out, device, True, node)
    if save_output:
        vc = res._vc = [0]
        so = _SavedOutput(out, vc, 0, device, True)
        node._saved = (so,) if saved is None else saved + (so,)
    else:
        node._saved = saved
    return res


def broadcast_pair_shape(a: tuple, b: tuple) -> tuple:
    """The broadcast of two shapes, or PyTorch's error naming the first mismatching dimension."""
    n = max(len(a), len(b))
    a2, b2 = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    out = []
    for i, (x, y) in enumerate(zip(a2, b2)):
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b ({y}) at "
                               f"non-singleton dimension {i}")
        out.append(y if x == 1 else x)
    return tuple(out)


def check_writable(array) -> None:
    """In-place writes into a tensor whose elements share memory (an expanded view) are refused, as in
    PyTorch (NumPy marks such arrays read-only; CuPy arrays have no flag)."""
    if not getattr(array.flags, "writeable", True):
        raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to a "
                           "single memory location. Please clone() the tensor before performing the operation.")


def promote_pair(a: Tensor, b: Tensor):
    """Arrays of ``a`` and ``b`` cast to their PyTorch result dtype."""
    ad, bd = a._data, b._data
    r = dt.binary_result(_FROM_NP[ad.dtype], dt.DIM if ad.ndim else dt.ZERO_DIM,
                         _FROM_NP[bd.dtype], dt.DIM if bd.ndim else dt.ZERO_DIM).np
    if ad.dtype != r:
        ad = ad.astype(r)
    if bd.dtype != r:
        bd = bd.astype(r)
    return ad, bd


def align_devices(name: str, a: Tensor, b: Tensor):
    """Allow a 0-dim CPU tensor with an accelerator tensor (as PyTorch does); else raise."""
    if b._data.ndim == 0 and b._device is CPU:
        return a._data, a._device.backend.from_host(b._data, a._device.index)
    if a._data.ndim == 0 and a._device is CPU:
        return b._device.backend.from_host(a._data, b._device.index), b._data
    raise device_mismatch(name, a._device, b._device)


def to_float(arr):
    """Integer/bool arrays become the default float dtype (for ops such as exp or true division);
    floating and complex arrays are kept."""
    return arr if arr.dtype.kind in "fc" else arr.astype(dt.get_default_dtype().np)


def result_dtype_check(name: str, result, target) -> None:
    """In-place ops may not write a higher-category result into a lower-category tensor."""
    r, t = _FROM_NP[result.dtype], _FROM_NP[target.dtype]
    if r.category > t.category:
        raise RuntimeError(f"result type {_SCALAR_TYPE_NAMES[r.name]} can't be cast to the desired output type "
                           f"{_SCALAR_TYPE_NAMES[t.name]} (in {name})")


# PyTorch's C++ scalar type names, used in its error messages.
_SCALAR_TYPE_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "int8": "Char", "int16": "Short",
                      "int32": "Int", "int64": "Long", "uint8": "Byte", "bool": "Bool", "complex64": "ComplexFloat",
                      "complex128": "ComplexDouble"}


def mark_view(result: Tensor, base: Tensor) -> Tensor:
    """Record that ``result`` shares storage with ``base``: they share a version counter
    (an in-place change to either is seen by autograd through both) and ``result._base``
    points at the tensor that owns the storage."""
    result._vc = _version_counter(base)
    result._base = base._base if base._base is not None else base
    return result
