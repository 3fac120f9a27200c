"""The fuzz suite's machinery (issue 12): valid seed files for every reader, seeded mutations of them,
and worker subprocesses that load each mutated file under a memory cap and a timeout.

Every outcome must be a successful load or an exception of the reader's documented error classes
whose message names the file; a checkpoint that loads must also not take much more memory than the
file's size (no amplification). Anything else -- another exception, a MemoryError, a crash, a case
running past its timeout -- is a failure, reported with the case's description so it can be
reproduced (``make_case(reader, seed, index)`` rebuilds the exact bytes).

A case is ``(reader, seed, index)``: ``numpy.random.default_rng([seed, reader id, index])`` picks the
seed file, one to three mutations and the reader's options. The parent process sends case numbers to
a worker (``python _fuzzlib.py --worker``) that builds the files itself and answers one JSON line per
case; a worker that dies or hangs is replaced.

From the command line (the long run, as ``make fuzz`` runs it through pytest)::

    .venv/bin/python tests/fuzz/_fuzzlib.py --cases 1000 --seed 1 --workers 2 [--reader png ...]
        [--save-failures DIR]
"""
from __future__ import annotations

import argparse
import collections
import gzip
import io
import json
import os
import pickle
import pickletools
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import zipfile
import zlib
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CORE_DATA = HERE.parent / "core" / "data"
MEMORY_CAP = 1 << 30      # RLIMIT_AS of a worker: 1 GiB (the imports take about 200 MB of it)
CASE_TIMEOUT_S = 30.0     # generous: a case takes milliseconds, but the machine may be busy
START_TIMEOUT_S = 120.0

#: Lines of the long run's summary, printed at the end of the pytest run (see conftest.py).
REPORT: list[str] = []

# "pt-objects": zip checkpoints holding whole modules and other objects (ember.save's pickle layout), loaded
# with weights_only=True and their classes allowlisted (OBJECTS_ALLOWLIST), so that mutated pickles reach
# the creation (NEWOBJ), state (BUILD) and calls (REDUCE) of allowlisted classes. Appended last: a reader's
# position seeds its cases, so the others' cases stay the same.
READERS = ("native", "safetensors", "pt-zip", "pt-legacy", "idx", "cifar", "png", "jpeg", "pt-objects", "tokenizer-json",
           "audio")
_CHECKPOINTS = ("native", "safetensors", "pt-zip", "pt-legacy", "pt-objects")
_ZIPS = ("pt-zip", "pt-objects")

# Integers a corrupt size, count or offset field tends to hold.
EDGE_INTS = (0, 1, 2, 7, 127, 128, 255, 256, 4095, 65535, 65536, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**40,
             2**53 + 1, 2**63 - 1, 2**63, 2**64 - 1)


# ---- generic byte-level mutations ------------------------------------------------------------

def flip_bits(rng, data: bytes) -> bytes:
    if not data:
        return data
    out = bytearray(data)
    for _ in range(int(rng.integers(1, 9))):
        i = int(rng.integers(len(out)))
        out[i] ^= 1 << int(rng.integers(8))
    return bytes(out)


def set_bytes(rng, data: bytes) -> bytes:
    if not data:
        return data
    out = bytearray(data)
    for _ in range(int(rng.integers(1, 5))):
        out[int(rng.integers(len(out)))] = int(rng.choice([0, 0xFF, 0x7F, 0x80, int(rng.integers(256))]))
    return bytes(out)


def insert_bytes(rng, data: bytes) -> bytes:
    i = int(rng.integers(len(data) + 1))
    return data[:i] + rng.bytes(int(rng.integers(1, 17))) + data[i:]


def delete_bytes(rng, data: bytes) -> bytes:
    if not data:
        return data
    i = int(rng.integers(len(data)))
    return data[:i] + data[i + int(rng.integers(1, 17)):]


def truncate(rng, data: bytes) -> bytes:
    return data[: int(rng.integers(len(data) + 1))]


def edge_int(rng, width: int) -> int:
    """An edge-case value for a ``width``-byte unsigned field (also small negatives, two's complement)."""
    v = int(rng.choice(EDGE_INTS)) if rng.random() < 0.8 else -int(rng.integers(1, 3))
    return v % (1 << (8 * width))


def smash_int(rng, data: bytes) -> bytes:
    """Overwrite a 2-, 4- or 8-byte field at a random position with an edge-case integer."""
    width = int(rng.choice([2, 4, 8]))
    if len(data) < width:
        return data
    i = int(rng.integers(len(data) - width + 1))
    if rng.random() < 0.5:  # aligned, as most binary header fields are
        i -= i % width
    field = edge_int(rng, width).to_bytes(width, "little" if rng.random() < 0.5 else "big")
    return data[:i] + field + data[i + width:]


def splice(rng, data: bytes) -> bytes:
    """Copy a chunk of the file over (or into) another place."""
    if len(data) < 2:
        return data
    a = int(rng.integers(len(data)))
    chunk = data[a: a + int(rng.integers(1, 65))]
    b = int(rng.integers(len(data)))
    return data[:b] + chunk + data[b + (len(chunk) if rng.random() < 0.5 else 0):]


GENERIC = (flip_bits, set_bytes, insert_bytes, delete_bytes, truncate, smash_int, splice)


def generic(rng, data: bytes) -> tuple[bytes, str]:
    m = GENERIC[int(rng.integers(len(GENERIC)))]
    return m(rng, data), m.__name__


# ---- structure-aware mutations ---------------------------------------------------------------

_JSON_SWAPS = (None, True, 1.5, -1, "", "F32", "float32", [], {}, [[0]], {"x": 1}, [0] * 70, [2**64, 0], [0, 2**64],
               [-1], "\ud800", 2**64, 1e308)


