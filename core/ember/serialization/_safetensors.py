"""The safetensors format (read and write).

A file is an 8-byte little-endian header length N, N bytes of JSON mapping each tensor name to
``{"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}`` (plus an optional
``"__metadata__"`` dict of strings), then the byte buffer the offsets index (little-endian, C order).
"""
from __future__ import annotations

import json
import math
import struct

import numpy as np

from .. import _dtype as dt
from .._tensor import Tensor
from ._common import Reader, bfloat16_to_float32, host_bytes, new_tensor

_CODES = {dt.float16: "F16", dt.float32: "F32", dt.float64: "F64", dt.int8: "I8", dt.int16: "I16",
          dt.int32: "I32", dt.int64: "I64", dt.uint8: "U8", dt.bool: "BOOL"}
_NP = {code: d.np for d, code in _CODES.items()}
_NP["BF16"] = np.dtype(np.uint16)  # read as bit patterns, then widened to float32
_LEN = struct.Struct("<Q")


def looks_like(prefix: bytes) -> bool:
    """Content sniffing: a header length followed by the JSON header's opening brace."""
    return len(prefix) >= 9 and prefix[8:9] == b"{"


class Plan:
    """A flat ``{name: tensor}`` dict checked and laid out for writing (validation happens here)."""

    def __init__(self, obj, metadata=None):
        if not isinstance(obj, dict):
            raise TypeError(f"ember.save(format='safetensors') needs a dict of tensors, got {type(obj).__name__}")
        header: dict = {}
        if metadata is not None:
            if not isinstance(metadata, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                         for k, v in metadata.items()):
                raise TypeError("safetensors metadata must be a dict of str to str")
            header["__metadata__"] = dict(metadata)
        self.tensors = []
        end = 0
        for key, t in obj.items():
            if not isinstance(key, str) or key == "__metadata__":
                raise TypeError(f"ember.save(format='safetensors'): key {key!r} is not a valid tensor name "
                                "(names must be strings other than '__metadata__')")
            if not isinstance(t, Tensor):
                raise TypeError(f"ember.save(format='safetensors'): value of key {key!r} is a "
                                f"{type(t).__name__}, not a tensor (safetensors holds a flat dict of tensors)")
            nbytes = t._data.nbytes
            header[key] = {"dtype": _CODES[t.dtype], "shape": list(t._data.shape), "data_offsets": [end, end + nbytes]}
            end += nbytes
            self.tensors.append(t)
        raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
        self.header = raw + b" " * (-len(raw) % 8)  # the spec pads the header so data is 8-byte aligned

    def write(self, fh) -> None:
        fh.write(_LEN.pack(len(self.header)))
        fh.write(self.header)
        for t in self.tensors:
            fh.write(host_bytes(t))


def read(reader: Reader, placer) -> dict:
    """Load a safetensors file as ``{name: tensor}`` (metadata is validated and dropped)."""
    (n,) = _LEN.unpack(reader.read(0, _LEN.size, "the header length"))
    raw = reader.read(_LEN.size, n, "the safetensors header")
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise reader.error(f"corrupted safetensors header: not valid JSON ({e})") from None
    if not isinstance(header, dict):
        raise reader.error("corrupted safetensors header: not a JSON object")
    meta = header.pop("__metadata__", None)
    if meta is not None and not (isinstance(meta, dict) and all(isinstance(v, str) for v in meta.values())):
        raise reader.error("corrupted safetensors header: __metadata__ must map strings to strings")
    start = _LEN.size + n
    buffer_size = reader.size - start
    out = {}
    for name, e in header.items():
        what = f"tensor {name!r}"
        if not isinstance(e, dict):
            raise reader.error(f"corrupted safetensors header: entry for {what} is not an object")
        code, shape, offsets = e.get("dtype"), e.get("shape"), e.get("data_offsets")
        if code not in _NP:
            raise reader.error(f"{what} has dtype {code!r}, which Ember can't load; supported: {', '.join(_NP)}")
        if not isinstance(shape, list) or not all(type(s) is int and s >= 0 for s in shape):
            raise reader.error(f"corrupted safetensors header: {what} has invalid shape {shape!r:.80}")
        if (not isinstance(offsets, list) or len(offsets) != 2 or not all(type(o) is int for o in offsets)
                or not 0 <= offsets[0] <= offsets[1] <= buffer_size):
            raise reader.error(f"corrupted safetensors header: {what} has data_offsets {offsets!r:.80} outside "
                               f"the {buffer_size}-byte data buffer")
        np_dtype = _NP[code]
        if offsets[1] - offsets[0] != math.prod(shape) * np_dtype.itemsize:
            raise reader.error(f"corrupted safetensors header: {what}'s data_offsets {offsets} don't match "
                               f"shape {shape} of {code}")
        arr = reader.read_array(start + offsets[0], np_dtype, tuple(shape), what)
        if code == "BF16":
            arr = bfloat16_to_float32(arr)
            reader.widened += 1
        out[name] = new_tensor(arr, "cpu", placer)
    return out
