"""Loading PyTorch checkpoints (``torch.save`` files) without PyTorch, and without running their code.

Two layouts are read:

* the zip format (PyTorch >= 1.6): ``<prefix>/data.pkl`` (the object, pickled; tensors refer to
  storages by persistent id ``('storage', StorageType, key, location, numel)``),
  ``<prefix>/data/<key>`` (each storage's raw bytes) and ``<prefix>/byteorder``;
* the legacy format (``_use_new_zipfile_serialization=False``): five pickles in a row (magic number,
  protocol version, system info, the object, the sorted storage keys), then for each key an int64
  element count and the storage's raw bytes.

Pickles are read by a restricted unpickler: only the globals needed to rebuild tensors and plain
containers resolve (see ``_GLOBALS``), each to an Ember stand-in; any other global raises
:class:`UnsafeUnpicklingError` naming it, before anything is called. It builds on the pure-Python
``pickle._Unpickler`` rather than the C one because it must also refuse the BUILD opcode (which sets
attributes on an object and could otherwise tamper with shared objects such as dtypes); BUILD is only
honoured for the ``_metadata`` attribute PyTorch attaches to state-dict OrderedDicts.
"""
from __future__ import annotations

import io
import pickle
import sys
import zipfile
from collections import OrderedDict

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .. import _dtype as dt
from .._tensor import Size
from ..backend import Device
from ._common import CheckpointError, Reader, UnsafeUnpicklingError, bfloat16_to_float32, make_parameter, new_tensor

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
    _StorageType("ByteStorage", np.uint8), _StorageType("BoolStorage", np.bool_))}

_TORCH_DTYPES = {"float32": dt.float32, "float": dt.float32, "float64": dt.float64, "double": dt.float64,
                 "float16": dt.float16, "half": dt.float16, "bfloat16": dt.float32, "int64": dt.int64,
                 "long": dt.int64, "int32": dt.int32, "int": dt.int32, "int16": dt.int16, "short": dt.int16,
                 "int8": dt.int8, "uint8": dt.uint8, "bool": dt.bool}


class _Storage:
    """A loaded storage: its elements as a 1-D array (None during the legacy format's first pass)."""

    def __init__(self, array, location: str, stype: _StorageType, loader):
        self.array, self.location, self.stype, self.loader = array, location, stype, loader


# ---- the functions the allowed globals resolve to --------------------------------------------

def _rebuild_tensor(storage, storage_offset, size, stride, *_ignored):
    """``torch._utils._rebuild_tensor(_v2)``: a tensor viewing ``storage``, copied into its own array."""
    if not isinstance(storage, _Storage):
        raise ValueError(f"tensor data must come from a storage, got {type(storage).__name__}")
    if storage.array is None:  # legacy format, first pass: storages aren't read yet
        return None
    size, stride = tuple(size), tuple(stride)
    ints = (storage_offset, *size, *stride)
    if not all(type(v) is int and v >= 0 for v in ints) or len(size) != len(stride):
        raise ValueError(f"invalid tensor geometry: offset {storage_offset!r}, size {size!r}, stride {stride!r}")
    arr = storage.array
    if 0 in size:
        out = np.empty(size, arr.dtype)
    else:
        # as_strided does no bounds checking, so check the last element lies inside the storage.
        last = storage_offset + sum((n - 1) * s for n, s in zip(size, stride))
        if last >= arr.size:
            raise ValueError(f"tensor of size {list(size)}, stride {list(stride)} at offset {storage_offset} "
                                  f"reaches past the end of its {arr.size}-element storage")
        view = as_strided(arr[storage_offset:], shape=size, strides=[s * arr.itemsize for s in stride],
                          writeable=False)
        out = np.array(view, order="C")  # an owned, contiguous copy
    if storage.stype.bfloat16:
        out = bfloat16_to_float32(out)
        storage.loader.reader.widened += 1
    return new_tensor(out, storage.location, storage.loader.placer)


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
    spec = str(kind) if index is None else f"{kind}:{index}"
    try:
        return Device(spec)
    except (RuntimeError, TypeError):
        return spec


_GLOBALS = {
    ("collections", "OrderedDict"): OrderedDict,
    ("builtins", "set"): set, ("builtins", "frozenset"): frozenset, ("builtins", "slice"): slice,
    ("builtins", "complex"): complex, ("builtins", "bytearray"): bytearray,
    ("_codecs", "encode"): _latin1_encode,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch", "Size"): Size,
    ("torch", "device"): _device,
    **{("torch", name): d for name, d in _TORCH_DTYPES.items()},
    **{("torch", name): s for name, s in _STORAGE_TYPES.items()},
}