def mutate_json(rng, obj):
    """Change one value somewhere in a JSON document: an edge-case integer, a value of another type,
    a deleted key or item, or a duplicated entry."""
    slots = []

    def walk(node):
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for k, v in items:
            slots.append((node, k))
            walk(v)
    walk(obj)
    if not slots:
        return _JSON_SWAPS[int(rng.integers(len(_JSON_SWAPS)))], "json:replace-root"
    node, key = slots[int(rng.integers(len(slots)))]
    action = rng.random()
    if action < 0.35 and (type(node[key]) is int or rng.random() < 0.3):
        node[key] = int(rng.choice(EDGE_INTS)) * int(rng.choice([1, 1, -1]))
        return obj, "json:edge-int"
    if action < 0.75:
        node[key] = _JSON_SWAPS[int(rng.integers(len(_JSON_SWAPS)))]
        return obj, "json:type-swap"
    if action < 0.9:
        del node[key]
        return obj, "json:delete"
    if isinstance(node, dict):
        node[f"{key}_copy"] = json.loads(json.dumps(node[key]))
    else:
        node.append(json.loads(json.dumps(node[key])))
    return obj, "json:duplicate"


def _encode_json(obj, old_len: int, align: int) -> bytes:
    raw = json.dumps(obj, separators=(",", ":")).encode("utf-8", "surrogatepass")
    if len(raw) <= old_len:  # keep the data where it was, so the mutation reaches the tensor checks
        return raw + b" " * (old_len - len(raw))
    return raw + b" " * (-len(raw) % align)


