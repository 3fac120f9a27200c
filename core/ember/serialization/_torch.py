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
honoured for the ``_metadata`` attribute PyTorch attaches to state-dict OrderedDicts. Like PyTorch's
``weights_only`` unpickler it also only calls what ``find_class`` resolved, only appends to lists, sets
items of dicts and adds to sets, and never lets a length field in the pickle allocate more than the
file holds.

Tensors that share a storage in the file share it once loaded, as in PyTorch: each is a NumPy view of
the storage's array (validated to lie inside it), so a 1.6 KB file holding an expanded tensor loads
as a stride-0 view, not as the hundreds of megabytes its elements would take. A view in which one
memory location appears several times (a stride of 0 over a dimension longer than 1) is read-only,
as Ember's own ``expand`` results are: in-place writes into it raise instead of racing.
"""
from __future__ import annotations

import contextlib
import io
import pickle
import struct
import sys
import zipfile
from collections import OrderedDict

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .. import _dtype as dt
from .._tensor import Size
from ..backend import Device
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
    _StorageType("ByteStorage", np.uint8), _StorageType("BoolStorage", np.bool_))}

_TORCH_DTYPES = {"float32": dt.float32, "float": dt.float32, "float64": dt.float64, "double": dt.float64,
                 "float16": dt.float16, "half": dt.float16, "bfloat16": dt.float32, "int64": dt.int64,
                 "long": dt.int64, "int32": dt.int32, "int": dt.int32, "int16": dt.int16, "short": dt.int16,
                 "int8": dt.int8, "uint8": dt.uint8, "bool": dt.bool}


class _Storage:
    """A loaded storage: its elements as a 1-D array (None during the legacy format's first pass)."""

    def __init__(self, array, location: str, stype: _StorageType, loader):
        self.array, self.location, self.stype, self.loader = array, location, stype, loader
        self._widened = None

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
    return new_tensor(view, storage.location, storage.loader.placer)


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


class _Unpickler(pickle._Unpickler):
    """A restricted unpickler (see the module docstring); ``loader`` resolves storages and names the file."""

    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, file, loader, encoding: str = "ASCII"):
        super().__init__(file, encoding=encoding)
        self.loader = loader
        self._resolved: list = []  # what find_class returned: the only objects REDUCE may call
        readline = self._file_readline

        def whole_line():  # a line cut short by the end of the file is truncation, not a name
            line = readline()
            if not line.endswith(b"\n"):
                raise EOFError("the pickle data is truncated")
            return line
        self._file_readline = whole_line

    def find_class(self, module, name):
        if module == "__builtin__" and self.proto < 3:  # Python 3's name for builtins in protocol-2 pickles
            module = "builtins"                           # (torch.save writes protocol 2)
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

    def _load_newobj(self, kwargs=None):
        args = self.stack.pop()
        cls = self.stack.pop()
        if cls is not complex or type(args) is not tuple or kwargs:  # complex numbers are pickled this way
            raise self.refuse(f"create a {getattr(cls, '__name__', type(cls).__name__)!s:.60} object (pickle NEWOBJ)")
        self.append(complex.__new__(complex, *args))

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
        raise self.refuse(f"set the state of a {type(inst).__name__} object (pickle BUILD)")

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

    def __init__(self, reader: Reader, placer, encoding: str):
        self.reader = reader
        self.name = reader.name
        self.placer = placer
        self.encoding = encoding
        self.storages: dict[str, _Storage] = {}

    def unpickle(self, f, what: str):
        try:
            return _Unpickler(f, self, self.encoding).load()
        except (CheckpointError, UnsafeUnpicklingError, MemoryError):
            raise
        except Exception as e:  # malformed data: EOFError, bad opcodes, wrong call arguments, bad geometry...
            raise CheckpointUnpicklingError(f"{self.name}: corrupted PyTorch checkpoint: can't unpickle {what} "
                                            f"({type(e).__name__}: {_clip(e)})") from None

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
    def __init__(self, reader, placer, encoding, archive: zipfile.ZipFile, prefix: str, byteorder: str):
        super().__init__(reader, placer, encoding)
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


def read_zip(reader: Reader, placer, encoding: str):
    with _zip_errors(reader, "not a readable zip archive (truncated or corrupted?)"):
        archive = zipfile.ZipFile(reader.f)
        names = archive.namelist()
    prefixes = [n[: -len("/data.pkl")] for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
    if len(prefixes) != 1:
        raise reader.error("a zip archive, but not a PyTorch checkpoint (no single '<name>/data.pkl' record)")
    prefix = prefixes[0]
    if f"{prefix}/constants.pkl" in names:
        raise reader.error("a TorchScript archive (torch.jit.save); Ember can only load torch.save checkpoints")
    byteorder = "little"
    if f"{prefix}/byteorder" in names:
        raw = read_record(reader, archive, f"{prefix}/byteorder").tobytes()
        byteorder = raw.decode("ascii", "replace").strip()
    if byteorder not in ("little", "big"):
        raise reader.error(f"corrupted PyTorch checkpoint: unknown byteorder {byteorder!r:.40}")
    data_pkl = read_record(reader, archive, f"{prefix}/data.pkl").tobytes()
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
            if (type(view) is not tuple or len(view) != 3 or type(view[0]) is not str
                    or not all(type(v) is int and v >= 0 for v in view[1:])):
                raise self.reader.error(f"corrupted PyTorch checkpoint: bad storage view {_describe(view)}")
            root = self.storage(pid[:5] + (None,))
            if root.array is not None and view[1] + view[2] > root.array.size:
                raise self.reader.error(f"corrupted PyTorch checkpoint: storage view {_describe(view)} reaches past "
                                        f"the end of its {root.array.size}-element storage")
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
        if (type(keys) is not list or not all(type(k) is str for k in keys) or len(set(keys)) != len(keys)
                or set(keys) != set(self.types)):
            raise self.reader.error(f"corrupted PyTorch checkpoint: the storage key list {_describe(keys)} doesn't "
                                    f"match the storages the object uses ({len(self.types)})")
        self.data = {}
        for key in keys:
            stype = self.types[key]
            pos = f.tell() - self.reader.start
            (numel,) = np.frombuffer(self.reader.read(pos, 8, f"the size of storage {key!r}"), "<i8")
            numel = int(numel)
            if numel < 0:
                raise self.reader.error(f"corrupted PyTorch checkpoint: storage {key!r} has negative size")
            array = self.reader.read_array(pos + 8, stype.np, (numel,), f"storage {key!r}")
            self.data[key] = array if self.little_endian else array.byteswap(inplace=True)
        self.storages.clear()


def read_legacy(reader: Reader, placer, encoding: str):
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
    loader = _LegacyLoader(reader, placer, encoding, bool(little))
    start = f.tell()
    loader.unpickle(f, "the object")            # pass 1: learn storage types
    loader.read_storages(f, loader.unpickle(f, "the storage keys"))
    end = f.tell()
    f.seek(start)
    result = loader.unpickle(f, "the object")   # pass 2: rebuild tensors
    f.seek(end)
    return result

