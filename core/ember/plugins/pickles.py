"""A restricted loader for third-party pickles: dataset files and checkpoints that other projects
publish as pickles (CIFAR's batches, old NumPy dumps), read without running code from the file.

:func:`load_pickle` reads them with the restricted unpickler that ``ember.load`` uses for PyTorch
checkpoints, given its own allow-list: plain containers (dict, list, tuple, str, bytes, numbers),
plain numeric NumPy arrays when ``numpy_arrays=True`` (the few NumPy globals that rebuild one:
``numpy.core.multiarray._reconstruct``, ``numpy.ndarray``, ``numpy.dtype``; object, string and
record dtypes are refused), the latin-1 ``_codecs.encode`` that protocol-2 pickles use for bytes,
and the classes and functions the caller allows by name. Anything else is refused with
:class:`ember.serialization.UnsafeUnpicklingError` naming it, before it is called; data that is not
a valid pickle raises :class:`PickleFormatError`.

>>> import pickle, numpy as np
>>> data = pickle.dumps({"labels": [1, 2], "data": np.arange(4, dtype=np.uint8)}, protocol=2)
>>> load_pickle(data, name="batch")["data"]
array([0, 1, 2, 3], dtype=uint8)
>>> try:
...     load_pickle(pickle.dumps(print), name="evil")
... except ember.serialization.UnsafeUnpicklingError as e:
...     print(e)
evil: refused to load global 'builtins.print': the file is read with a restricted unpickler ...
"""
from __future__ import annotations

import io
import math
import os
import pickle
import types
from typing import Any, Iterable

import numpy as np

from ..serialization import UnsafeUnpicklingError
from ..serialization._torch import _latin1_encode
from ..serialization._torch import _Unpickler as _CheckpointUnpickler

__all__ = ["load_pickle", "PickleFormatError"]