def mutate_native_header(rng, data: bytes) -> tuple[bytes, str]:
    n = struct.unpack_from("<Q", data, 12)[0]
    header = json.loads(data[20: 20 + n])
    header, what = mutate_json(rng, header)
    raw = _encode_json(header, n, 1)
    pad = -(20 + len(raw)) % 64
    body = data[-(-(20 + n) // 64) * 64:]
    return data[:12] + struct.pack("<Q", len(raw)) + raw + bytes(pad) + body, what


def mutate_safetensors(rng, data: bytes) -> tuple[bytes, str]:
    n = struct.unpack_from("<Q", data)[0]
    header = json.loads(data[8: 8 + n])
    body = data[8 + n:]
    r = rng.random()
    if r < 0.15:  # a header length that is off by a little: shifts the data buffer
        delta = int(rng.choice([-8, -3, -1, 1, 2, 8]))
        return struct.pack("<Q", max(0, n + delta)) + data[8:], f"safetensors:header-length{delta:+d}"
    if r < 0.35:  # offsets that overlap or leave gaps, the byte counts kept consistent
        names = [k for k in header if k != "__metadata__"]
        if names:
            e = header[names[int(rng.integers(len(names)))]]
            delta = int(rng.choice([-4, -2, -1, 1, 2, 4, 8]))
            e["data_offsets"] = [e["data_offsets"][0] + delta, e["data_offsets"][1] + delta]
            return struct.pack("<Q", n) + _encode_json(header, n, 8)[:n].ljust(n) + body, "safetensors:shift-offsets"
    header, what = mutate_json(rng, header)
    raw = _encode_json(header, n, 8)
    return struct.pack("<Q", len(raw)) + raw + body, what


_OPCODE_BYTES = [op.code.encode("latin1") for op in pickletools.opcodes]
_ARG_WIDTH = {1: 1, 2: 2, 4: 4, 8: 8, -2: 1, -3: 4, -4: 4, -5: 8}  # fixed-size args, and length prefixes


def mutate_pickle(rng, pkl: bytes) -> tuple[bytes, str]:
    """Change one opcode of a valid pickle: its integer argument or length prefix, the opcode itself,
    or drop or repeat it."""
    try:
        ops = list(pickletools.genops(pkl))
    except Exception:  # already mutated beyond parsing: fall back to bytes
        return generic(rng, pkl)
    k = int(rng.integers(len(ops)))
    op, _, pos = ops[k]
    end = ops[k + 1][2] if k + 1 < len(ops) else len(pkl)
    r = rng.random()
    width = _ARG_WIDTH.get(op.arg.n) if op.arg is not None else None
    if r < 0.4 and width:
        value = edge_int(rng, width)
        return pkl[: pos + 1] + value.to_bytes(width, "little") + pkl[pos + 1 + width:], f"pickle:{op.name}-arg"
    if r < 0.65:
        code = _OPCODE_BYTES[int(rng.integers(len(_OPCODE_BYTES)))]
        return pkl[:pos] + code + pkl[pos + 1:], f"pickle:{op.name}-opcode"
    if r < 0.85:
        return pkl[:pos] + pkl[end:], f"pickle:drop-{op.name}"
    return pkl[:end] + pkl[pos:end] + pkl[end:], f"pickle:repeat-{op.name}"


def _zip_members(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(i.filename, z.read(i)) for i in z.infolist()]


def _rezip(members) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, raw in members:
            z.writestr(name, raw)
    return buf.getvalue()


def mutate_zip_member(rng, data: bytes) -> tuple[bytes, str]:
    """Rewrite a valid archive with one record changed (CRCs stay right): mostly data.pkl's pickle."""
    members = _zip_members(data)
    pkl = [i for i, (n, _) in enumerate(members) if n.endswith("/data.pkl")]
    i = pkl[0] if pkl and rng.random() < 0.6 else int(rng.integers(len(members)))
    name, raw = members[i]
    raw, what = mutate_pickle(rng, raw) if name.endswith(".pkl") else generic(rng, raw)
    members[i] = (name, raw)
    return _rezip(members), f"zip-member:{name.rsplit('/', 1)[-1]}:{what}"


def _zip_headers(data: bytes) -> list[tuple[int, bytes]]:
    """Offsets of local (PK\\3\\4), central (PK\\1\\2) and end-of-directory (PK\\5\\6) headers."""
    out = []
    for sig in (b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06"):
        i = data.find(sig)
        while i >= 0:
            out.append((i, sig))
            i = data.find(sig, i + 1)
    return out


# (offset, width) of the fields of each zip header worth corrupting.
_ZIP_FIELDS = {
    b"PK\x03\x04": [(6, 2), (8, 2), (14, 4), (18, 4), (22, 4), (26, 2), (28, 2), (30, 1)],  # flags, method, ...
    b"PK\x01\x02": [(8, 2), (10, 2), (16, 4), (20, 4), (24, 4), (28, 2), (30, 2), (42, 4), (46, 1)],
    b"PK\x05\x06": [(8, 2), (10, 2), (12, 4), (16, 4), (20, 2)],
}
_ZIP_METHODS = (1, 8, 9, 12, 14, 93, 98, 99, 0xFFFF)


def mutate_zip_field(rng, data: bytes) -> tuple[bytes, str]:
    """Corrupt one field of a zip header: compression method, flags, sizes, offsets, a name byte."""
    headers = _zip_headers(data)
    if not headers:
        return generic(rng, data)
    at, sig = headers[int(rng.integers(len(headers)))]
    off, width = _ZIP_FIELDS[sig][int(rng.integers(len(_ZIP_FIELDS[sig])))]
    if width == 1:  # a byte of the file name
        name_len = struct.unpack_from("<H", data, at + (26 if sig == b"PK\x03\x04" else 28))[0]
        i = at + off + int(rng.integers(max(1, name_len)))
        return data[:i] + bytes([data[i] ^ (1 << int(rng.integers(8))) if rng.random() < 0.7 else 0xFF]) \
            + data[i + 1:], "zip-field:name"
    is_method = (sig == b"PK\x03\x04" and off == 8) or (sig == b"PK\x01\x02" and off == 10)
    value = int(rng.choice(_ZIP_METHODS)) if is_method else edge_int(rng, width)
    if (sig, off) in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)) and rng.random() < 0.5:
        value = struct.unpack_from("<H", data, at + off)[0] ^ int(rng.choice([1, 8, 0x800, 0x40]))  # flag bits
    field = value.to_bytes(width, "little")
    return data[: at + off] + field + data[at + off + width:], f"zip-field:{sig[2]}-{off}"


def legacy_sections(data: bytes) -> tuple[list[tuple[int, int]], int]:
    """The legacy layout's five pickles as (start, end) ranges, and where the storages start."""
    spans, pos = [], 0
    for _ in range(5):
        end = pos
        for op, _, p in pickletools.genops(data[pos:]):
            end = pos + p + 1
            if op.name == "STOP":
                break
        spans.append((pos, end))
        pos = end
    return spans, pos


def mutate_legacy(rng, data: bytes) -> tuple[bytes, str]:
    try:
        spans, storages = legacy_sections(data)
    except Exception:
        return generic(rng, data)
    r = rng.random()
    if r < 0.3 and storages + 8 <= len(data):  # a storage's element count
        value = edge_int(rng, 8) if rng.random() < 0.7 else struct.unpack_from("<q", data, storages)[0] + 1
        return data[:storages] + struct.pack("<Q", value % 2**64) + data[storages + 8:], "legacy:storage-numel"
    k = 3 if r < 0.75 else int(rng.integers(5))  # mostly the object's pickle
    a, b = spans[k]
    pkl, what = mutate_pickle(rng, data[a:b])
    return data[:a] + pkl + data[b:], f"legacy-pickle{k}:{what}"


def mutate_idx(rng, data: bytes) -> tuple[bytes, str]:
    r = rng.random()
    if r < 0.2:
        return data[:2] + bytes([int(rng.choice([0, 1, 8, 9, 0x0B, 0x0C, 0x0D, 0x0E, 0xFF]))]) + data[3:], "idx:type"
    if r < 0.4:
        return data[:3] + bytes([int(rng.choice([0, 1, 2, 3, 4, 64, 65, 255]))]) + data[4:], "idx:ndim"
    ndim = data[3] if len(data) > 3 else 0
    if r < 0.8 and ndim and len(data) >= 4 + 4 * ndim:
        i = 4 + 4 * int(rng.integers(ndim))
        value = edge_int(rng, 4) if rng.random() < 0.7 else struct.unpack_from(">I", data, i)[0] + 1
        return data[:i] + struct.pack(">I", value % 2**32) + data[i + 4:], "idx:dim"
    return generic(rng, data)


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks, pos = [], 8
    while pos + 8 <= len(data):
        n, kind = struct.unpack_from(">I4s", data, pos)
        chunks.append((kind, data[pos + 8: pos + 8 + n]))
        pos += 12 + n
    return chunks


def _png(chunks) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"".join(
        struct.pack(">I", len(d)) + k + d + struct.pack(">I", zlib.crc32(k + d)) for k, d in chunks)


# Chunks that a mutated PNG may gain: malformed ancillary chunks that Pillow's parsers have tripped on.
_EXTRA_CHUNKS = (
    (b"iCCP", b"profile\x00"), (b"iCCP", b"p\x00\x00" + zlib.compress(b"x" * 64)), (b"iCCP", b"\x00"),
    (b"tRNS", b"\x00"), (b"tRNS", b"\x00" * 300), (b"PLTE", b"\x00" * 5), (b"zTXt", b"k\x00\x00" + b"\xff" * 8),
    (b"iTXt", b"k\x00\x01\x00\x00\x00" + zlib.compress(b"v")[:-2]), (b"eXIf", b"MM\x00*\x00\x00\x00\x08\xff\xff"),
    (b"pHYs", b"\x00"), (b"gAMA", b""), (b"sRGB", b""), (b"acTL", b"\x00\x00\x00\x02\xff\xff\xff\xff"),
    (b"fcTL", b"\x00" * 26), (b"tEXt", b"\xff" * 10), (b"sPLT", b"p\x00\x08"),
)


def mutate_png(rng, data: bytes) -> tuple[bytes, str]:
    """Chunk-aware mutations, CRCs recomputed so they get past the checksum to the chunk parsers."""
    try:
        chunks = _png_chunks(data)
    except struct.error:
        return generic(rng, data)
    if not chunks:
        return generic(rng, data)
    r = rng.random()
    if r < 0.25 and chunks[0][0] == b"IHDR" and len(chunks[0][1]) == 13:
        ihdr = bytearray(chunks[0][1])
        field = int(rng.integers(4))
        if field < 2:  # width or height
            value = int(rng.choice([0, 1, 100000, 10000, 65535, 2**31 - 1, 2**31, 2**32 - 1]))
            ihdr[4 * field: 4 * field + 4] = struct.pack(">I", value)
        else:  # bit depth, colour type, compression, filter or interlace method
            ihdr[int(rng.choice([8, 9, 10, 11, 12]))] = int(rng.choice([0, 1, 2, 3, 4, 6, 8, 16, 255]))
        chunks[0] = (b"IHDR", bytes(ihdr))
        return _png(chunks), "png:IHDR"
    if r < 0.45:
        i = int(rng.integers(1, len(chunks) + 1))
        extra = _EXTRA_CHUNKS[int(rng.integers(len(_EXTRA_CHUNKS)))]
        chunks.insert(min(i, len(chunks) - 1) if extra[0] != b"IHDR" else 0, extra)
        return _png(chunks), f"png:insert-{extra[0].decode()}"
    i = int(rng.integers(len(chunks)))
    if r < 0.7:
        kind, body = chunks[i]
        body, what = generic(rng, body)
        chunks[i] = (kind, body)
        return _png(chunks), f"png:{kind.decode(errors='replace')}-{what}"
    if r < 0.8:
        del chunks[i]
        return _png(chunks), "png:drop-chunk"
    if r < 0.9:  # a chunk length field that lies (the CRC no longer matters: the length is read first)
        out = _png(chunks)
        pos = 8 + sum(12 + len(d) for _, d in chunks[:i])
        value = int(rng.choice([2**31 - 1, 2**31, 2**32 - 1, 2**20, 0]))
        return out[:pos] + struct.pack(">I", value) + out[pos + 4:], "png:chunk-length"
    chunks.insert(i, chunks[i])
    return _png(chunks), "png:repeat-chunk"


def _jpeg_segments(data: bytes) -> list[tuple[int, int]]:
    """(offset, length field) of each marker segment before the scan data."""
    out, pos = [], 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        n = struct.unpack_from(">H", data, pos + 2)[0]
        out.append((pos, n))
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            break
        pos += 2 + n
    return out


def mutate_jpeg(rng, data: bytes) -> tuple[bytes, str]:
    segs = _jpeg_segments(data)
    r = rng.random()
    if not segs or r < 0.3:
        return generic(rng, data)
    pos, n = segs[int(rng.integers(len(segs)))]
    marker = data[pos + 1]
    if r < 0.5 and marker in (0xC0, 0xC1, 0xC2) and n >= 8:  # frame header: height, width, components
        i = pos + 5 + 2 * int(rng.integers(2)) if rng.random() < 0.8 else pos + 9
        width = 2 if i < pos + 9 else 1
        value = int(rng.choice([0, 1, 65535, 40000, 255])) % (1 << (8 * width))
        return data[:i] + value.to_bytes(width, "big") + data[i + width:], "jpeg:SOF"
    if r < 0.65:  # the segment length
        value = int(rng.choice([0, 1, 2, 3, n - 1, n + 1, 65535]))
        return data[: pos + 2] + struct.pack(">H", value % 65536) + data[pos + 4:], f"jpeg:length-{marker:02X}"
    body = data[pos + 4: pos + 2 + n]
    body, what = generic(rng, body)
    body = body[:65533]
    return data[: pos + 2] + struct.pack(">H", len(body) + 2) + body + data[pos + 2 + n:], f"jpeg:{marker:02X}-{what}"


def mutate_tokenizer_json(rng, data: bytes) -> tuple[bytes, str]:
    """One JSON-aware change to a tokenizer.json (a value of another type, an edge integer, a deleted or
    duplicated entry), written back as ASCII-escaped or raw UTF-8 (a lone surrogate then makes the bytes
    invalid UTF-8, which the reader must report too)."""
    obj, what = mutate_json(rng, json.loads(data))
    if rng.random() < 0.5:
        return json.dumps(obj).encode("ascii"), what
    return json.dumps(obj, ensure_ascii=False).encode("utf-8", "surrogatepass"), what


def _riff_chunks(data: bytes) -> list[tuple[bytes, int]]:
    """``(chunk id, offset of its size field)`` of a RIFF/WAVE file's top-level chunks."""
    chunks, pos = [], 12
    while pos + 8 <= len(data):
        cid, size = data[pos: pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        chunks.append((cid, pos + 4))
        pos += 8 + size + (size & 1)
    return chunks


# Fields of a WAV "fmt " chunk, as (offset from the chunk's data, width): format tag, channels, sample rate,
# byte rate, block align, bits per sample.
_WAV_FMT_FIELDS = ((0, 2), (2, 2), (4, 4), (8, 4), (12, 2), (14, 2))


def mutate_wav(rng, data: bytes) -> tuple[bytes, str]:
    """A WAV header field (a chunk size, or one of the "fmt " fields) set to an edge-case integer."""
    if data[:4] != b"RIFF":
        return generic(rng, data)
    chunks = _riff_chunks(data)
    fmt = [off for cid, off in chunks if cid == b"fmt "]
    if fmt and rng.random() < 0.6:
        rel, width = _WAV_FMT_FIELDS[int(rng.integers(len(_WAV_FMT_FIELDS)))]
        at = fmt[0] + 4 + rel
        return data[:at] + edge_int(rng, width).to_bytes(width, "little") + data[at + width:], f"wav:fmt+{rel}"
    cid, at = chunks[int(rng.integers(len(chunks)))] if chunks else (b"RIFF", 4)
    if rng.random() < 0.2:
        cid, at = b"RIFF", 4
    return data[:at] + struct.pack("<I", edge_int(rng, 4)) + data[at + 4:], f"wav:{cid.decode('latin-1')}-size"


# ---- valid seed files ------------------------------------------------------------------------

_SEEDS: dict[str, list[tuple[str, bytes]]] = {}


def seeds(reader: str) -> list[tuple[str, bytes]]:
    """The valid files mutations start from, as (label, bytes); built deterministically, once."""
    if reader not in _SEEDS:
        _SEEDS[reader] = _BUILDERS[reader]()
    return _SEEDS[reader]


def _native_seeds():
    import ember
    from ember import nn
    rng = np.random.default_rng(0)
    w = ember.from_numpy(rng.standard_normal((3, 4)).astype(np.float32))
    state = {"layer.weight": w, "layer.bias": ember.zeros(3), "steps": ember.arange(5),
             "mask": ember.tensor([True, False]), "half": ember.tensor([0.5, -2.0], dtype=ember.float16),
             "param": nn.Parameter(ember.ones(2, 2)), "tied": w, "meta": {"epoch": 3, "name": "run", 2: [1.5, None],
                                                                         "t": (b"raw", float("nan"))}}
    out = []
    for label, obj in (("state", state), ("tensor", ember.arange(6.0).reshape(2, 3)), ("list", [ember.tensor(1), 2])):
        buf = io.BytesIO()
        ember.save(obj, buf)
        out.append((label, buf.getvalue()))
    return out


def _safetensors_seeds():
    import ember
    buf = io.BytesIO()
    ember.save({"w": ember.arange(12.0).reshape(3, 4), "b": ember.zeros(3, dtype=ember.int64),
                "m": ember.tensor([True, False, True]), "h": ember.tensor([1.0, 2.0], dtype=ember.float16),
                "e": ember.zeros(0, 2)}, buf, format="safetensors", metadata={"format": "pt"})
    # Hand-built: a bfloat16 entry, and entries whose order in the header differs from their offsets.
    header = {"z": {"dtype": "BF16", "shape": [2], "data_offsets": [8, 12]},
              "a": {"dtype": "I32", "shape": [2], "data_offsets": [0, 8]}}
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    hand = struct.pack("<Q", len(raw)) + raw + np.array([1, -2], "<i4").tobytes() + np.array([0x3F80, 0xC040],
                                                                                           "<u2").tobytes()
    return [("ember-written", buf.getvalue()), ("hand-built", hand)]


def _pt_zip_seeds():
    return [(n, (CORE_DATA / n).read_bytes()) for n in ("torch_zip.pt", "torch_views.pt", "torch_linear_state.pt",
                                                         "torch_expand.pt")]


def objects_allowlist() -> list:
    """The classes a pt-objects case allowlists: Ember modules and standard-library value classes."""
    import argparse
    import datetime
    import fractions
    from ember import nn
    return [nn.Sequential, nn.Linear, nn.ReLU, nn.BatchNorm1d, argparse.Namespace, fractions.Fraction, datetime.date]


def _pt_objects_seeds():
    import argparse
    import datetime
    import fractions
    import ember
    from ember import nn
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.BatchNorm1d(4)).eval()
    base = ember.arange(12.0).reshape(3, 4)
    run = {"model": model, "args": argparse.Namespace(lr=0.1, name="run"), "ratio": fractions.Fraction(2, 7),
           "when": datetime.date(2024, 5, 6), "views": [base, base.t(), base[1:, 2:], base[0].expand(2, 4)],
           "steps": ember.arange(4), "extra": {"tags": {"a", "b"}, "half": ember.ones(2, dtype=ember.float16)}}
    out = []
    for label, obj in (("run", run), ("module", nn.Linear(2, 2))):
        buf = io.BytesIO()
        ember.save(obj, buf)
        out.append((label, buf.getvalue()))
    return out


def _pt_legacy_seeds():
    return [(n, (CORE_DATA / n).read_bytes()) for n in ("torch_legacy.pt", "torch_views_legacy.pt")]


def idx_bytes(arr: np.ndarray, code: int = 0x08) -> bytes:
    return bytes([0, 0, code, arr.ndim]) + b"".join(struct.pack(">I", n) for n in arr.shape) + arr.tobytes()


def _idx_seeds():
    rng = np.random.default_rng(0)
    images = idx_bytes(rng.integers(0, 256, (3, 5, 4), dtype=np.uint8))
    labels = idx_bytes(np.array([3, 0, 9], np.uint8))
    return [("images", images), ("labels", labels)]


def _cifar_seeds():
    rng = np.random.default_rng(0)
    batch = {"batch_label": "testing batch 1 of 1", "labels": [3, 8, 0, 9],
             "data": rng.integers(0, 256, (4, 3072), dtype=np.uint8), "filenames": ["a.png", "b.png", "c.png", "d.png"]}
    meta = {"num_cases_per_batch": 4, "label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                                                      "horse", "ship", "truck"], "num_vis": 3072}
    return [("test_batch", pickle.dumps(batch, protocol=2)), ("batches.meta", pickle.dumps(meta, protocol=2))]


def _png_seeds():
    from PIL import Image, PngImagePlugin
    rng = np.random.default_rng(0)
    rgb = Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8))
    out = []

    def add(label, img, **kw):
        buf = io.BytesIO()
        img.save(buf, format="PNG", **kw)
        out.append((label, buf.getvalue()))
    info = PngImagePlugin.PngInfo()
    info.add_text("k", "v")
    info.add_itxt("ik", "iv", zip=True)
    add("rgb", rgb, pnginfo=info)
    add("palette-transparent", rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=8), transparency=0)
    add("gray16", Image.fromarray(rng.integers(0, 65536, (5, 7)).astype(np.uint16)))
    add("rgba-icc", rgb.convert("RGBA"), icc_profile=b"\x00" * 128)
    add("interlaced-gray-alpha", rgb.convert("LA"), interlace=1)
    add("bilevel", rgb.convert("1"))
    return out


