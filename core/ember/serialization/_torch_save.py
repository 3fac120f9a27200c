"""Writing PyTorch's zip checkpoint layout, which ``torch.load`` reads (and so does ``ember.load``).

``ember.save`` uses it for objects the pickle-free native format can't hold (a whole module, an
optimizer, NumPy arrays, custom classes) and for ``format="torch"``. The archive has the records
``torch.save`` writes::

    archive/data.pkl                 the object, pickled (protocol 2 unless pickle_protocol says otherwise)
    archive/.storage_alignment       "64": every storage record's bytes start at a multiple of 64
    archive/byteorder                "little"
    archive/data/<key>               each storage's raw bytes, little-endian
    archive/version                  "3"
    archive/.data/serialization_id   40 random decimal digits

``.format_version`` is left out on purpose: with it, ``torch.load`` may compute record offsets from
miniz's own layout (data descriptors after each record) instead of reading them from the archive.

In the pickle, Ember's objects that PyTorch has too are written as PyTorch writes its own, so that
``torch.load`` sees PyTorch objects: a tensor is ``torch._utils._rebuild_tensor_v2`` over a typed
storage referenced by persistent id ``('storage', torch.FloatStorage, key, location, numel)``, a
Parameter is ``torch._utils._rebuild_parameter`` of such a tensor, and dtypes, devices and sizes are
``torch.float32``, ``torch.device(...)`` and ``torch.Size(...)``. Everything else is pickled as usual,
by reference to its class (an Ember module is an ``ember.nn.modules...`` object whose parameters are
tensors as above). ``ember.load`` maps those PyTorch names back to Ember objects.

Tensors that view one memory block are saved as views of one storage, as in PyTorch: for a view (a
tensor with a ``_base``) or a tensor that is all of its array's memory, the storage is the whole
block the array belongs to (PyTorch, too, saves a view's whole storage), and each tensor is its
offset, size and stride into it. Another tensor is its own storage (a NumPy slice Ember doesn't
track as a view isn't saved with the array around it). A tensor whose layout can't be expressed
that way (a negative stride, say) is saved as a contiguous copy of its own.
"""
from __future__ import annotations

import io
import pickle
import secrets
import struct
import zipfile
from collections import OrderedDict

import numpy as np

from .._dtype import dtype as _DType
from .._tensor import Size, Tensor
from ..backend import Device
from ..nn.parameter import Parameter
from ._common import to_little_endian

DEFAULT_PROTOCOL = 2  # torch.save's
PREFIX = "archive"
ALIGNMENT = 64
_CHUNK = 64 << 20
_STORAGE_NAMES = {"float16": "HalfStorage", "float32": "FloatStorage", "float64": "DoubleStorage",
                  "int8": "CharStorage", "int16": "ShortStorage", "int32": "IntStorage", "int64": "LongStorage",
                  "uint8": "ByteStorage", "bool": "BoolStorage", "complex64": "ComplexFloatStorage",
                  "complex128": "ComplexDoubleStorage"}


class TorchGlobal:
    """A PyTorch function or class as the pickle names it (``torch._utils._rebuild_tensor_v2``), so
    it can be written without PyTorch installed. Only ever pickled, never called."""

    def __init__(self, module: str, name: str):
        self.module, self.name = module, name
        self.__name__ = name

    def __call__(self, *args):  # pickle's save_reduce wants a callable
        raise RuntimeError(f"{self.module}.{self.name} is only a name for pickling")

    def __repr__(self) -> str:
        return f"{self.module}.{self.name}"


_REBUILD_TENSOR = TorchGlobal("torch._utils", "_rebuild_tensor_v2")
_REBUILD_PARAMETER = TorchGlobal("torch._utils", "_rebuild_parameter")
_SIZE = TorchGlobal("torch", "Size")
_DEVICE = TorchGlobal("torch", "device")
_STORAGE_TYPES = {k: TorchGlobal("torch", v) for k, v in _STORAGE_NAMES.items()}


