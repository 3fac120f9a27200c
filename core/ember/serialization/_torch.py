"""Loading PyTorch checkpoints (``torch.save`` files, and ``ember.save``'s zip layout) without PyTorch.

Two layouts are read:

* the zip format (PyTorch >= 1.6): ``<prefix>/data.pkl`` (the object, pickled; tensors refer to
  storages by persistent id ``('storage', StorageType, key, location, numel)``),
  ``<prefix>/data/<key>`` (each storage's raw bytes) and ``<prefix>/byteorder``;
* the legacy format (``_use_new_zipfile_serialization=False``): five pickles in a row (magic number,
  protocol version, system info, the object, the sorted storage keys), then for each key an int64
  element count and the storage's raw bytes.

With ``weights_only=True`` (``ember.load``'s default) pickles are read by a restricted unpickler, as
PyTorch's weights-only unpickler reads them: only the globals needed to rebuild tensors and plain
containers resolve (see ``_GLOBALS``), each to an Ember stand-in, plus the classes and functions the
user allowlisted (``_safe_globals.py``); any other global raises :class:`UnsafeUnpicklingError`
naming it and how to allowlist it, before anything is called. It builds on the pure-Python
``pickle._Unpickler`` rather than the C one because it must also police NEWOBJ and BUILD: an object
is created (``cls.__new__``) or has its state set (``__setstate__``, or ``__dict__`` and slots) only
when its class is allowlisted, and otherwise BUILD is only honoured for the ``_metadata`` attribute
PyTorch attaches to state-dict OrderedDicts (so a file can't tamper with shared objects such as
dtypes). It also only calls what ``find_class`` resolved, only appends to lists, sets items of
dicts and adds to sets, and never lets a length field in the pickle allocate more than the file
holds.

With ``weights_only=False`` the user trusts the file: ``pickle``'s own unpickler runs it, importing
and calling whatever it names. PyTorch's tensor, storage, dtype, device and size names still resolve
to the Ember stand-ins; other PyTorch classes can't be rebuilt without PyTorch and raise an error
naming the class (unless the user's allowlist names a stand-in for them). The legacy layout is then
read in one pass: each storage's array is allocated when the object first refers to it and filled
once the data after the object has been read, so the file's classes run once.

Tensors that share a storage in the file share it once loaded, as in PyTorch: each is a NumPy view of
the storage's array (validated to lie inside it), so a 1.6 KB file holding an expanded tensor loads
as a stride-0 view, not as the hundreds of megabytes its elements would take. They are views in
Ember's sense too: the first tensor covering the whole storage contiguously owns it (or else a
tensor over the whole storage does), and the others have it as their ``_base`` and share its version
counter, so ``storage_offset()`` is the offset into the saved storage, as in PyTorch, and an in-place
change through one of them is seen by autograd through the others. A view in which one memory
location appears several times (a stride of 0 over a dimension longer than 1) is read-only, as
Ember's own ``expand`` results are: in-place writes into it raise instead of racing.
"""
from __future__ import annotations

import _compat_pickle
import contextlib
import io
import pickle
import struct
import sys
import zipfile
from collections import Counter, OrderedDict

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .. import _dtype as dt
from .._tensor import Size, Tensor, _make
from ..backend import CPU, Device
from ..ops._dispatch import mark_view
from . import _safe_globals
from ._common import (CheckpointError, CheckpointUnpicklingError, Reader, UnsafeUnpicklingError, bfloat16_to_float32,
                      make_parameter, new_tensor)

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001


class _StorageType:
    """Stand-in for ``torch.FloatStorage`` & co: the element type of a storage."""

    def __init__(self, name: str, np_dtype, bfloat16: bool = False):
        self.name, self.np, self.bfloat16 = name, np.dtype(np_dtype), bfloat16


_STORAGE_TYPES = {s.name: s for s in (
    _StorageType("FloatStorage", np.float32), _StorageType("DoubleStorage", np.float64),
    _StorageType("HalfStorage", np.float16), _StorageType("BFloat16Storage", np.uint16, bfloat16=True),
    _StorageType("LongStorage", np.int64), _StorageType("IntStorage", np.int32),
    _StorageType("ShortStorage", np.int16), _StorageType("CharStorage", np.int8),
    _StorageType("ByteStorage", np.uint8), _StorageType("BoolStorage", np.bool_),
    _StorageType("ComplexFloatStorage", np.complex64), _StorageType("ComplexDoubleStorage", np.complex128))}

_TORCH_DTYPES = {"float32": dt.float32, "float": dt.float32, "float64": dt.float64, "double": dt.float64,
                 "float16": dt.float16, "half": dt.float16, "bfloat16": dt.float32, "int64": dt.int64,
                 "long": dt.int64, "int32": dt.int32, "int": dt.int32, "int16": dt.int16, "short": dt.int16,
                 "int8": dt.int8, "uint8": dt.uint8, "bool": dt.bool, "qint8": dt.qint8, "quint8": dt.quint8,
                 "complex64": dt.complex64, "cfloat": dt.complex64, "complex128": dt.complex128,
                 "cdouble": dt.complex128}