def _jpeg_seeds():
    from PIL import Image
    rng = np.random.default_rng(0)
    smooth = np.repeat(np.linspace(0, 255, 16, dtype=np.uint8)[None, :, None], 16, 0).repeat(3, 2)
    img = Image.fromarray(smooth ^ rng.integers(0, 16, smooth.shape, dtype=np.uint8))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate
    out = []
    for label, kw, im in (("baseline-exif", {"exif": exif.tobytes()}, img), ("progressive", {"progressive": True}, img),
                          ("gray", {}, img.convert("L")), ("cmyk", {}, img.convert("CMYK"))):
        buf = io.BytesIO()
        im.save(buf, format="JPEG", quality=80, **kw)
        out.append((label, buf.getvalue()))
    return out


def _tokenizer_json_seeds():
    """The two real tokenizer.json files of the text tests (WordPiece and byte-level BPE, written by the
    tokenizers package)."""
    data = Path(__file__).resolve().parents[1] / "text" / "data"
    return [(name, (data / f"{name}_corpus_tokenizer.json").read_bytes()) for name in ("wordpiece", "bpe")]


def _audio_seeds():
    """Short WAV files of every PCM width, float and mu-law, a FLAC and an OGG/Vorbis file (ember_audio.save)."""
    import ember
    import ember_audio
    rng = np.random.default_rng(0)
    wave = ember.from_numpy((0.5 * np.sin(np.arange(600) / 6) + 0.1 * rng.uniform(-1, 1, 600)).astype(np.float32))
    stereo = ember.stack([wave, -wave])
    out = []
    for label, fmt, src, kw in (("wav-u8", "wav", wave[None], {"bits_per_sample": 8}),
                                ("wav-s16-stereo", "wav", stereo, {"bits_per_sample": 16}),
                                ("wav-s24", "wav", wave[None], {"bits_per_sample": 24}),
                                ("wav-f32-stereo", "wav", stereo, {"encoding": "PCM_F"}),
                                ("wav-ulaw", "wav", wave[None], {"encoding": "ULAW"}),
                                ("flac-stereo", "flac", stereo, {}), ("ogg-vorbis", "ogg", wave[None], {})):
        buf = io.BytesIO()
        ember_audio.save(buf, src, 8000, format=fmt, **kw)
        out.append((label, buf.getvalue()))
    return out