class _Storage:
    """One storage to write: a contiguous memory block (``root``) seen as elements of one dtype."""

    def __init__(self, key: str, root, dtype: _DType, device: Device):
        self.key, self.root, self.dtype, self.device = key, root, dtype, device
        self.location = str(device)
        self.numel = root.nbytes // dtype.itemsize

    def pid(self) -> tuple:
        return ("storage", _STORAGE_TYPES[self.dtype.name], self.key, self.location, self.numel)

    def host_bytes(self) -> np.ndarray:
        """The block's bytes on the host, little-endian, as a flat uint8 array."""
        host = self.root if self.device.type == "cpu" else self.device.backend.to_host(self.root)
        flat = host.reshape(-1, order="A")  # the block in memory order (a root may be Fortran-ordered)
        return to_little_endian(flat.view(self.dtype.np)).view(np.uint8)


def _address(a) -> int:
    return a.__array_interface__["data"][0] if isinstance(a, np.ndarray) else int(a.data.ptr)


def _root(a):
    """The array that owns ``a``'s memory: follows ``.base`` (and ``as_strided``'s wrapper object)."""
    kinds = (np.ndarray, type(a))
    while True:
        base = getattr(a, "base", None)
        if isinstance(base, kinds):
            a = base
            continue
        inner = getattr(base, "base", None)
        if base is not None and isinstance(inner, kinds) and hasattr(base, "__array_interface__"):
            a = inner  # numpy's as_strided wraps the original array in a DummyArray
            continue
        return a


def _contiguous_strides(shape: tuple) -> tuple:
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


def _covers(arr, root) -> bool:
    """Whether ``arr`` is all of ``root``'s memory, in order."""
    return arr is root or (arr.flags.c_contiguous and arr.nbytes == root.nbytes and _address(arr) == _address(root))


def _layout(arr, root, itemsize: int):
    """``(offset, stride)`` in elements of ``arr`` inside ``root``'s memory block, or None when
    ``arr`` can't be described as a view of it (negative or unaligned strides, outside the block)."""
    if not (root.flags.c_contiguous or root.flags.f_contiguous) or root.nbytes % itemsize:
        return None
    if any(s < 0 or s % itemsize for s in arr.strides):
        return None
    start = _address(arr) - _address(root)
    end = start + sum((n - 1) * s for n, s in zip(arr.shape, arr.strides)) + itemsize
    if start < 0 or start % itemsize or end > root.nbytes:
        return None
    return start // itemsize, tuple(s // itemsize for s in arr.strides)


class _Pickler(pickle._Pickler):
    """The pure-Python pickler (the C one can only name globals it can import, and ``torch`` isn't
    importable here), writing Ember tensors, dtypes, devices and sizes as PyTorch writes its own."""

    dispatch = dict(pickle._Pickler.dispatch)

    def __init__(self, file, protocol: int, plan: "Plan"):
        super().__init__(file, protocol)
        self.plan = plan

    def persistent_id(self, obj):
        return obj.pid() if type(obj) is _Storage else None

    def reducer_override(self, obj):
        t = type(obj)
        if t is Parameter:
            return _REBUILD_PARAMETER, (obj.detach(), obj.requires_grad, OrderedDict())
        if isinstance(obj, Tensor):  # subclasses other than Parameter are saved as plain tensors
            storage, offset, stride = self.plan.storage_of(obj)
            return _REBUILD_TENSOR, (storage, offset, tuple(obj._data.shape), stride, obj._rg, OrderedDict())
        if t is Size:
            return _SIZE, (tuple(obj),)
        if t is Device:
            return _DEVICE, (obj.type,) if obj.index is None else (obj.type, obj.index)
        return NotImplemented

    def _save_global_name(self, module: str, name: str, obj) -> None:
        self.write(pickle.GLOBAL + f"{module}\n{name}\n".encode("utf-8"))
        self.memoize(obj)

    def _save_torch_global(self, obj: TorchGlobal) -> None:
        self._save_global_name(obj.module, obj.name, obj)

    def _save_dtype(self, obj: _DType) -> None:
        self._save_global_name("torch", obj.name, obj)  # torch.float32 & co are pickled by name

    dispatch[TorchGlobal] = _save_torch_global
    dispatch[_DType] = _save_dtype