class _Storage:
    """A loaded storage: its elements as a 1-D array (None during the legacy format's first pass)."""

    def __init__(self, array, location: str, stype: _StorageType, loader):
        self.array, self.location, self.stype, self.loader = array, location, stype, loader
        self._widened = None
        self.owner: Tensor | None = None  # the tensor the others viewing this storage are views of

    def share(self, t: Tensor) -> None:
        """Make ``t`` (a CPU tensor viewing this storage) a view in Ember's sense: the first tensor that
        covers the whole storage contiguously owns it, or else a tensor over the whole storage does;
        the others get it as their ``_base`` and share its version counter, as views do. So
        ``storage_offset()`` counts from the start of the storage, as in PyTorch, and autograd sees an
        in-place change made through any of them."""
        arr = t._data
        if self.owner is None:
            elements = self.elements()
            if (arr.size == elements.size and arr.flags.c_contiguous
                    and arr.__array_interface__["data"][0] == elements.__array_interface__["data"][0]):
                self.owner = t
                return
            self.owner = _make(elements, CPU)
        mark_view(t, self.owner)

    def elements(self) -> np.ndarray:
        """The elements as Ember holds them: bfloat16 bit patterns are widened to float32 once per
        storage, so the tensors viewing it still share one array."""
        if not self.stype.bfloat16:
            return self.array
        if self._widened is None:
            self._widened = bfloat16_to_float32(self.array)
        return self._widened


# ---- the functions the allowed globals resolve to --------------------------------------------

def _rebuild_tensor(storage, storage_offset, size, stride, *_ignored):
    """``torch._utils._rebuild_tensor(_v2)``: a tensor viewing ``storage`` (shared, as in PyTorch)."""
    if not isinstance(storage, _Storage):
        raise ValueError(f"tensor data must come from a storage, got {type(storage).__name__}")
    if storage.array is None:  # legacy format, first pass: storages aren't read yet
        return None
    if (type(size) not in (tuple, list, Size) or type(stride) not in (tuple, list, Size)
            or not all(type(v) is int and v >= 0 for v in (storage_offset, *size, *stride))
            or len(size) != len(stride)):
        raise ValueError(f"invalid tensor geometry: offset {_describe(storage_offset)}, size {_describe(size)}, "
                         f"stride {_describe(stride)}")
    reader = storage.loader.reader
    arr = storage.elements()
    reader.check_shape(tuple(size), arr.itemsize, "a tensor")
    view = _strided_view(arr, storage_offset, tuple(size), tuple(stride))
    if storage.stype.bfloat16:
        reader.widened += 1
    t = new_tensor(view, storage.location, storage.loader.placer)
    if t._data is view and view.size:  # still the view on the CPU (map_location may have moved it)
        storage.share(t)
    return t


def _strided_view(arr: np.ndarray, offset: int, size: tuple, stride: tuple) -> np.ndarray:
    """``arr[offset:]`` seen with ``size`` and ``stride`` (in elements), after checking that every
    element the view reaches lies inside ``arr`` (``as_strided`` itself checks nothing)."""
    if 0 in size:
        return np.empty(size, arr.dtype)  # holds nothing, so its offset and strides don't matter
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if last >= arr.size:
        raise ValueError(f"tensor of size {list(size)}, stride {list(stride)} at offset {offset} "
                         f"reaches past the end of its {arr.size}-element storage")
    # A length-1 dimension's stride is never used to step; a corrupt huge one is kept out of NumPy.
    strides = [(s if n > 1 or s < arr.size else 0) * arr.itemsize for n, s in zip(size, stride)]
    overlapping = any(n > 1 and s == 0 for n, s in zip(size, stride))
    return as_strided(arr[offset:], shape=size, strides=strides, writeable=not overlapping)


def _rebuild_parameter(data, requires_grad, *_hooks_and_state):
    """``torch._utils._rebuild_parameter(_with_state)``; hooks and extra Python state are dropped."""
    return None if data is None else make_parameter(data, requires_grad)