class _Unpickler(pickle._Unpickler):
    """A restricted unpickler (see the module docstring); ``loader`` resolves storages."""

    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, file, loader, encoding: str = "ASCII"):
        super().__init__(file, encoding=encoding)
        self.loader = loader
        readline = self._file_readline

        def whole_line():  # a line cut short by the end of the file is truncation, not a name
            line = readline()
            if not line.endswith(b"\n"):
                raise EOFError("the pickle data is truncated")
            return line
        self._file_readline = whole_line

    def find_class(self, module, name):
        found = _GLOBALS.get((module, name))
        if found is not None:
            return found
        if module == "torch" and name.endswith("Storage"):
            raise CheckpointError(f"{self.loader.name}: the checkpoint uses torch.{name}, whose element type "
                                  f"Ember doesn't support (supported: {', '.join(_STORAGE_TYPES)})")
        raise UnsafeUnpicklingError(
            f"{self.loader.name}: refused to load global '{module}.{name}': Ember reads PyTorch checkpoints "
            "with a restricted unpickler that only rebuilds tensors and plain containers, and never runs "
            "code from a file")

    def persistent_load(self, pid):
        return self.loader.storage(pid)

    def _load_build(self):
        state = self.stack.pop()
        inst = self.stack[-1]
        if type(inst) is OrderedDict and type(state) is dict and all(type(k) is str for k in state):
            inst.__dict__.update(state)  # PyTorch's state_dict()._metadata
            return
        raise UnsafeUnpicklingError(f"{self.loader.name}: refused to set the state of a "
                                    f"{type(inst).__name__} object (pickle BUILD)")

    dispatch[pickle.BUILD[0]] = _load_build


class _Loader:
    """One load of a PyTorch checkpoint: storage lookup and error context for the unpickler."""

    def __init__(self, reader: Reader, placer, encoding: str):
        self.reader = reader
        self.name = reader.name
        self.placer = placer
        self.encoding = encoding
        self.storages: dict[str, _Storage] = {}

    def unpickle(self, f, what: str):
        try:
            return _Unpickler(f, self, self.encoding).load()
        except (CheckpointError, UnsafeUnpicklingError):
            raise
        except Exception as e:  # malformed data: EOFError, bad opcodes, wrong call arguments, bad geometry...
            raise self.reader.error(f"corrupted PyTorch checkpoint: can't unpickle {what} "
                                    f"({type(e).__name__}: {e})") from None

    def storage(self, pid) -> _Storage:  # the small header pickles of the legacy layout hold no tensors
        raise self.reader.error(f"corrupted PyTorch checkpoint: unexpected persistent id {pid!r:.100}")

    def check_pid(self, pid, length: int):
        if (not isinstance(pid, tuple) or len(pid) != length or pid[0] != "storage"
                or not isinstance(pid[1], _StorageType) or not isinstance(pid[2], str)
                or not isinstance(pid[3], str) or type(pid[4]) is not int or pid[4] < 0):
            raise self.reader.error(f"corrupted PyTorch checkpoint: unexpected persistent id {pid!r:.100}")
        return pid[1:5]

    def new_storage(self, key: str, array, location: str, stype: _StorageType) -> _Storage:
        self.storages[key] = _Storage(array, location, stype, self)
        return self.storages[key]


class _ZipLoader(_Loader):
    def __init__(self, reader, placer, encoding, archive: zipfile.ZipFile, prefix: str, byteorder: str):
        super().__init__(reader, placer, encoding)
        self.archive, self.prefix, self.byteorder = archive, prefix, byteorder

    def storage(self, pid) -> _Storage:
        stype, key, location, numel = self.check_pid(pid, 5)
        if key in self.storages:
            return self.storages[key]
        record = f"{self.prefix}/data/{key}"
        try:
            raw = self.archive.read(record)
        except KeyError:
            raise self.reader.error(f"corrupted PyTorch checkpoint: storage record {record!r} is missing") from None
        except (zipfile.BadZipFile, OSError, EOFError) as e:
            raise self.reader.error(f"corrupted PyTorch checkpoint: storage record {record!r}: {e}") from None
        if len(raw) != numel * stype.np.itemsize:
            raise self.reader.error(f"corrupted PyTorch checkpoint: storage {record!r} holds {len(raw)} bytes, "
                                    f"expected {numel} x {stype.np.itemsize}")
        array = np.frombuffer(raw, stype.np)
        if self.byteorder != sys.byteorder:
            array = array.byteswap()
        return self.new_storage(key, array, location, stype)