_NDARRAY = object()  # what the global ``numpy.ndarray`` resolves to: only a marker for _reconstruct
# Plain numeric element types (no objects, strings, records or subarrays).
_NUMERIC = frozenset({"b1", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f2", "f4", "f8"})


class PickleFormatError(pickle.UnpicklingError, ValueError):
    """The data is not a valid pickle (truncated, bad opcodes, an array whose bytes don't match its shape)."""


class _DType:
    """Stands for ``numpy.dtype(spec)`` until the pickle's BUILD sets its byte order: the real dtype
    objects are shared singletons, so their state is never set from a file."""

    __slots__ = ("dtype",)

    def __init__(self, dtype: np.dtype):
        self.dtype = dtype


def _global_name(obj) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


class _RestrictedUnpickler(_CheckpointUnpickler):
    """The checkpoint reader's restricted unpickler with a third-party file's allow-list."""

    dispatch = dict(_CheckpointUnpickler.dispatch)

    def __init__(self, file, name: str, allowed: dict, numpy_arrays: bool, encoding: str):
        super().__init__(file, types.SimpleNamespace(name=name), encoding=encoding)
        self.name = name
        self.allowed = allowed  # full name -> object, for find_class
        self._allowed_types = [v for v in allowed.values() if isinstance(v, type)]  # NEWOBJ and BUILD may use these
        self._globals = {("_codecs", "encode"): _latin1_encode}
        if numpy_arrays:
            self._globals.update({
                ("numpy.core.multiarray", "_reconstruct"): self._reconstruct,  # written by NumPy 1.x
                ("numpy._core.multiarray", "_reconstruct"): self._reconstruct,  # written by NumPy 2.x
                ("numpy", "ndarray"): _NDARRAY,
                ("numpy", "dtype"): self._dtype,
            })
        self._fresh: dict[int, np.ndarray] = {}  # arrays made by _reconstruct, not yet given their state

    def find_class(self, module, name):
        found = self._globals.get((module, name))
        if found is None:
            found = self.allowed.get(f"{module}.{name}")
        if found is None:
            raise UnsafeUnpicklingError(
                f"{self.name}: refused to load global '{module}.{name}': the file is read with a restricted "
                "unpickler that only rebuilds plain containers, numeric NumPy arrays and the globals its reader "
                "allows, and never runs code from a file")
        return found

    def persistent_load(self, pid):
        raise UnsafeUnpicklingError(f"{self.name}: unexpected persistent id {pid!r:.80}")

    def _dtype(self, spec, align=False, copy=False) -> _DType:
        if type(spec) is not str or spec not in _NUMERIC:
            raise UnsafeUnpicklingError(f"{self.name}: refused numpy dtype {spec!r}: only plain numeric dtypes "
                                        "are allowed")
        return _DType(np.dtype(spec))

    def _reconstruct(self, cls, shape, typecode):
        """``numpy.core.multiarray._reconstruct(ndarray, (0,), b'b')``: a fresh, empty array."""
        if cls is not _NDARRAY or tuple(shape) != (0,):
            raise UnsafeUnpicklingError(f"{self.name}: refused _reconstruct({cls!r:.40}, {shape!r:.40}, ...)")
        arr = np.ndarray((0,), np.uint8)
        self._fresh[id(arr)] = arr
        return arr

    def _load_build(self):
        inst = self.stack[-2]
        if type(inst) is _DType:
            state = self.stack.pop()
            inst.dtype = self._dtype_state(inst.dtype, state)
        elif type(inst) is np.ndarray and self._fresh.get(id(inst)) is inst:
            state = self.stack.pop()
            del self._fresh[id(inst)]
            inst.__setstate__(self._array_state(state))
        elif any(type(inst) is t for t in self._allowed_types):
            _CheckpointUnpickler._load_build(self)
        else:
            raise UnsafeUnpicklingError(f"{self.name}: refused to set the state of a {type(inst).__name__} "
                                        "object (pickle BUILD)")

    dispatch[pickle.BUILD[0]] = _load_build

    def _dtype_state(self, dtype: np.dtype, state) -> np.dtype:
        # (version, byteorder, subarray, names, fields, elsize, alignment, flags[, metadata])
        if (type(state) is not tuple or len(state) not in (8, 9) or state[0] not in (3, 4)
                or state[1] not in ("|", "<", ">", "=") or any(v is not None for v in state[2:5] + state[8:])):
            raise UnsafeUnpicklingError(f"{self.name}: refused numpy dtype state {state!r:.120}")
        return dtype.newbyteorder(state[1]) if state[1] in "<>" and dtype.itemsize > 1 else dtype

    def _array_state(self, state) -> tuple:
        # (version, shape, dtype, is_fortran, raw data); very old pickles omit the version
        if type(state) is tuple and len(state) == 5 and state[0] == 1:
            state = state[1:]
        if type(state) is not tuple or len(state) != 4:
            raise UnsafeUnpicklingError(f"{self.name}: refused numpy array state {state!r:.120}")
        shape, dtype, fortran, raw = state
        if type(raw) is str:  # Python 2's str, decoded as latin-1
            raw = raw.encode("latin1")
        if (type(shape) is not tuple or not all(type(n) is int and n >= 0 for n in shape) or type(dtype) is not _DType
                or type(fortran) not in (bool, int) or type(raw) not in (bytes, bytearray)):
            raise UnsafeUnpicklingError(f"{self.name}: refused numpy array state {state!r:.120}")
        need = math.prod(shape) * dtype.dtype.itemsize
        if len(raw) != need:
            raise PickleFormatError(f"{self.name}: array of shape {shape} and dtype {dtype.dtype} needs {need} "
                                    f"bytes, the file holds {len(raw)}")
        return 1, shape, dtype.dtype, bool(fortran), raw


def _allow_list(allowed_globals: Iterable) -> dict:
    """``[obj, (obj, "module.name"), ...]`` -> ``{"module.name": obj}`` (``add_safe_globals``'s spelling)."""
    out = {}
    for entry in allowed_globals:
        obj, name = entry if isinstance(entry, tuple) else (entry, None)
        if name is None:
            if not hasattr(obj, "__module__") or not hasattr(obj, "__qualname__"):
                raise TypeError(f"load_pickle: allowed global {obj!r:.80} is not a class or function; pass "
                                "(object, 'module.name') to name it")
            name = _global_name(obj)
        out[name] = obj
    return out


def _read_source(source) -> tuple[bytes, str]:
    """The bytes of a path, a binary file or bytes, and a name for messages."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), "<bytes>"
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        with open(path, "rb") as f:
            return f.read(), repr(path)
    return source.read(), repr(getattr(source, "name", "<file>"))


def load_pickle(source, *, name: str | None = None, what: str = "pickle", allowed_globals: Iterable = (),
                numpy_arrays: bool = True, encoding: str = "latin1") -> Any:
    """Unpickle a third-party file without running code from it (see the module docstring).

    ``source`` is a path, a binary file or ``bytes``; ``name`` names it in messages (default: the
    path) and ``what`` says what it should be (``"CIFAR pickle"``: "... is not a valid CIFAR pickle").
    ``allowed_globals`` are extra classes or functions the file may name, each an object or
    an ``(object, "module.name")`` pair, as for :func:`ember.serialization.add_safe_globals`.
    ``encoding`` decodes Python 2 ``str`` objects (``"latin1"`` keeps NumPy's byte data intact).

    Raises :class:`ember.serialization.UnsafeUnpicklingError` for anything outside the allow-list and
    :class:`PickleFormatError` for data that is not a valid pickle.

    >>> load_pickle(pickle.dumps([1, (2.5, "a")]))
    [1, (2.5, 'a')]
    """
    data, default_name = _read_source(source)
    name = default_name if name is None else name
    unpickler = _RestrictedUnpickler(io.BytesIO(data), name, _allow_list(allowed_globals), numpy_arrays, encoding)
    try:
        return unpickler.load()
    except (UnsafeUnpicklingError, PickleFormatError):
        raise
    except Exception as e:  # truncated data, bad opcodes, wrong call arguments...
        raise PickleFormatError(f"{name}: not a valid {what} ({type(e).__name__}: {e})") from None
