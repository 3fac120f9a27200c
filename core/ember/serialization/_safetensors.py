"""The safetensors format (read and write).

A file is an 8-byte little-endian header length N, N bytes of JSON mapping each tensor name to
``{"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}`` (plus an optional
``"__metadata__"`` dict of strings), then the byte buffer the offsets index (little-endian, C order).
"""
from __future__ import annotations

import json
import struct

import numpy as np

from .. import _dtype as dt
from .._tensor import Tensor
from ._common import Reader, bfloat16_to_float32, host_bytes, new_tensor

_CODES = {dt.float16: "F16", dt.float32: "F32", dt.float64: "F64", dt.int8: "I8", dt.int16: "I16",
          dt.int32: "I32", dt.int64: "I64", dt.uint8: "U8", dt.bool: "BOOL", dt.complex64: "C64"}
# The safetensors format has C64 but no complex128 code: saving one raises a TypeError naming it.
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
            if t.dtype not in _CODES:
                raise TypeError(f"safetensors has no code for {t.dtype} (tensor {key!r}); its complex type is "
                                "complex64 (C64)")
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


# The format's own limit on the header (the reference implementation refuses longer ones).
MAX_HEADER = 100_000_000
# Element types of the format Ember has no dtype for (loading them is refused with a clear message).
_UNSUPPORTED = ("C64", "C128", "U16", "U32", "U64", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2")


def read(reader: Reader, placer) -> dict:
    """Load a safetensors file as ``{name: tensor}`` (metadata is validated and dropped).

    Validated as the reference implementation does, before any tensor is allocated: a JSON object
    of well-typed entries whose ``data_offsets``, sorted, tile the data buffer exactly (starting at
    0, no gaps or overlaps, ending at the end of the file), each spanning ``numel * itemsize`` bytes.
    """
    (n,) = _LEN.unpack(reader.read(0, _LEN.size, "the header length"))
    if n > MAX_HEADER:
        raise reader.error(f"corrupted safetensors header: header length {n} exceeds the format's limit "
                           f"of {MAX_HEADER} bytes")
    header = _parse_header(reader, reader.read(_LEN.size, n, "the safetensors header"))
    meta = header.pop("__metadata__", None)
    if meta is not None and not (isinstance(meta, dict) and all(isinstance(v, str) for v in meta.values())):
        raise reader.error("corrupted safetensors header: __metadata__ must map strings to strings")
    start = _LEN.size + n
    entries = [_entry(reader, name, e, reader.size - start) for name, e in header.items()]
    _check_tiling(reader, entries, reader.size - start)
    out = {}
    for name, code, shape, (begin, _) in entries:
        arr = reader.read_array(start + begin, _NP[code], tuple(shape), f"tensor {name!r}")
        if code == "BF16":
            arr = bfloat16_to_float32(arr)
            reader.widened += 1
        out[name] = new_tensor(arr, "cpu", placer)
    return out


def _parse_header(reader: Reader, raw: bytes) -> dict:
    def no_duplicates(pairs):
        obj = dict(pairs)
        if len(obj) != len(pairs):
            seen = set()
            dup = next(k for k, _ in pairs if k in seen or seen.add(k))
            raise ValueError(f"duplicate key {dup!r:.80}")
        return obj

    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=no_duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise reader.error(f"corrupted safetensors header: not valid JSON ({e})") from None
    if not isinstance(header, dict):
        raise reader.error("corrupted safetensors header: not a JSON object")
    return header


def _entry(reader: Reader, name: str, e, buffer_size: int) -> tuple:
    """``(name, dtype code, shape, data_offsets)`` of one header entry, each field's type and range checked."""
    what = f"tensor {name!r}"

    def bad(problem: str):
        return reader.error(f"corrupted safetensors header: {what} {problem}")

    if not isinstance(e, dict):
        raise bad("is not a JSON object")
    code, shape, offsets = e.get("dtype"), e.get("shape"), e.get("data_offsets")
    if not isinstance(code, str):
        raise bad(f"has a dtype of the wrong type: {code!r:.80} (expected a string such as 'F32')")
    if code not in _NP:
        known = " (a safetensors dtype Ember has no equivalent for)" if code in _UNSUPPORTED else ""
        raise reader.error(f"{what} has dtype {code!r:.40}{known}, which Ember can't load; "
                           f"supported: {', '.join(_NP)}")
    if not isinstance(shape, list) or not all(type(s) is int and s >= 0 for s in shape):
        raise bad(f"has invalid shape {shape!r:.80} (expected a list of non-negative integers)")
    numel = reader.check_shape(shape, _NP[code].itemsize, what)
    if (not isinstance(offsets, list) or len(offsets) != 2 or not all(type(o) is int for o in offsets)
            or not 0 <= offsets[0] <= offsets[1] <= buffer_size):
        raise bad(f"has data_offsets {offsets!r:.80} outside the {buffer_size}-byte data buffer")
    if offsets[1] - offsets[0] != numel * _NP[code].itemsize:
        raise bad(f"has data_offsets {offsets} that don't match shape {shape} of {code} "
                  f"({numel * _NP[code].itemsize} bytes)")
    return name, code, shape, offsets


def _check_tiling(reader: Reader, entries: list, buffer_size: int) -> None:
    """The byte ranges, in order, must cover the data buffer exactly: a header whose offsets leave a
    gap or overlap, or whose length is off (shifting the buffer), would otherwise load wrong numbers."""
    end, previous = 0, None
    for name, _, _, (begin, stop) in sorted(entries, key=lambda e: tuple(e[3])):
        if begin != end:
            problem = (f"overlaps {previous!r}" if begin < end else
                       f"leaves a gap of {begin - end} bytes after {previous!r}" if previous is not None else
                       f"starts at byte {begin} instead of 0")
            raise reader.error(f"corrupted safetensors header: tensor {name!r}'s data_offsets [{begin}, {stop}] "
                               f"{problem} (the offsets must tile the data buffer)")
        end, previous = stop, name
    if end != buffer_size:
        raise reader.error(f"corrupted safetensors file: the tensors cover {end} bytes of data but the data buffer "
                           f"holds {buffer_size} (a wrong header length or trailing bytes)")