def _latin1_encode(text, encoding="utf-8"):
    """``_codecs.encode``, which protocol-2 pickles use to carry ``bytes`` as latin-1 text."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise ValueError(f"_codecs.encode is only allowed for latin-1 text, got encoding {encoding!r}")
    return text.encode("latin1")


def _device(kind, index=None):
    """``torch.device``: an Ember device when the type is registered, else the device string."""
    if type(kind) is not str or not (index is None or type(index) is int):
        raise ValueError(f"torch.device({kind!r:.40}, {index!r:.40}): expected a string and an optional int")
    spec = kind if index is None else f"{kind}:{index}"
    try:
        return Device(spec)
    except (RuntimeError, TypeError):
        return spec


def _from_plain(cls, accepts: tuple):
    """A stand-in for container type ``cls`` that builds one only from plain containers (what
    ``torch.save`` writes), never by iterating a tensor: a 4-byte expanded tensor may have 2**40 rows."""
    def build(*args):
        if len(args) > 1 or (args and not isinstance(args[0], accepts)):
            raise ValueError(f"{cls.__name__}() of {', '.join(type(a).__name__ for a in args)} is not allowed")
        return cls(*args)
    build.__name__ = build.__qualname__ = cls.__name__
    return build


def _bytearray(source=b"", encoding=None):
    """``bytearray``, as protocol-2 pickles rebuild it (from bytes, or latin-1 text), never from a
    size (``bytearray(2**40)`` would allocate it)."""
    if isinstance(source, (bytes, bytearray)) and encoding is None:
        return bytearray(source)
    if isinstance(source, str) and encoding in ("latin1", "latin-1"):
        return bytearray(source, "latin1")
    raise ValueError(f"bytearray({type(source).__name__}, {encoding!r:.20}) is not allowed")


_GLOBALS = {
    ("collections", "OrderedDict"): _from_plain(OrderedDict, (list, tuple, dict)),
    ("collections", "Counter"): _from_plain(Counter, (list, tuple, dict)),
    ("builtins", "set"): _from_plain(set, (list, tuple, set, frozenset)),
    ("builtins", "frozenset"): _from_plain(frozenset, (list, tuple, set, frozenset)),
    ("builtins", "slice"): slice, ("builtins", "complex"): complex, ("builtins", "bytearray"): _bytearray,
    ("_codecs", "encode"): _latin1_encode,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch", "Size"): _from_plain(Size, (list, tuple)),
    ("torch", "device"): _device,
    **{("torch", name): d for name, d in _TORCH_DTYPES.items()},
    **{("torch", name): s for name, s in _STORAGE_TYPES.items()},
}


_UNKNOWN = object()   # what _known_global returns for a global it has no object for


def _known_global(source: str, allowed: dict, module: str, name: str):
    """The object a checkpoint's global ``module.name`` loads as: Ember's stand-in for a PyTorch
    class, else one the user allowlisted (``allowed``, by full name); raises for a storage type
    Ember does not support; ``_UNKNOWN`` otherwise (each unpickler decides what that means)."""
    found = _GLOBALS.get((module, name))
    if found is not None:
        return found
    full = f"{module}.{name}"
    if full in allowed:
        return allowed[full]
    if module == "torch" and name.endswith("Storage"):
        raise CheckpointError(f"{source}: the checkpoint uses torch.{name}, whose element type "
                              f"Ember doesn't support (supported: {', '.join(_STORAGE_TYPES)})")
    return _UNKNOWN


class _Unpickler(pickle._Unpickler):
    """A restricted unpickler (see the module docstring); ``loader`` resolves storages and names the file."""

    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, file, loader, encoding: str = "utf-8"):
        super().__init__(file, encoding=encoding)
        self.loader = loader
        self._resolved: list = []  # what find_class returned: the only objects REDUCE may call
        self.allowed = _safe_globals.user_allowed()  # the user's allowlist, as it was when the load began
        self._allowed_types = [v for v in self.allowed.values() if isinstance(v, type)]
        readline = self._file_readline

        def whole_line():  # a line cut short by the end of the file is truncation, not a name
            line = readline()
            if not line.endswith(b"\n"):
                raise EOFError("the pickle data is truncated")
            return line
        self._file_readline = whole_line

    def find_class(self, module, name):
        module, name = python3_name(module, name, self.proto)  # torch.save writes protocol 2 (Python 2 names)
        full = f"{module}.{name}"
        if module in _safe_globals.BLOCKED_MODULES:
            raise UnsafeUnpicklingError(
                f"{self.loader.name}: refused to load global '{full}': its module {module} is blocked (globals "
                "of sys, os, posix and nt are never loaded with weights_only=True, even when allowlisted). "
                + _UNSAFE_HINT)
        found = _known_global(self.loader.name, self.allowed, module, name)
        if found is not _UNKNOWN:
            return found
        if _is_torch(module):
            raise UnsafeUnpicklingError(f"{self.loader.name}: refused to load global '{full}': "
                                        + torch_class_problem(full))
        hint = _safe_globals.suggestion(full)
        raise UnsafeUnpicklingError(
            f"{self.loader.name}: refused to load global '{full}': weights-only load failed (ember.load defaults "
            f"to weights_only=True, as torch.load does). Unsupported global: GLOBAL {full} was not an allowed "
            f"global by default. Please use `ember.serialization.add_safe_globals([{hint}])` or the "
            f"`ember.serialization.safe_globals([{hint}])` context manager to allowlist this global if you "
            f"trust this class/function. " + _UNSAFE_HINT)

    def persistent_load(self, pid):
        return self.loader.storage(pid)

    def refuse(self, what: str) -> UnsafeUnpicklingError:
        return UnsafeUnpicklingError(f"{self.loader.name}: refused to {what}")

    # -- opcodes, each allowed only on the objects torch.save (or NumPy) writes them for --------

    def _load_global(self):
        pickle._Unpickler.load_global(self)
        self._resolved.append(self.stack[-1])

    def _load_stack_global(self):
        pickle._Unpickler.load_stack_global(self)
        self._resolved.append(self.stack[-1])

    def _check_callable(self, func, opcode: str) -> None:
        if not any(func is f for f in self._resolved):
            raise self.refuse(f"call a {type(func).__name__} object that is not an allowed global (pickle {opcode})")

    def _load_reduce(self):
        args = self.stack.pop()
        func = self.stack[-1]
        self._check_callable(func, "REDUCE")
        if type(args) is not tuple:  # func(*args) would iterate anything, a huge expanded tensor included
            raise ValueError(f"REDUCE arguments must be a tuple, got {type(args).__name__}")
        self.stack[-1] = func(*args)

    def _load_obj(self):
        args = self.pop_mark()
        cls = args.pop(0)
        self._check_callable(cls, "OBJ")
        self._instantiate(cls, args)

    def _is_allowed_type(self, cls) -> bool:
        return any(cls is t for t in self._allowed_types)

    def _load_newobj(self, kwargs=None):
        args = self.stack.pop()
        cls = self.stack.pop()
        # complex numbers are pickled this way; otherwise, as PyTorch does, cls.__new__ of allowlisted classes
        if not ((cls is complex and not kwargs) or self._is_allowed_type(cls)):
            raise self.refuse(f"create a {getattr(cls, '__name__', type(cls).__name__)!s:.60} object (pickle NEWOBJ): "
                              "only classes allowlisted with ember.serialization.add_safe_globals can be created")
        if type(args) is not tuple or not (kwargs is None or type(kwargs) is dict):
            raise ValueError("NEWOBJ arguments must be a tuple (and keyword arguments a dict)")
        self.append(cls.__new__(cls, *args, **(kwargs or {})))

    def _load_newobj_ex(self):
        kwargs = self.stack.pop()
        self._load_newobj(kwargs)

    def _load_append(self):
        value = self.stack.pop()
        self._target(list, "append to").append(value)

    def _load_appends(self):
        items = self.pop_mark()
        self._target(list, "append to").extend(items)

    def _load_setitem(self):
        value = self.stack.pop()
        key = self.stack.pop()
        self._target(dict, "set items of")[key] = value

    def _load_setitems(self):
        items = self.pop_mark()
        target = self._target(dict, "set items of")
        if len(items) % 2:
            raise ValueError("SETITEMS needs key, value pairs")
        for i in range(0, len(items), 2):
            target[items[i]] = items[i + 1]

    def _load_additems(self):
        items = self.pop_mark()
        self._target(set, "add items to").update(items)

    def _target(self, kind: type, verb: str):
        obj = self.stack[-1]
        if not isinstance(obj, kind):
            raise self.refuse(f"{verb} a {type(obj).__name__} object")
        return obj

    def _load_bytearray8(self):
        (n,) = struct.unpack("<Q", self.read(8))
        data = self.read(n)  # not bytearray(n) first: n comes from the file
        if len(data) != n:
            raise EOFError("the pickle data is truncated")
        self.append(bytearray(data))

    def _load_build(self):
        state = self.stack.pop()
        inst = self.stack[-1]
        if type(inst) is OrderedDict and type(state) is dict and all(type(k) is str for k in state):
            inst.__dict__.update(state)  # PyTorch's state_dict()._metadata
            return
        if self._is_allowed_type(type(inst)):
            _set_state(inst, state)
            return
        raise self.refuse(f"set the state of a {type(inst).__name__} object (pickle BUILD): only OrderedDicts and "
                          "classes allowlisted with ember.serialization.add_safe_globals can be built")

    dispatch[pickle.GLOBAL[0]] = _load_global
    dispatch[pickle.STACK_GLOBAL[0]] = _load_stack_global
    dispatch[pickle.REDUCE[0]] = _load_reduce
    dispatch[pickle.OBJ[0]] = _load_obj
    dispatch[pickle.NEWOBJ[0]] = _load_newobj
    dispatch[pickle.NEWOBJ_EX[0]] = _load_newobj_ex
    dispatch[pickle.APPEND[0]] = _load_append
    dispatch[pickle.APPENDS[0]] = _load_appends
    dispatch[pickle.SETITEM[0]] = _load_setitem
    dispatch[pickle.SETITEMS[0]] = _load_setitems
    dispatch[pickle.ADDITEMS[0]] = _load_additems
    dispatch[pickle.BYTEARRAY8[0]] = _load_bytearray8
    dispatch[pickle.BUILD[0]] = _load_build


def _set_state(inst, state) -> None:
    """BUILD on an allowlisted object, as pickle (and PyTorch's weights-only unpickler) does it:
    ``__setstate__`` if the class has one, else the instance ``__dict__`` and then slot values."""
    setstate = getattr(inst, "__setstate__", None)
    if setstate is not None:
        setstate(state)
        return
    slotstate = None
    if isinstance(state, tuple) and len(state) == 2:
        state, slotstate = state
    if state:
        inst.__dict__.update(state)
    if slotstate:
        for k, v in slotstate.items():
            setattr(inst, k, v)


_UNSAFE_HINT = ("Re-running ember.load with weights_only=False will likely succeed, but it can result in "
                "arbitrary code execution. Do it only if you got the file from a trusted source.")


def _is_torch(module: str) -> bool:
    return module == "torch" or module.startswith("torch.")


def python3_name(module: str, name: str, proto: int) -> tuple[str, str]:
    """The Python 3 name of a global named in a protocol 0-2 pickle (``__builtin__.set`` -> ``builtins.set``)."""
    if proto < 3:
        if (module, name) in _compat_pickle.NAME_MAPPING:
            return _compat_pickle.NAME_MAPPING[(module, name)]
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
    return module, name


def torch_class_problem(full: str) -> str:
    """Why a PyTorch class other than tensors, storages, dtypes, devices and sizes can't be loaded."""
    return (f"{full} is a PyTorch class, which Ember can't rebuild without PyTorch (Ember loads PyTorch "
            "tensors, Parameters, storages, dtypes, devices and sizes, not other PyTorch objects such as a whole "
            "torch.nn.Module saved with torch.save(model)). Save model.state_dict() with PyTorch instead and load "
            "it into the Ember model with load_state_dict(); or, if you trust the file and an Ember class can "
            f"stand in for it, name it with ember.serialization.add_safe_globals([(EmberClass, {full!r})]).")


class _FullUnpickler(pickle.Unpickler):
    """``weights_only=False``: the user trusts the file, so any global is imported and called, as
    ``pickle`` does; only PyTorch's own names are resolved to Ember stand-ins (tensors over the
    checkpoint's storages, dtypes, devices, sizes) or, for other PyTorch classes, to what the user
    named with ``add_safe_globals`` -- anything else from ``torch`` raises a clear error."""

    def __init__(self, file, loader, encoding: str = "utf-8"):
        super().__init__(file, encoding=encoding)
        self.loader = loader
        self.allowed = _safe_globals.user_allowed()

    def find_class(self, module, name):
        if not _is_torch(module):
            return super().find_class(module, name)
        full = f"{module}.{name}"
        found = _known_global(self.loader.name, self.allowed, module, name)
        if found is not _UNKNOWN:
            return found
        raise CheckpointUnpicklingError(f"{self.loader.name}: can't load the checkpoint's {full} object: "
                                        + torch_class_problem(full))

    def persistent_load(self, pid):
        return self.loader.storage(pid)


class _BoundedFile:
    """The checkpoint file as the unpickler sees it: reads stop at the end of the checkpoint, so a
    corrupt length field in the pickle (``BINBYTES8`` of 2**40, say) can't make Python allocate the
    length it names before finding the file shorter."""

    def __init__(self, f, end: int):
        self.f, self.end = f, end

    def read(self, n: int = -1) -> bytes:
        left = max(0, self.end - self.f.tell())
        return self.f.read(left if n is None or n < 0 else min(n, left))

    def readline(self) -> bytes:
        return self.f.readline(max(0, self.end - self.f.tell()))

    def tell(self) -> int:
        return self.f.tell()

    def seek(self, pos: int, whence: int = 0) -> int:
        return self.f.seek(pos, whence)


class _Loader:
    """One load of a PyTorch checkpoint: storage lookup and error context for the unpickler."""

    def __init__(self, reader: Reader, placer, encoding: str, weights_only: bool = True):
        self.reader = reader
        self.name = reader.name
        self.placer = placer
        self.encoding = encoding
        self.weights_only = weights_only
        self.storages: dict[str, _Storage] = {}

    def unpickle(self, f, what: str):
        unpickler = _Unpickler if self.weights_only else _FullUnpickler
        try:
            return unpickler(f, self, self.encoding).load()
        except (CheckpointError, UnsafeUnpicklingError, MemoryError):
            raise
        except Exception as e:  # malformed data: EOFError, bad opcodes, wrong call arguments, bad geometry...
            if self.weights_only:
                raise CheckpointUnpicklingError(f"{self.name}: corrupted PyTorch checkpoint: can't unpickle {what} "
                                                f"({type(e).__name__}: {_clip(e)})") from None
            # Trusted unpickling runs the file's own classes: their errors (a module that isn't installed,
            # say) aren't corruption; the original exception is kept as the cause.
            raise CheckpointUnpicklingError(f"{self.name}: can't unpickle {what} with weights_only=False "
                                            f"({type(e).__name__}: {_clip(e)})") from e

    def storage(self, pid) -> _Storage:  # the small header pickles of the legacy layout hold no tensors
        raise self.reader.error(f"corrupted PyTorch checkpoint: unexpected persistent id {_describe(pid)}")

    def check_pid(self, pid, length: int):
        if (type(pid) is not tuple or len(pid) != length or type(pid[0]) is not str or pid[0] != "storage"
                or not isinstance(pid[1], _StorageType) or type(pid[2]) is not str
                or type(pid[3]) is not str or type(pid[4]) is not int or pid[4] < 0):
            raise self.reader.error(f"corrupted PyTorch checkpoint: unexpected persistent id {_describe(pid)}")
        return pid[1:5]

    def new_storage(self, key: str, array, location: str, stype: _StorageType) -> _Storage:
        self.storages[key] = _Storage(array, location, stype, self)
        return self.storages[key]


def _describe(obj) -> str:
    """A short description of a value from the file for an error message, without calling repr on
    tensors (an expanded one may have more elements than memory)."""
    if type(obj) in (tuple, list):
        inner = ", ".join(_describe(v) for v in obj[:6]) + (", ..." if len(obj) > 6 else "")
        return f"({inner})" if type(obj) is tuple else f"[{inner}]"
    if type(obj) in (str, bytes, int, float, bool, type(None)):
        return f"{obj!r:.60}"
    return f"<{type(obj).__name__}>"


def _clip(e: BaseException) -> str:
    text = str(e)
    return text if len(text) <= 300 else text[:300] + "..."


@contextlib.contextmanager
def _zip_errors(reader: Reader, problem: str):
    """Report any failure of ``zipfile`` (and the zlib/bz2/lzma decoders under it) reading the archive
    as a :class:`CheckpointError` naming the file: they are all ways a corrupted archive shows."""
    try:
        yield
    except (CheckpointError, MemoryError):
        raise
    except Exception as e:  # BadZipFile, EOFError, zlib.error, NotImplementedError, UnicodeDecodeError, ...
        raise reader.error(f"{problem} ({type(e).__name__}: {_clip(e)})") from None


# Zip compression methods read, and the most bytes one compressed byte can stand for in each (deflate's
# limit is 1032:1), so a record's claimed size is checked against its compressed size before allocating.
_EXPANSION = {zipfile.ZIP_STORED: 1, zipfile.ZIP_DEFLATED: 1032}
_CHUNK = 1 << 20


class _ZipLoader(_Loader):
    def __init__(self, reader, placer, encoding, weights_only, archive: zipfile.ZipFile, prefix: str, byteorder: str):
        super().__init__(reader, placer, encoding, weights_only)
        self.archive, self.prefix, self.byteorder = archive, prefix, byteorder

    def storage(self, pid) -> _Storage:
        stype, key, location, numel = self.check_pid(pid, 5)
        if key in self.storages:
            return self.storages[key]
        record = f"{self.prefix}/data/{key}"
        raw = read_record(self.reader, self.archive, record, (numel, stype.np.itemsize))
        array = raw.view(stype.np)  # owned and writable: the tensors viewing it can be written, as in PyTorch
        if self.byteorder != sys.byteorder:
            array.byteswap(inplace=True)
        return self.new_storage(key, array, location, stype)


def read_record(reader: Reader, archive: zipfile.ZipFile, record: str, expected: tuple | None = None) -> np.ndarray:
    """The bytes of ``record`` as a uint8 array, read in chunks after checking the sizes its zip entry
    claims: against ``expected`` (element count, item size), if given, and against the compressed
    size and the file's size, so a corrupt size field can't ask for more memory than the file holds."""
    what = f"corrupted PyTorch checkpoint: record {record!r}"
    try:
        info = archive.getinfo(record)
    except KeyError:
        raise reader.error(f"corrupted PyTorch checkpoint: record {record!r} is missing") from None
    if expected is not None and info.file_size != expected[0] * expected[1]:
        raise reader.error(f"corrupted PyTorch checkpoint: storage {record!r} holds {info.file_size} bytes, "
                           f"expected {expected[0]} x {expected[1]}")
    ratio = _EXPANSION.get(info.compress_type)
    if ratio is None:
        raise reader.error(f"{what} uses zip compression method {info.compress_type}, which Ember doesn't read "
                           "(PyTorch stores records uncompressed)")
    if (info.compress_size > reader.size or info.file_size > info.compress_size * ratio + 64
            or (ratio == 1 and info.file_size != info.compress_size)):
        raise reader.error(f"{what} claims {info.file_size} bytes from {info.compress_size} stored bytes in a "
                           f"{reader.size}-byte file")
    out = np.empty(info.file_size, np.uint8)
    got = 0
    with _zip_errors(reader, what):
        with archive.open(info) as fh:
            while got < out.size:
                chunk = fh.read(min(_CHUNK, out.size - got))
                if not chunk:
                    break
                out[got: got + len(chunk)] = np.frombuffer(chunk, np.uint8)
                got += len(chunk)
            extra = fh.read(1)  # reaching the end makes zipfile check the CRC-32
    if got != out.size or extra:
        raise reader.error(f"{what} holds {'fewer' if got != out.size else 'more'} than the {out.size} bytes "
                           "its zip entry declares")
    return out


def _open_zip(reader: Reader) -> tuple[zipfile.ZipFile, str]:
    """The archive and its record prefix, after checking it is a ``torch.save`` zip checkpoint."""
    with _zip_errors(reader, "not a readable zip archive (truncated or corrupted?)"):
        archive = zipfile.ZipFile(reader.f)
        names = archive.namelist()
    prefixes = [n[: -len("/data.pkl")] for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
    if len(prefixes) != 1:
        raise reader.error("a zip archive, but not a PyTorch checkpoint (no single '<name>/data.pkl' record)")
    prefix = prefixes[0]
    if f"{prefix}/constants.pkl" in names:
        raise reader.error("a TorchScript archive (torch.jit.save); Ember can only load torch.save checkpoints")
    return archive, prefix


def read_zip(reader: Reader, placer, encoding: str, weights_only: bool = True):
    archive, prefix = _open_zip(reader)
    names = archive.namelist()
    byteorder = "little"
    if f"{prefix}/byteorder" in names:
        raw = read_record(reader, archive, f"{prefix}/byteorder").tobytes()
        byteorder = raw.decode("ascii", "replace").strip()
    if byteorder not in ("little", "big"):
        raise reader.error(f"corrupted PyTorch checkpoint: unknown byteorder {byteorder!r:.40}")
    data_pkl = read_record(reader, archive, f"{prefix}/data.pkl").tobytes()
    loader = _ZipLoader(reader, placer, encoding, weights_only, archive, prefix, byteorder)
    return loader.unpickle(io.BytesIO(data_pkl), "data.pkl")


def unsafe_globals(reader: Reader) -> list[str]:
    """The globals a zip checkpoint's ``data.pkl`` names that ``weights_only`` loading would refuse:
    neither Ember's defaults nor allowlisted by the user. Read statically (``GLOBAL`` opcodes), as
    PyTorch's ``get_unsafe_globals_in_checkpoint`` does; nothing is unpickled."""
    import pickletools  # only this rarely used helper needs it (a few ms to import)
    archive, prefix = _open_zip(reader)
    data_pkl = read_record(reader, archive, f"{prefix}/data.pkl").tobytes()
    allowed = _safe_globals.user_allowed()
    found, proto = [], 0
    try:
        for op, arg, _ in pickletools.genops(data_pkl):
            if op.name == "PROTO":
                proto = arg
            elif op.name == "GLOBAL":
                module, name = python3_name(*arg.split(" ", 1), proto)
                full = f"{module}.{name}"
                if (module, name) not in _GLOBALS and full not in allowed and full not in found:
                    found.append(full)
    except Exception as e:  # noqa: BLE001 - any failure to parse is a malformed pickle
        raise CheckpointUnpicklingError(f"{reader.name}: corrupted PyTorch checkpoint: can't read data.pkl "
                                        f"({type(e).__name__}: {_clip(e)})") from None
    return found


class _LegacyLoader(_Loader):
    """Storages follow the object's pickle, so with ``weights_only=True`` the object is unpickled twice:
    first to learn each storage's type (tensors come out as None), then, once the storages are read,
    for real. With ``weights_only=False`` the file's own classes must run once, so storages are
    allocated as the object refers to them and filled afterwards (:meth:`allocate`, :meth:`fill_storages`)."""

    def __init__(self, reader, placer, encoding, little_endian: bool, weights_only: bool = True):
        super().__init__(reader, placer, encoding, weights_only)
        self.little_endian = little_endian
        self.data: dict[str, np.ndarray] | None = None  # storage key -> elements, after the first pass
        self.types: dict[str, _StorageType] = {}
        self.allocated = 0  # bytes of the storages allocated before their data is read (one pass)

    def storage(self, pid) -> _Storage:
        if isinstance(pid, tuple) and len(pid) == 6 and pid[5] is not None:
            view = pid[5]  # (view_key, offset, size) in elements of the root storage: very old files
            if (type(view) is not tuple or len(view) != 3 or type(view[0]) is not str
                    or not all(type(v) is int and v >= 0 for v in view[1:])):
                raise self.reader.error(f"corrupted PyTorch checkpoint: bad storage view {_describe(view)}")
            root = self.storage(pid[:5] + (None,))
            if root.array is not None and view[1] + view[2] > root.array.size:
                raise self.reader.error(f"corrupted PyTorch checkpoint: storage view {_describe(view)} reaches past "
                                        f"the end of its {root.array.size}-element storage")
            if view[0] not in self.storages:
                array = None if root.array is None else root.array[view[1]: view[1] + view[2]]
                sub = self.new_storage(view[0], array, root.location, root.stype)
                if root._widened is not None:  # one pass: widened once the data is in
                    sub._widened = root._widened[view[1]: view[1] + view[2]]
            return self.storages[view[0]]
        stype, key, location, numel = self.check_pid(pid, 6)
        if key in self.storages:
            return self.storages[key]
        array = None
        if not self.weights_only:
            return self.allocate(key, stype, location, numel)
        if self.data is None:
            self.types[key] = stype
        else:
            array = self.data.get(key)
            if array is None or array.size != numel:
                raise self.reader.error(f"corrupted PyTorch checkpoint: storage {key!r} is missing or has "
                                        f"the wrong size")
        return self.new_storage(key, array, location, stype)

    def allocate(self, key: str, stype: _StorageType, location: str, numel: int) -> _Storage:
        """One pass (``weights_only=False``): a storage's array, allocated when the object first refers to it
        and filled by :meth:`fill_storages` once the data that follows the object has been read. The
        storages together may not claim more bytes than the file holds."""
        nbytes = numel * stype.np.itemsize
        if self.allocated + nbytes > self.reader.size:
            raise self.reader.error(f"corrupted PyTorch checkpoint: storage {key!r} claims {numel} elements, more "
                                    f"than the {self.reader.size}-byte file holds")
        self.allocated += nbytes
        self.types[key] = stype
        storage = self.new_storage(key, np.empty(numel, stype.np), location, stype)
        if stype.bfloat16:
            storage._widened = np.empty(numel, np.float32)
        return storage

    def _storage_data(self, f, keys):
        """``(key, elements)`` of each storage in the data section that follows the object's pickle."""
        if (type(keys) is not list or not all(type(k) is str for k in keys) or len(set(keys)) != len(keys)
                or set(keys) != set(self.types)):
            raise self.reader.error(f"corrupted PyTorch checkpoint: the storage key list {_describe(keys)} doesn't "
                                    f"match the storages the object uses ({len(self.types)})")
        for key in keys:
            stype = self.types[key]
            pos = f.tell() - self.reader.start
            (numel,) = np.frombuffer(self.reader.read(pos, 8, f"the size of storage {key!r}"), "<i8")
            numel = int(numel)
            if numel < 0:
                raise self.reader.error(f"corrupted PyTorch checkpoint: storage {key!r} has negative size")
            array = self.reader.read_array(pos + 8, stype.np, (numel,), f"storage {key!r}")
            yield key, array if self.little_endian else array.byteswap(inplace=True)

    def read_storages(self, f, keys) -> None:
        self.data = dict(self._storage_data(f, keys))
        self.storages.clear()

    def fill_storages(self, f, keys) -> None:
        """One pass: copy each storage's data into the array its tensors already view."""
        for key, array in self._storage_data(f, keys):
            storage = self.storages[key]
            if array.size != storage.array.size:
                raise self.reader.error(f"corrupted PyTorch checkpoint: storage {key!r} is missing or has the wrong "
                                        "size")
            storage.array[...] = array
            if storage._widened is not None:
                storage._widened[...] = bfloat16_to_float32(array)


def read_legacy(reader: Reader, placer, encoding: str, weights_only: bool = True):
    f = _BoundedFile(reader.f, reader.start + reader.size)
    probe = _Loader(reader, placer, encoding)
    f.seek(reader.start)
    magic = probe.unpickle(f, "the magic number")
    if type(magic) is not int or magic != LEGACY_MAGIC:
        raise reader.error("not a PyTorch checkpoint (a pickle without PyTorch's magic number)")
    version = probe.unpickle(f, "the protocol version")
    if type(version) is not int or version != LEGACY_PROTOCOL:
        raise reader.error(f"unsupported legacy PyTorch protocol version {_describe(version)}")
    sys_info = probe.unpickle(f, "the system info")
    little = sys_info.get("little_endian", True) if isinstance(sys_info, dict) else True
    loader = _LegacyLoader(reader, placer, encoding, bool(little), weights_only)
    start = f.tell()
    if not weights_only:  # the file's classes run once: storages are filled after the object is rebuilt
        result = loader.unpickle(f, "the object")
        loader.fill_storages(f, loader.unpickle(f, "the storage keys"))
        return result
    loader.unpickle(f, "the object")            # pass 1: learn storage types
    loader.read_storages(f, loader.unpickle(f, "the storage keys"))
    end = f.tell()
    f.seek(start)
    result = loader.unpickle(f, "the object")   # pass 2: rebuild tensors
    f.seek(end)
    return result