class Plan:
    """An object pickled for the zip layout: ``data.pkl`` and the storages it references.

    Pickling happens here, before any file is opened, so an object that can't be pickled (a lambda,
    an open file) raises pickle's own error and leaves the target untouched.
    """

    def __init__(self, obj, protocol: int | None = None):
        self.storages: list[_Storage] = []
        self._by_block: dict[tuple, _Storage] = {}
        buf = io.BytesIO()
        _Pickler(buf, DEFAULT_PROTOCOL if protocol is None else protocol, self).dump(obj)
        self.data_pkl = buf.getvalue()
        self._by_block.clear()  # the storages keep what they need alive

    def storage_of(self, t: Tensor) -> tuple:
        """``(storage, offset, stride)`` placing ``t`` in a storage shared with the other tensors
        viewing the same memory block (a contiguous copy of its own when it can't be placed)."""
        arr = t._data
        root = _root(arr)
        if t._base is None and not _covers(arr, root):
            # Not a view in Ember's sense: its array may still be a slice of some larger array (made
            # by NumPy, or inside an op), which PyTorch wouldn't have saved with it.
            root = arr if arr.flags.c_contiguous else None
        place = _layout(arr, root, arr.itemsize) if arr.size and root is not None else None
        if place is None:  # its own block: a C-contiguous copy (nothing at all for an empty tensor)
            root = arr.copy() if arr.size else arr.reshape(0)
            place = (0, _contiguous_strides(arr.shape))
        key = (id(root), t.dtype.name, t._device)
        storage = self._by_block.get(key)
        if storage is None:
            storage = _Storage(str(len(self.storages)), root, t.dtype, t._device)
            self._by_block[key] = storage
            self.storages.append(storage)
        return storage, place[0], place[1]

    def write(self, fh) -> None:
        """Write the archive to the binary stream ``fh`` (which needn't be seekable)."""
        with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED, allowZip64=True) as z:
            _record(z, "data.pkl", [self.data_pkl], len(self.data_pkl))
            _record(z, ".storage_alignment", [str(ALIGNMENT).encode()], len(str(ALIGNMENT)))
            _record(z, "byteorder", [b"little"], 6)
            for s in self.storages:
                data = s.host_bytes()
                chunks = (data[i: i + _CHUNK] for i in range(0, data.size, _CHUNK))
                _record(z, f"data/{s.key}", chunks, data.size)
            _record(z, "version", [b"3\n"], 2)
            _record(z, ".data/serialization_id", [f"{secrets.randbelow(10 ** 40):040d}".encode()], 40)


def _record(z: zipfile.ZipFile, name: str, chunks, size: int) -> None:
    """Store one record, its bytes starting at a multiple of ``ALIGNMENT`` in the file (padding goes
    in an extra field of the local header, as PyTorch's writer puts it), so ``mmap`` loads can map
    storages in place."""
    info = zipfile.ZipInfo(f"{PREFIX}/{name}", date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    info.file_size = size
    zip64 = size * 1.05 > zipfile.ZIP64_LIMIT  # zipfile then adds a 20-byte zip64 field to the header
    header = 30 + len(info.filename.encode("utf-8")) + 4 + (20 if zip64 else 0)
    pad = -(z.fp.tell() + header) % ALIGNMENT
    info.extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
    with z.open(info, "w", force_zip64=zip64) as out:
        for chunk in chunks:
            out.write(chunk)