_BUILDERS = {"native": _native_seeds, "safetensors": _safetensors_seeds, "pt-zip": _pt_zip_seeds,
             "pt-legacy": _pt_legacy_seeds, "idx": _idx_seeds, "cifar": _cifar_seeds, "png": _png_seeds,
             "jpeg": _jpeg_seeds, "pt-objects": _pt_objects_seeds,
             "tokenizer-json": _tokenizer_json_seeds, "audio": _audio_seeds}

# Structure-aware mutations per reader (the generic ones are used for every reader too).
_AWARE = {"native": mutate_native_header, "safetensors": mutate_safetensors, "pt-legacy": mutate_legacy,
          "idx": mutate_idx, "png": mutate_png, "jpeg": mutate_jpeg, "tokenizer-json": mutate_tokenizer_json,
          "audio": mutate_wav}


def _mutate_once(reader: str, rng, data: bytes) -> tuple[bytes, str]:
    if reader in _ZIPS:
        r = rng.random()
        try:
            if r < 0.45:
                return mutate_zip_member(rng, data)
            if r < 0.75:
                return mutate_zip_field(rng, data)
        except Exception:  # noqa: BLE001 - no longer a readable archive: mutate the bytes instead
            pass
        return generic(rng, data)
    if reader == "cifar":
        return mutate_pickle(rng, data) if rng.random() < 0.6 else generic(rng, data)
    if reader in _AWARE and rng.random() < 0.6:
        try:
            return _AWARE[reader](rng, data)
        except Exception:  # noqa: BLE001 - an earlier mutation broke the structure: mutate the bytes instead
            pass
    return generic(rng, data)