def read_zip(reader: Reader, placer, encoding: str):
    try:
        archive = zipfile.ZipFile(reader.f)
        names = archive.namelist()
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise reader.error(f"not a readable zip archive (truncated or corrupted?): {e}") from None
    prefixes = [n[: -len("/data.pkl")] for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
    if len(prefixes) != 1:
        raise reader.error("a zip archive, but not a PyTorch checkpoint (no single '<name>/data.pkl' record)")
    prefix = prefixes[0]
    if f"{prefix}/constants.pkl" in names:
        raise reader.error("a TorchScript archive (torch.jit.save); Ember can only load torch.save checkpoints")
    try:
        byteorder = archive.read(f"{prefix}/byteorder").decode("ascii").strip() if f"{prefix}/byteorder" in names \
            else "little"
        data_pkl = archive.read(f"{prefix}/data.pkl")
    except (zipfile.BadZipFile, OSError, EOFError, UnicodeDecodeError) as e:
        raise reader.error(f"corrupted PyTorch checkpoint: {e}") from None
    if byteorder not in ("little", "big"):
        raise reader.error(f"corrupted PyTorch checkpoint: unknown byteorder {byteorder!r}")
    loader = _ZipLoader(reader, placer, encoding, archive, prefix, byteorder)
    return loader.unpickle(io.BytesIO(data_pkl), "data.pkl")


class _LegacyLoader(_Loader):
    """Storages follow the object's pickle, so the object is unpickled twice: first to learn each
    storage's type (tensors come out as None), then, once the storages are read, for real."""

    def __init__(self, reader, placer, encoding, little_endian: bool):
        super().__init__(reader, placer, encoding)
        self.little_endian = little_endian
        self.data: dict[str, np.ndarray] | None = None  # storage key -> elements, after the first pass
        self.types: dict[str, _StorageType] = {}

    def storage(self, pid) -> _Storage:
        if isinstance(pid, tuple) and len(pid) == 6 and pid[5] is not None:
            view = pid[5]  # (view_key, offset, size) in elements of the root storage: very old files
            if (not isinstance(view, tuple) or len(view) != 3 or not isinstance(view[0], str)
                    or not all(type(v) is int and v >= 0 for v in view[1:])):
                raise self.reader.error(f"corrupted PyTorch checkpoint: bad storage view {view!r:.100}")
            root = self.storage(pid[:5] + (None,))
            if view[0] not in self.storages:
                array = None if root.array is None else root.array[view[1]: view[1] + view[2]]
                self.new_storage(view[0], array, root.location, root.stype)
            return self.storages[view[0]]
        stype, key, location, numel = self.check_pid(pid, 6)
        if key in self.storages:
            return self.storages[key]
        array = None
        if self.data is None:
            self.types[key] = stype
        else:
            array = self.data.get(key)
            if array is None or array.size != numel:
                raise self.reader.error(f"corrupted PyTorch checkpoint: storage {key!r} is missing or has "
                                        f"the wrong size")
        return self.new_storage(key, array, location, stype)

    def read_storages(self, f, keys) -> None:
        if not isinstance(keys, list) or set(keys) != set(self.types):
            raise self.reader.error("corrupted PyTorch checkpoint: the storage key list doesn't match the object")
        self.data = {}
        for key in keys:
            stype = self.types[key]
            pos = f.tell() - self.reader.start
            (numel,) = np.frombuffer(self.reader.read(pos, 8, f"the size of storage {key!r}"), "<i8")
            numel = int(numel)
            if numel < 0:
                raise self.reader.error(f"corrupted PyTorch checkpoint: storage {key!r} has negative size")
            array = self.reader.read_array(pos + 8, stype.np, (numel,), f"storage {key!r}")
            self.data[key] = array if self.little_endian else array.byteswap()
        self.storages.clear()


def read_legacy(reader: Reader, placer, encoding: str):
    f = reader.f
    probe = _Loader(reader, placer, encoding)
    f.seek(reader.start)
    if probe.unpickle(f, "the magic number") != LEGACY_MAGIC:
        raise reader.error("not a PyTorch checkpoint (a pickle without PyTorch's magic number)")
    version = probe.unpickle(f, "the protocol version")
    if version != LEGACY_PROTOCOL:
        raise reader.error(f"unsupported legacy PyTorch protocol version {version!r}")
    sys_info = probe.unpickle(f, "the system info")
    little = sys_info.get("little_endian", True) if isinstance(sys_info, dict) else True
    loader = _LegacyLoader(reader, placer, encoding, bool(little))
    start = f.tell()
    loader.unpickle(f, "the object")            # pass 1: learn storage types
    loader.read_storages(f, loader.unpickle(f, "the storage keys"))
    end = f.tell()
    f.seek(start)
    result = loader.unpickle(f, "the object")   # pass 2: rebuild tensors
    f.seek(end)
    return result

