"""Turning lists of samples into batches: :func:`default_collate`, :func:`default_convert`, :func:`collate`.

``collate(batch, collate_fn_map=...)`` walks the structure of the first sample (dicts, namedtuples,
tuples, lists) and hands each leaf column to the function registered for its type, as PyTorch's
``torch.utils.data._utils.collate.collate`` does. Leaves are stacked with one NumPy call per column,
and a shape mismatch names the field it happened in.
"""
from __future__ import annotations

import collections.abc
import copy
import re

import numpy as np

from ... import _dtype as dt
from ..._tensor import Tensor, _make
from ...ops.creation import as_tensor, tensor
from ...ops.shape import stack

__all__ = ["collate", "default_collate", "default_convert", "default_collate_fn_map", "collate_tensor_fn",
           "collate_numpy_array_fn", "collate_numpy_scalar_fn", "collate_float_fn", "collate_int_fn",
           "collate_str_fn"]

_ERR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
_NP_STR_OBJ = re.compile(r"[SaUO]")   # NumPy dtype kinds that cannot become tensors


def _field(path) -> str:
    """A field path such as ``'image'``, ``[1]`` or ``'meta'['size']`` (dict keys, then sequence positions)."""
    parts = [repr(k) if isinstance(k, str) else f"[{k!r}]" for k in path]
    return parts[0] + "".join(p if p.startswith("[") else f"[{p}]" for p in parts[1:])


def _where(path) -> str:
    return f"field {_field(path)}" if path else "the batch"


def _check_shapes(shapes, path) -> None:
    first = shapes[0]
    for i, s in enumerate(shapes):
        if s != first:
            what = f"field {_field(path)} has" if path else "batch elements have"
            raise RuntimeError(f"default_collate: {what} shapes {list(first)} (element 0) and {list(s)} "
                               f"(element {i}) in the same batch; samples must have equal shapes to be stacked "
                               "(pad them or pass a custom collate_fn)")


# ---------------------------------------------------------------------------------------
# Leaf collate functions: fn(batch, *, collate_fn_map=None) -> batched value (the stacking ones also take
# ``path``, the field being collated, for their error messages)
# ---------------------------------------------------------------------------------------
def collate_tensor_fn(batch, *, collate_fn_map=None, path=()):
    """Stack tensors along a new dimension 0."""
    _check_shapes([t._data.shape for t in batch], path)
    first = batch[0]
    dev = first._device
    if any(t._rg for t in batch) or any(t._device is not dev or t.dtype is not first.dtype for t in batch):
        return stack(batch, 0)     # records the graph / promotes dtypes / reports device mismatches
    xp = np if dev.type == "cpu" else dev.xp
    return _make(xp.stack([t._data for t in batch]), dev)


def collate_numpy_array_fn(batch, *, collate_fn_map=None, path=()):
    """Stack NumPy arrays into one tensor (string and object arrays are rejected)."""
    elem = batch[0]
    if _NP_STR_OBJ.search(elem.dtype.str) is not None:
        raise TypeError(_ERR.format(elem.dtype))
    _check_shapes([a.shape for a in batch], path)
    return as_tensor(np.stack(batch))


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    """NumPy scalars become a 1-D tensor of their dtype."""
    return as_tensor(np.array(batch))


def collate_float_fn(batch, *, collate_fn_map=None):
    """Python floats become a float64 tensor."""
    return tensor(batch, dtype=dt.float64)


def collate_int_fn(batch, *, collate_fn_map=None):
    """Python ints become an int64 tensor (all-bool batches a bool tensor)."""
    return tensor(batch)


def collate_str_fn(batch, *, collate_fn_map=None):
    """Strings and bytes stay as they are (a sequence of them)."""
    return batch


default_collate_fn_map = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    (str, bytes): collate_str_fn,
}


def _leaf_fn(elem, collate_fn_map):
    fn = collate_fn_map.get(type(elem))
    if fn is not None:
        return fn
    for typ, f in collate_fn_map.items():
        if isinstance(elem, typ):
            return f
    return None


_PATH_AWARE = frozenset([collate_tensor_fn, collate_numpy_array_fn])


def _call(fn, batch, collate_fn_map, path):
    # Leaf functions registered by users follow PyTorch's signature fn(batch, *, collate_fn_map).
    if fn in _PATH_AWARE:
        return fn(batch, collate_fn_map=collate_fn_map, path=path)
    return fn(batch, collate_fn_map=collate_fn_map)


def collate(batch, *, collate_fn_map=None, _path=()):
    """Collate a list of samples, dispatching leaves by type through ``collate_fn_map``."""
    elem = batch[0]
    if collate_fn_map is not None:
        fn = _leaf_fn(elem, collate_fn_map)
        if fn is not None:
            return _call(fn, batch, collate_fn_map, _path)
    if isinstance(elem, collections.abc.Mapping):
        out = {}
        for key in elem:
            try:
                column = [d[key] for d in batch]
            except KeyError:
                raise KeyError(f"default_collate: {_where(_path)}: key {key!r} of the first sample is missing "
                               "from another sample of the batch") from None
            out[key] = collate(column, collate_fn_map=collate_fn_map, _path=_path + (key,))
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)    # keeps the mapping type (OrderedDict, defaultdict, ...)
                clone.update(out)
                return clone
            return type(elem)(out)
        except TypeError:
            return out
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):     # namedtuple
        return type(elem)(*(collate(col, collate_fn_map=collate_fn_map, _path=_path + (name,))
                            for name, col in zip(elem._fields, zip(*batch))))
    if isinstance(elem, collections.abc.Sequence) and not isinstance(elem, (str, bytes)):
        n = len(elem)
        for i, s in enumerate(batch):
            if len(s) != n:
                raise RuntimeError(f"each element in list of batch should be of equal size ({_where(_path)}: "
                                   f"element 0 has {n} items, element {i} has {len(s)})")
        columns = [collate(col, collate_fn_map=collate_fn_map, _path=_path + (j,))
                   for j, col in enumerate(zip(*batch))]
        if isinstance(elem, tuple):
            return columns        # PyTorch returns a list for tuples
        try:
            return type(elem)(columns)
        except TypeError:          # sequences that cannot be built from a list
            return columns
    raise TypeError(_ERR.format(type(elem)))


def default_collate(batch):
    """Merge a list of samples into a batch, as PyTorch's ``default_collate``.

    Tensors and NumPy arrays are stacked along a new first dimension; Python floats become float64
    tensors, ints int64, bools bool; strings and bytes are left as a sequence; dicts, namedtuples, tuples
    and lists are collated field by field (tuples come back as lists). Samples whose shapes differ raise
    a RuntimeError naming the field and the shapes.
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)


def default_convert(data):
    """Convert NumPy arrays and scalars in ``data`` to tensors, keeping the structure (used when
    ``batch_size=None``); Python numbers and strings are left alone."""
    if isinstance(data, np.ndarray) or isinstance(data, (np.bool_, np.number)):
        if isinstance(data, np.ndarray) and _NP_STR_OBJ.search(data.dtype.str) is not None:
            return data
        return as_tensor(data)
    if isinstance(data, (Tensor, str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        out = {k: default_convert(v) for k, v in data.items()}
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)
                clone.update(out)
                return clone
            return type(data)(out)
        except TypeError:
            return out
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence):
        try:
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data