class Case:
    """One fuzz case: the files to write, which one was mutated, the reader's options."""

    def __init__(self, reader: str, seed: int, index: int):
        self.reader, self.seed, self.index = reader, seed, index
        rng = np.random.default_rng([seed, READERS.index(reader), index])
        pool = seeds(reader)
        label, data = pool[int(rng.integers(len(pool)))]
        steps = []
        gz = reader == "idx" and rng.random() < 0.4
        for _ in range(int(rng.choice([1, 1, 1, 2, 3]))):
            data, what = _mutate_once(reader, rng, data)
            steps.append(what)
        if gz:
            data = gzip.compress(data, mtime=0)
            if rng.random() < 0.3:  # and corrupt the compressed stream too
                data, what = generic(rng, data)
                steps.append(f"gz:{what}")
        self.label, self.data, self.gz = label, data, gz
        self.option = float(rng.random())  # reader options: mode, file object or path, ...
        self.description = f"{reader} seed={seed} index={index} from {label!r}: {' + '.join(steps)}"

    def write(self, root: Path) -> tuple[Path, object]:
        """Write the case's files under ``root``; returns the mutated file and what to load."""
        if self.reader == "idx":
            raw = root / "MNIST" / "raw"
            raw.mkdir(parents=True, exist_ok=True)
            files = {"images": "t10k-images-idx3-ubyte", "labels": "t10k-labels-idx1-ubyte"}
            target = None
            for label, data in seeds("idx"):
                name = files[label]
                if label == self.label:
                    path = raw / (name + (".gz" if self.gz else ""))
                    path.write_bytes(self.data)
                    target = path
                else:
                    (raw / name).write_bytes(data)
            return target, root
        if self.reader == "cifar":
            folder = root / "cifar-10-batches-py"
            folder.mkdir(parents=True, exist_ok=True)
            for label, data in seeds("cifar"):
                (folder / label).write_bytes(self.data if label == self.label else data)
            return folder / self.label, root
        suffix = {"png": ".png", "jpeg": ".jpg", "safetensors": ".safetensors", "native": ".ember",
                  "tokenizer-json": ".json", "audio": "." + self.label.split("-")[0]}.get(self.reader, ".pt")
        path = root / f"case{suffix}"
        path.write_bytes(self.data)
        return path, path


# ---- running a case (in a worker) ------------------------------------------------------------

def _documented_errors(reader: str) -> tuple:
    if reader in _CHECKPOINTS:
        from ember.serialization import CheckpointError, UnsafeUnpicklingError
        return CheckpointError, UnsafeUnpicklingError
    if reader == "idx":
        from ember_vision.datasets import DatasetFormatError
        return (DatasetFormatError,)
    if reader == "cifar":
        from ember.serialization import UnsafeUnpicklingError
        from ember_vision.datasets import DatasetFormatError
        return DatasetFormatError, UnsafeUnpicklingError
    if reader == "tokenizer-json":
        from ember_text.tokenizers import TokenizerError
        return (TokenizerError,)
    if reader == "audio":
        from ember_audio import AudioDecodeError
        return (AudioDecodeError,)
    from ember_vision.io import ImageDecodeError
    return (ImageDecodeError,)


