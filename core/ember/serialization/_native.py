"""Ember's native checkpoint format: pickle-free, one file, a JSON header followed by raw data.

Layout (all integers little-endian)::

    offset 0   8 bytes   magic  b"\\x89EMB\\r\\n\\x1a\\n"  (PNG-style: catches text-mode/7-bit mangling)
    offset 8   uint32    format version (currently 1)
    offset 12  uint64    header length H
    offset 20  H bytes   header: UTF-8 JSON (ASCII-only; see below)
    ...        padding   zero bytes up to the next multiple of 64 -> the data section starts at D
    D          raw data  each tensor's elements, C order, little-endian, at a 64-byte aligned offset

The header is ``{"writer": ..., "data_size": n, "tensors": [entry, ...], "root": node}``. A tensor
entry is ``{"dtype": "float32", "shape": [2, 3], "offset": o, "nbytes": n, "crc32": c, "device":
"cuda:0", "parameter": false, "requires_grad": false}`` with ``offset`` relative to D. ``root`` is
the saved object as a tree of nodes: ``null``, booleans, strings, integers and finite floats stand
for themselves; everything else is a JSON object tagged by ``"type"``: ``dict`` / ``ordered_dict``
(``"items": [[key_node, value_node], ...]``, so keys may be ints or tuples), ``list``, ``tuple``,
``set``, ``frozenset`` (``"items": [node, ...]``), ``tensor`` (``"index"`` into ``tensors``),
``float`` (``"value"``: ``"nan"``, ``"inf"``, ``"-inf"``), ``bytes`` (``"base64"``), ``str`` (only
for strings with unpaired surrogates: ``"base64"`` of their UTF-8 with surrogatepass), ``size``
(``ember.Size``), ``dtype`` and ``device`` (``"name"``).

A tensor object referenced several times is stored once and loads as one object (tied weights stay
tied); distinct tensors that merely share storage (views) are stored as separate copies.

``ember.save`` uses this format when the whole object fits it; :class:`Unrepresentable` (raised
while encoding, before any tensor data is read) tells it to pickle the object in PyTorch's zip
layout instead (``_torch_save.py``).
"""
from __future__ import annotations

import base64
import json
import math
import struct
import zlib
from collections import OrderedDict

import numpy as np

from .._version import __version__
from .._dtype import dtype as _DType
from .._tensor import Size, Tensor
from ..backend import Device
from ..nn.parameter import Parameter
from ._common import DTYPES, VALUE_DTYPES, Reader, host_bytes, new_tensor

MAGIC = b"\x89EMB\r\n\x1a\n"
VERSION = 1
_PREFIX = struct.Struct("<8sIQ")  # magic, version, header length
_ALIGN = 64

_SEQUENCES = {list: "list", tuple: "tuple", set: "set", frozenset: "frozenset"}
_SEQUENCE_TYPES = {v: k for k, v in _SEQUENCES.items()}
_SPECIAL_FLOATS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
_VALUE_FIELDS = {"float": "value", "dtype": "name", "device": "name", "bytes": "base64", "str": "base64"}


class Unrepresentable(Exception):
    """The object holds something this format can't (``ember.save`` then uses the zip pickle format)."""


class _UnsupportedType(Unrepresentable, TypeError):
    pass


class _Cycle(Unrepresentable, ValueError):
    pass