# Accents, CJK, emoji, digits, a URL, code and runs of whitespace: every pre-tokenizer and normalizer path.
TOKENIZER_SAMPLE = "Héllo wörld! 你好 😀 12345 https://ex.ample/a?b=1 def f(x): return x**2\t\n  end"


def _load(case: Case, what):
    """Run the case's reader on ``what`` (a path, or a dataset's root)."""
    if case.reader in _CHECKPOINTS:
        import ember
        allowed = objects_allowlist() if case.reader == "pt-objects" else []
        with ember.serialization.safe_globals(allowed):
            if case.option < 0.25:  # through a file object (named by its .name)
                with open(what, "rb") as fh:
                    return ember.load(fh)
            return ember.load(what)
    if case.reader == "idx":
        from ember_vision.datasets import MNIST
        return MNIST(what, train=False)
    if case.reader == "cifar":
        from ember_vision.datasets import CIFAR10
        return CIFAR10(what, train=False)
    if case.reader == "tokenizer-json":  # a file that loads must also encode and decode
        from ember_text.tokenizers import Tokenizer
        tok = Tokenizer.from_file(what)
        enc = tok.encode(TOKENIZER_SAMPLE, "and a second sentence")
        tok.decode(enc.ids)
        return tok
    if case.reader == "audio":  # metadata, then samples: whole, a slice, or integers (normalize=False)
        return _load_audio(case, what)
    from ember_vision import io as vio
    modes = list(vio.ImageReadMode)
    mode = modes[int(case.option * 10) % len(modes)]
    exif = case.option * 100 % 2 < 1
    if case.option < 0.2:  # encoded bytes in a tensor: named "data (N bytes)"
        return vio.decode_image(vio.read_file(what), mode, exif)
    return vio.read_image(what, mode, exif)


def _load_audio(case: Case, path):
    import ember_audio
    offset, frames = (int(case.option * 1000) % 300, 200) if case.option * 10 % 1 < 0.3 else (0, -1)
    if case.option < 0.25:  # through a file object (named by its .name)
        with open(path, "rb") as fh:
            ember_audio.info(fh)
            fh.seek(0)
            return ember_audio.load(fh, offset, frames, normalize=case.option < 0.1)
    ember_audio.info(path)
    return ember_audio.load(path, offset, frames, normalize=case.option * 100 % 2 < 1)


def _loaded_bytes(obj, seen=None) -> int:
    """Bytes of the distinct arrays behind the tensors in ``obj`` (arrays viewed several times count once),
    through containers and the attributes of loaded objects (a module's parameters and buffers)."""
    import ember
    seen = set() if seen is None else seen
    if id(obj) in seen:  # shared or cyclic structure: counted once
        return 0
    if isinstance(obj, ember.Tensor):
        arr = _owner(obj._data)
        if id(arr) in seen:
            return 0
        seen.add(id(arr))
        return arr.nbytes
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        return obj.nbytes
    if isinstance(obj, dict):
        return sum(_loaded_bytes(k, seen) + _loaded_bytes(v, seen) for k, v in obj.items())
    if isinstance(obj, (list, tuple, set, frozenset)):
        return sum(_loaded_bytes(v, seen) for v in obj)
    state = getattr(obj, "__dict__", None)
    return _loaded_bytes(state, seen) if isinstance(state, dict) else 0


def _owner(arr: np.ndarray) -> np.ndarray:
    """The array that owns ``arr``'s memory (through ``as_strided``'s DummyArray wrapper too)."""
    while True:
        base = arr.base
        if isinstance(base, np.ndarray):
            arr = base
        elif isinstance(getattr(base, "base", None), np.ndarray):
            arr = base.base
        else:
            return arr


def run_case(case: Case, workdir: Path) -> dict:
    """Load one mutated file and classify the outcome (the worker's job)."""
    errors = _documented_errors(case.reader)
    root = Path(tempfile.mkdtemp(dir=workdir))
    started = time.perf_counter()
    out = {"reader": case.reader, "index": case.index, "description": case.description}
    try:
        target, what = case.write(root)
        result = _load(case, what)
        out["status"] = "loaded"
        if case.reader in _CHECKPOINTS:
            held = _loaded_bytes(result)
            if held > 2 * len(case.data) + 4096:  # bfloat16 widening doubles at most
                out["status"] = "FAIL"
                out["error"] = "amplification"
                out["message"] = f"a {len(case.data)}-byte file loaded into {held} bytes"
        del result
    except errors as e:
        text = str(e)
        out["error"], out["message"] = type(e).__name__, text[:400]
        out["status"] = "rejected" if name_in(text, case, target) else "FAIL"
        if out["status"] == "FAIL":
            out["message"] = "message doesn't name the file: " + out["message"]
    except Exception as e:  # noqa: BLE001 - any other exception is what the suite exists to find
        out["status"], out["error"] = "FAIL", type(e).__name__
        out["message"] = f"{e!s:.300}\n{traceback.format_exc()[-1500:]}"
    finally:
        out["seconds"] = round(time.perf_counter() - started, 4)
        _rmtree(root)
    return out


def name_in(text: str, case: Case, target: Path) -> bool:
    if case.reader in ("png", "jpeg") and case.option < 0.2:
        return f"data ({len(case.data)} bytes)" in text
    return str(target) in text


def _rmtree(root: Path) -> None:
    for p in sorted(root.rglob("*"), reverse=True):
        p.rmdir() if p.is_dir() else p.unlink()
    root.rmdir()


def worker_main(cap: int, workdir: Path) -> None:
    """Serve cases from stdin (``reader seed index`` per line), one JSON answer per line, writing
    their files under ``workdir`` (the parent removes it, even if this process is killed)."""
    import resource
    import warnings
    import ember  # noqa: F401 - imported before the cap, as every reader needs it
    import ember_vision.datasets  # noqa: F401
    import ember_vision.io  # noqa: F401
    import ember_text.tokenizers  # noqa: F401
    import ember_audio._io  # noqa: F401
    import soundfile  # noqa: F401 - and libsndfile, loaded before the cap
    warnings.simplefilter("ignore")  # bfloat16 widening, Pillow's decompression-bomb warning
    for reader in READERS:
        seeds(reader)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    print("ready", flush=True)
    for line in sys.stdin:
        reader, seed, index = line.split()
        try:
            out = run_case(Case(reader, int(seed), int(index)), workdir)
        except MemoryError:  # even building the case: report it rather than die
            out = {"reader": reader, "index": int(index), "status": "FAIL", "error": "MemoryError",
                   "message": "MemoryError outside the reader", "description": f"{reader} {seed} {index}"}
        print(json.dumps(out), flush=True)


# ---- the parent side: workers with timeouts ----------------------------------------------------

class Worker:
    """A worker subprocess (``run_cases`` feeds it cases and replaces it if it dies or hangs)."""

    def __init__(self, cap: int = MEMORY_CAP):
        self.cap = cap
        self.proc = None
        self.log = None

    def start(self) -> None:
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
                   PYTHONHASHSEED="0")
        self.log = tempfile.TemporaryFile()
        self.dir = tempfile.mkdtemp(prefix="ember-fuzz-")
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--worker", str(self.cap),
                                      "--workdir", self.dir],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, env=env)
        line = self._readline(START_TIMEOUT_S)
        if line != b"ready\n":
            raise RuntimeError(f"fuzz worker failed to start: {line!r} {self._stderr()}")

    def _readline(self, timeout: float):
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        return self.proc.stdout.readline() if ready else None

    def _stderr(self) -> str:
        self.log.seek(0)
        return self.log.read()[-2000:].decode(errors="replace")

    def stop(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            self.proc.stdin.close()
            self.proc.stdout.close()
            self.proc = None
            self.log.close()
            shutil.rmtree(self.dir, ignore_errors=True)


def run_cases(reader: str, seed: int, indices, workers: int = 1, timeout: float = CASE_TIMEOUT_S,
              pool: list | None = None) -> list[dict]:
    """Run cases ``indices`` of ``reader`` on ``workers`` new worker processes, or on the (started)
    workers of ``pool``, which are left running for the caller to reuse."""
    own = pool is None
    pool = [Worker() for _ in range(workers)] if own else pool
    indices = list(indices)
    results = []
    pending = {}  # worker -> (case index, when it was sent)
    try:
        for w in pool:
            if w.proc is None:
                w.start()
        todo = collections.deque(indices)
        while todo or pending:
            for w in pool:
                if w not in pending and todo:
                    i = todo.popleft()
                    if w.proc is None or w.proc.poll() is not None:
                        w.start()
                    w.proc.stdin.write(f"{reader} {seed} {i}\n".encode())
                    w.proc.stdin.flush()
                    pending[w] = (i, time.monotonic())
            ready, _, _ = select.select([w.proc.stdout for w in pending], [], [], 1.0)
            for w in list(pending):
                i, since = pending[w]
                if w.proc.stdout in ready:
                    line = w.proc.stdout.readline()
                    if line:
                        results.append(json.loads(line))
                    else:
                        results.append(_failed(w, reader, seed, i, f"crash (exit {w.proc.wait()})"))
                        w.stop()
                    del pending[w]
                elif time.monotonic() - since > timeout:
                    results.append(_failed(w, reader, seed, i, "timeout"))
                    w.stop()
                    del pending[w]
    finally:
        for w in pool:
            if own or w in pending:
                w.stop()
    return sorted(results, key=lambda r: r["index"])


def _failed(w: Worker, reader: str, seed: int, index: int, what: str) -> dict:
    return {"reader": reader, "index": index, "status": "FAIL", "error": what, "message": w._stderr(),
            "description": Case(reader, seed, index).description}


def summarize(results: list[dict]) -> dict:
    """Counts of outcomes: loaded, rejected (per error class) and failures (with their cases)."""
    rejected = collections.Counter(r["error"] for r in results if r["status"] == "rejected")
    return {"cases": len(results), "loaded": sum(r["status"] == "loaded" for r in results),
            "rejected": sum(rejected.values()), "by_error": dict(sorted(rejected.items())),
            "failures": [r for r in results if r["status"] == "FAIL"],
            "slowest_s": max((r.get("seconds", 0) for r in results), default=0)}


def format_summary(reader: str, s: dict) -> str:
    errors = ", ".join(f"{k} {v}" for k, v in s["by_error"].items()) or "-"
    return (f"{reader:12s} {s['cases']:6d} cases: {s['loaded']:5d} loaded, {s['rejected']:5d} rejected ({errors}), "
            f"{len(s['failures'])} failures; slowest case {s['slowest_s']:.2f} s")


def format_failures(failures: list[dict], limit: int = 10) -> str:
    return "\n".join(f"- {f['description']}\n  {f['error']}: {f['message'][:1200]}" for f in failures[:limit])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", type=int, metavar="MEMORY_CAP", help=argparse.SUPPRESS)
    ap.add_argument("--workdir", help=argparse.SUPPRESS)
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--reader", action="append", choices=READERS)
    ap.add_argument("--save-failures", metavar="DIR", help="write each failing case's mutated file there")
    args = ap.parse_args(argv)
    if args.worker:
        worker_main(args.worker, Path(args.workdir))
        return 0
    failed = 0
    for reader in args.reader or READERS:
        results = run_cases(reader, args.seed, range(args.cases), args.workers)
        s = summarize(results)
        print(format_summary(reader, s), flush=True)
        if s["failures"]:
            failed += len(s["failures"])
            print(format_failures(s["failures"], 20), flush=True)
            if args.save_failures:
                os.makedirs(args.save_failures, exist_ok=True)
                for f in s["failures"]:
                    case = Case(reader, args.seed, f["index"])
                    Path(args.save_failures, f"{reader}-{args.seed}-{f['index']}").write_bytes(case.data)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