def _align(n: int) -> int:
    return -(-n // _ALIGN) * _ALIGN


class Plan:
    """An object encoded for saving: the header, and the tensors whose data follows it.

    Building the plan validates the whole object before anything is written, so an unsupported
    value never leaves a half-written file behind.
    """

    def __init__(self, obj):
        self.tensors: list[Tensor] = []
        self.entries: list[dict] = []
        self._index: dict[int, int] = {}   # id(tensor) -> position in self.tensors
        self._active: set[int] = set()     # ids of containers being encoded (cycle detection)
        self.data_size = 0
        root = self._encode(obj, "obj")
        for t, entry in zip(self.tensors, self.entries):  # only once the whole object is known to fit
            entry["crc32"] = zlib.crc32(host_bytes(t))
        header = {"writer": f"ember {__version__}", "data_size": self.data_size,
                  "tensors": self.entries, "root": root}
        self.header = json.dumps(header, separators=(",", ":"), allow_nan=False).encode("ascii")

    def _encode(self, obj, path: str):
        t = type(obj)
        if obj is None or t is bool or t is int:
            return obj
        if t is str:
            return obj if obj.isascii() or _valid_unicode(obj) else \
                {"type": "str", "base64": base64.b64encode(obj.encode("utf-8", "surrogatepass")).decode("ascii")}
        if t is float:
            return obj if math.isfinite(obj) else {"type": "float", "value": repr(obj)}
        if isinstance(obj, Tensor):  # subclasses other than Parameter load as plain tensors
            return {"type": "tensor", "index": self._tensor(obj)}
        if t is bytes:
            return {"type": "bytes", "base64": base64.b64encode(obj).decode("ascii")}
        if t is Size:
            return {"type": "size", "items": list(obj)}
        if t is _DType:
            return {"type": "dtype", "name": obj.name}
        if t is Device:
            return {"type": "device", "name": str(obj)}
        if t is dict or t is OrderedDict or t in _SEQUENCES:
            if id(obj) in self._active:
                raise _Cycle(f"ember.save: {path} contains itself (a reference cycle); it can't be saved")
            self._active.add(id(obj))
            try:
                if t in _SEQUENCES:
                    items = [self._encode(v, f"{path}[{i}]") for i, v in enumerate(obj)]
                    return {"type": _SEQUENCES[t], "items": items}
                items = [[self._encode(k, f"{path} key {k!r}"), self._encode(v, f"{path}[{k!r}]")]
                         for k, v in obj.items()]
                return {"type": "dict" if t is dict else "ordered_dict", "items": items}
            finally:
                self._active.discard(id(obj))
        raise _UnsupportedType(
            f"ember.save: can't save {path} of type {t.__module__}.{t.__qualname__}; the Ember format holds "
            "tensors, dict/OrderedDict/list/tuple/set containers and int/float/bool/str/bytes/None values "
            "(convert NumPy scalars with .item(), or leave format unset: other objects are then pickled in "
            "PyTorch's zip format)")

    def _tensor(self, t: Tensor) -> int:
        i = self._index.get(id(t))
        if i is None:
            nbytes = t._data.size * t._data.itemsize
            offset = _align(self.data_size)
            self.entries.append({
                "dtype": t.dtype.name, "shape": list(t._data.shape), "offset": offset, "nbytes": nbytes,
                "crc32": None, "device": str(t._device),  # the checksum is computed once the object is encoded
                "parameter": isinstance(t, Parameter), "requires_grad": t._rg})
            self.data_size = offset + nbytes
            i = self._index[id(t)] = len(self.tensors)
            self.tensors.append(t)  # keeps the object alive so its id isn't reused while encoding
        return i

    def write(self, fh) -> None:
        """Write the file to the binary stream ``fh`` (which needn't be seekable)."""
        fh.write(_PREFIX.pack(MAGIC, VERSION, len(self.header)))
        fh.write(self.header)
        pos = _PREFIX.size + len(self.header)
        start = _align(pos)
        fh.write(bytes(start - pos))
        pos = 0
        for t, entry in zip(self.tensors, self.entries):
            fh.write(bytes(entry["offset"] - pos))
            # Fetched again rather than kept from planning, so device tensors aren't all on the host at once.
            data = host_bytes(t)
            fh.write(data)
            pos = entry["offset"] + data.size


def read(reader: Reader, placer):
    """Load a native-format checkpoint (the magic has been checked by the caller)."""
    magic, version, header_len = _PREFIX.unpack(reader.read(0, _PREFIX.size, "the file prefix"))
    if magic != MAGIC:
        raise reader.error("not an Ember checkpoint (bad magic bytes)")
    if version != VERSION:
        newer = " (written by a newer Ember?)" if version > VERSION else ""
        raise reader.error(f"unsupported Ember format version {version}{newer}; this Ember reads version {VERSION}")
    raw = reader.read(_PREFIX.size, header_len, "the header")
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise reader.error(f"corrupted header: not valid JSON ({e})") from None
    data_start = _align(_PREFIX.size + header_len)
    return _Decoder(reader, header, data_start, placer).root()


class _Decoder:
    def __init__(self, reader: Reader, header, data_start: int, placer):
        self.reader = reader
        self.placer = placer
        self.data_start = data_start
        if not isinstance(header, dict):
            self.fail("the header is not a JSON object")
        self.header = header
        self.entries = header.get("tensors")
        data_size = header.get("data_size")
        if not isinstance(self.entries, list) or not _is_int(data_size) or data_size < 0 or "root" not in header:
            self.fail("the header lacks 'tensors', 'data_size' or 'root'")
        self.data_size = data_size
        reader.check_range(data_start, data_size, "the data section")
        self.loaded: dict[int, Tensor] = {}

    def fail(self, problem: str):
        raise self.reader.error(f"corrupted header: {problem}")

    def root(self):
        try:
            return self.decode(self.header["root"], "obj")
        except RecursionError:
            self.fail("the object tree is nested too deeply")

    def decode(self, node, path: str):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if not isinstance(node, dict) or not isinstance(node.get("type"), str):
            self.fail(f"{path}: expected a value or a tagged object, got {node!r:.80}")
        kind = node["type"]
        if kind == "tensor":
            return self.tensor(node.get("index"), path)
        if kind in ("dict", "ordered_dict"):
            items = self.items(node, path)
            out = {} if kind == "dict" else OrderedDict()
            for pair in items:
                if not isinstance(pair, list) or len(pair) != 2:
                    self.fail(f"{path}: a dict item is not a [key, value] pair")
                key = self.decode(pair[0], f"{path} key")
                try:
                    hash(key)
                except TypeError:
                    self.fail(f"{path}: unhashable dict key {key!r:.80}")
                out[key] = self.decode(pair[1], f"{path}[{key!r}]")
            return out
        if kind in _SEQUENCE_TYPES:
            values = [self.decode(v, f"{path}[{i}]") for i, v in enumerate(self.items(node, path))]
            if kind in ("set", "frozenset"):
                try:
                    return _SEQUENCE_TYPES[kind](values)
                except TypeError:
                    self.fail(f"{path}: a {kind} holds unhashable values")
            return _SEQUENCE_TYPES[kind](values)
        if kind == "size":
            items = self.items(node, path)
            if not all(_is_int(v) and v >= 0 for v in items):
                self.fail(f"{path}: a Size holds something other than non-negative integers")
            return Size(items)
        field = _VALUE_FIELDS.get(kind)
        if field is None:
            self.fail(f"{path}: unknown node type {kind!r}")
        value = node.get(field)
        if not isinstance(value, str):
            self.fail(f"{path}: {kind!r} node has no string {field!r}")
        try:
            if kind == "float":
                return _SPECIAL_FLOATS[value]
            if kind == "dtype":
                return VALUE_DTYPES[value]
            if kind == "device":
                return Device(value)
            if kind == "bytes":
                return base64.b64decode(value, validate=True)
            if kind == "str":
                return base64.b64decode(value, validate=True).decode("utf-8", "surrogatepass")
        except (KeyError, ValueError, RuntimeError, TypeError) as e:
            self.fail(f"{path}: invalid {kind} {value!r:.80} ({e})")

    def items(self, node, path: str) -> list:
        items = node.get("items")
        if not isinstance(items, list):
            self.fail(f"{path}: {node['type']!r} node has no 'items' list")
        return items

    def tensor(self, index, path: str) -> Tensor:
        if not _is_int(index) or not 0 <= index < len(self.entries):
            self.fail(f"{path}: tensor index {index!r} is out of range (the header lists {len(self.entries)} tensors)")
        t = self.loaded.get(index)
        if t is None:
            t = self.loaded[index] = self.load_tensor(self.entries[index], f"{path} (tensor #{index})")
        return t

    def load_tensor(self, e, what: str) -> Tensor:
        if not isinstance(e, dict):
            self.fail(f"{what}: the tensor entry is not an object")
        d = DTYPES.get(e.get("dtype")) if isinstance(e.get("dtype"), str) else None
        if d is None:
            self.fail(f"{what}: unknown dtype {e.get('dtype')!r}; known: {', '.join(DTYPES)}")
        shape, offset, nbytes = e.get("shape"), e.get("offset"), e.get("nbytes")
        if not isinstance(shape, list) or not all(_is_int(s) and s >= 0 for s in shape):
            self.fail(f"{what}: invalid shape {shape!r:.80}")
        numel = self.reader.check_shape(shape, d.itemsize, what)
        if not _is_int(nbytes) or nbytes != numel * d.itemsize:
            self.fail(f"{what}: nbytes {nbytes!r} doesn't match shape {shape} of {d.name}")
        if not _is_int(offset) or offset < 0 or offset + nbytes > self.data_size:
            self.fail(f"{what}: data range {offset!r}+{nbytes} lies outside the data section "
                      f"({self.data_size} bytes)")
        device = e.get("device", "cpu")
        if not isinstance(device, str) or not _is_int(e.get("crc32")):
            self.fail(f"{what}: invalid 'device' or 'crc32' field")
        arr = self.reader.read_array(self.data_start + offset, d.np, tuple(shape), what)
        if zlib.crc32(arr.reshape(-1).view(np.uint8)) != e["crc32"]:
            raise self.reader.error(f"{what}: data is corrupted (CRC32 mismatch)")
        return new_tensor(arr, device, self.placer, e.get("parameter") is True, e.get("requires_grad") is True)


def _valid_unicode(s: str) -> bool:
    """False for strings holding lone surrogates, which JSON would merge into other characters."""
    try:
        s.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _is_int(v) -> bool:
    return type(v) is int
