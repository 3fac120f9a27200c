"""Issue 12: malformed files fail with the documented errors, naming the file, and never with an
internal exception, a huge allocation or silently wrong numbers. One test group per finding, each with
the issue's reproduction; the fuzz suite (tests/fuzz) keeps it so for every reader."""
import contextlib
import io
import json
import os
import pickle
import pickletools
import re
import signal
import socket
import struct
import subprocess
import sys
import time
import tracemalloc
import warnings
import zipfile
import zlib

import numpy as np
import pytest

import ember
from ember import serialization
from ember.serialization import CheckpointError, CheckpointUnpicklingError, UnsafeUnpicklingError

DATA = os.path.join(os.path.dirname(__file__), "data")
NAME = "ckpt.bin"


def load_bytes(data: bytes, name: str = NAME):
    buf = io.BytesIO(data)
    buf.name = name
    return ember.load(buf)


def fixture(name: str) -> bytes:
    with open(os.path.join(DATA, name), "rb") as f:
        return f.read()


@contextlib.contextmanager
def peak_allocation(limit: int):
    """Fail if Python/NumPy allocations inside the block peak above ``limit`` bytes."""
    tracemalloc.start()
    try:
        yield
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < limit, f"allocated up to {peak} bytes"


def refused(data: bytes, match: str, error=CheckpointError, name: str = NAME):
    with pytest.raises(error, match=match) as info:
        load_bytes(data, name)
    assert str(info.value).startswith(repr(name)), str(info.value)  # the message names the file first
    return info.value


def safetensors_blob(header, data: bytes = b"") -> bytes:
    raw = json.dumps(header).encode() if not isinstance(header, bytes) else header
    return struct.pack("<Q", len(raw)) + raw + data


def native_file(header, data: bytes) -> bytes:
    raw = json.dumps(header).encode()
    pre = b"\x89EMB\r\n\x1a\n" + struct.pack("<IQ", 1, len(raw)) + raw
    return pre + bytes(-len(pre) % 64) + data


def native_header(**entry):
    e = {"dtype": "float32", "shape": [2], "offset": 0, "nbytes": 8, "crc32": zlib.crc32(bytes(8)), "device": "cpu"}
    e.update(entry)
    return {"data_size": 8, "tensors": [e], "root": {"type": "tensor", "index": 0}}


# ---- the documented error classes ------------------------------------------------------------

def test_error_classes_keep_pytorchs_base_classes():
    assert issubclass(CheckpointError, RuntimeError)  # torch.load: RuntimeError for broken zip files
    assert issubclass(CheckpointUnpicklingError, CheckpointError)
    assert issubclass(CheckpointUnpicklingError, pickle.UnpicklingError)  # what weights_only loading raises
    assert issubclass(UnsafeUnpicklingError, pickle.UnpicklingError)
    for cls in (CheckpointError, CheckpointUnpicklingError, UnsafeUnpicklingError):
        assert cls.__name__ in serialization.__doc__
    err = refused(fixture("torch_legacy.pt")[:150], "can't unpickle", CheckpointUnpicklingError)
    assert isinstance(err, RuntimeError) and isinstance(err, pickle.UnpicklingError)


def test_unnamed_streams_are_named_by_type(tmp_path):
    with pytest.raises(CheckpointError, match=r"^<BytesIO>: the file is empty"):
        ember.load(io.BytesIO())
    path = tmp_path / "empty.pt"
    path.write_bytes(b"")
    with pytest.raises(CheckpointError, match=re.escape(repr(str(path)))):
        ember.load(path)


# ---- finding 1: shapes, ranks, counts and byte ranges checked before allocating ----------------

def test_f1_issue_reproduction_safetensors_shape_0_by_2_64():
    h = json.dumps({"w": {"dtype": "F32", "shape": [0, 2**64], "data_offsets": [0, 0]}}).encode()
    with pytest.raises(CheckpointError, match=r"^<BytesIO>: tensor 'w' has an impossibly large shape"):
        ember.load(io.BytesIO(struct.pack("<Q", len(h)) + h))


@pytest.mark.parametrize("shape, offsets, match", [
    ([1] * 70, [0, 4], "70 dimensions; at most 64"),
    ([0, 2**63], [0, 0], "impossibly large shape"),
    ([2**31, 2**31, 2**31], [0, 0], "impossibly large shape|don't match"),
    ([2**20, 2**20], [0, 2**42], "outside the 0-byte data buffer"),
])
def test_f1_safetensors_shapes(shape, offsets, match):
    with peak_allocation(1 << 20):
        refused(safetensors_blob({"w": {"dtype": "F32", "shape": shape, "data_offsets": offsets}}), match)


@pytest.mark.parametrize("entry, match", [
    ({"shape": [0, 2**64], "nbytes": 0}, "impossibly large shape"),
    ({"shape": [1] * 70, "nbytes": 4}, "70 dimensions"),
    ({"shape": [2**40], "nbytes": 2**42}, "lies outside the data section"),
])
def test_f1_native_shapes(entry, match):
    with peak_allocation(1 << 20):
        refused(native_file(native_header(**entry), bytes(8)), match)


def legacy_spans(blob: bytes) -> list:
    """The legacy layout's five pickles (magic, protocol, system info, object, storage keys) as
    (start, end) byte ranges; the storages follow the last one."""
    spans, pos = [], 0
    for _ in range(5):
        for op, _, p in pickletools.genops(blob[pos:]):
            if op.name == "STOP":
                spans.append((pos, pos + p + 1))
                pos += p + 1
                break
    return spans


def legacy_storage_offset(blob: bytes) -> int:
    """Where the first storage (its int64 element count) starts."""
    return legacy_spans(blob)[-1][1]


@pytest.mark.parametrize("numel", [2**40, 2**26, 2**63 - 1])
def test_f1_issue_reproduction_legacy_storage_count(tmp_path, numel):
    blob = bytearray(fixture("torch_legacy.pt"))
    at = legacy_storage_offset(bytes(blob))
    blob[at: at + 8] = struct.pack("<q", numel)
    path = tmp_path / "big.pt"
    path.write_bytes(bytes(blob))
    with peak_allocation(4 << 20):  # 2**26 floats (256 MB) would fit in memory: nothing is allocated first
        expected = "file is truncated or corrupted|storage .* impossibly large"
        with pytest.raises(CheckpointError, match=rf"^{re.escape(repr(str(path)))}: ({expected})"):
            ember.load(path)


def legacy_with_object(object_pkl: bytes) -> bytes:
    head = [0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001, "little_endian": True}]
    return b"".join(pickle.dumps(v, protocol=2) for v in head) + object_pkl + pickle.dumps([], protocol=2)


@pytest.mark.parametrize("opcode", [pickle.BINBYTES8, pickle.BINUNICODE8, pickle.BYTEARRAY8])
def test_f1_pickle_length_fields_dont_allocate(tmp_path, opcode):
    # A 2**40-byte string in a 60-byte file: read from a path, Python would allocate it before reading.
    path = tmp_path / "long.pt"
    path.write_bytes(legacy_with_object(b"\x80\x04" + opcode + struct.pack("<Q", 2**40) + b"abc."))
    with peak_allocation(4 << 20):
        with pytest.raises(CheckpointUnpicklingError, match="can't unpickle the object"):
            ember.load(path)


# ---- finding 2: header values of the wrong JSON type --------------------------------------------

@pytest.mark.parametrize("entry", [
    {"dtype": ["F32"], "shape": [1], "data_offsets": [0, 4]},
    {"dtype": None, "shape": [1], "data_offsets": [0, 4]},
    {"dtype": {"F32": 1}, "shape": [1], "data_offsets": [0, 4]},
    {"dtype": "F32", "shape": {"a": 1}, "data_offsets": [0, 4]},
    {"dtype": "F32", "shape": [1.0], "data_offsets": [0, 4]},
    {"dtype": "F32", "shape": [True], "data_offsets": [0, 4]},
    {"dtype": "F32", "shape": [[1]], "data_offsets": [0, 4]},
    {"dtype": "F32", "shape": [1], "data_offsets": "0,4"},
    {"dtype": "F32", "shape": [1], "data_offsets": [0, "4"]},
    {"dtype": "F32", "shape": [1], "data_offsets": {"begin": 0}},
    {"dtype": "F32", "shape": [1]},
    [1, 2],
    "F32",
])
def test_f2_safetensors_value_types(entry):
    refused(safetensors_blob({"w": entry}, bytes(4)), "corrupted safetensors header: tensor 'w'")


@pytest.mark.parametrize("header, match", [
    ({"__metadata__": [1]}, "__metadata__ must map strings to strings"),
    ({"__metadata__": {"a": 1}}, "__metadata__ must map strings to strings"),
    (b'{"w": {"dtype": "F32"', "not valid JSON"),
    (b'{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "w": {}}', "duplicate key 'w'"),
])
def test_f2_safetensors_header_types(header, match):
    refused(safetensors_blob(header, bytes(4)), match)


@pytest.mark.parametrize("change", [
    {"dtype": ["float32"]}, {"shape": {"a": 1}}, {"shape": "2"}, {"offset": "0"}, {"nbytes": 8.0},
    {"crc32": "x"}, {"device": 5},
])
def test_f2_native_value_types(change):
    refused(native_file(native_header(**change), bytes(8)), "corrupted header")


@pytest.mark.parametrize("header", [
    {"data_size": 8, "tensors": {}, "root": None}, {"data_size": "8", "tensors": [], "root": None},
    {"data_size": 8, "tensors": [], "root": {"type": 5}}, {"data_size": 8, "tensors": [], "root": {"type": "size",
                                                                                                    "items": "ab"}},
    {"data_size": 8, "tensors": [[]], "root": {"type": "tensor", "index": 0}},
])
def test_f2_native_header_types(header):
    refused(native_file(header, bytes(8)), "corrupted header")


# ---- finding 3: safetensors offsets must tile the data buffer ------------------------------------

# What the reference writer (safetensors.numpy.save({"w": np.arange(4, dtype=np.float32)})) writes:
# the JSON header, padded with spaces to a multiple of 8 bytes, then the data.
REFERENCE = (struct.pack("<Q", 56) + b'{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}} '
             + np.arange(4, dtype="<f4").tobytes())


def test_f3_ember_writes_the_reference_bytes():
    buf = io.BytesIO()
    ember.save({"w": ember.arange(4, dtype=ember.float32)}, buf, format="safetensors")
    assert buf.getvalue() == REFERENCE
    assert load_bytes(REFERENCE)["w"].tolist() == [0.0, 1.0, 2.0, 3.0]


@pytest.mark.parametrize("delta", [-1, 1, -8, 8])
def test_f3_issue_reproduction_header_length_off(delta):
    n = struct.unpack_from("<Q", REFERENCE)[0]
    refused(struct.pack("<Q", n + delta) + REFERENCE[8:], "corrupted safetensors")


def two_tensors(a, b, size: int) -> bytes:
    return safetensors_blob({"a": {"dtype": "F32", "shape": [4], "data_offsets": a},
                             "b": {"dtype": "F32", "shape": [4], "data_offsets": b}}, bytes(size))


@pytest.mark.parametrize("blob, match", [
    (two_tensors([0, 16], [8, 24], 24), r"tensor 'b'.*\[8, 24\] overlaps 'a'"),
    (two_tensors([0, 16], [0, 16], 16), "overlaps 'a'"),
    (two_tensors([0, 16], [20, 36], 36), "leaves a gap of 4 bytes after 'a'"),
    (two_tensors([4, 20], [20, 36], 36), "starts at byte 4 instead of 0"),
    (two_tensors([0, 16], [16, 32], 40), "the tensors cover 32 bytes of data but the data buffer holds 40"),
    (REFERENCE + b"\x00", "cover 16 bytes of data but the data buffer holds 17"),
])
def test_f3_offsets_must_tile_the_buffer(blob, match):
    refused(blob, match)


def test_f3_entries_in_any_header_order_load():
    data = np.array([1.5, -2.0], "<f4").tobytes() + np.array([7, 8], "<i8").tobytes()
    blob = safetensors_blob({"later": {"dtype": "I64", "shape": [2], "data_offsets": [8, 24]},
                             "first": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                             "empty": {"dtype": "F32", "shape": [0, 3], "data_offsets": [8, 8]}}, data)
    out = load_bytes(blob)
    assert list(out) == ["later", "first", "empty"]
    assert out["later"].tolist() == [7, 8] and out["first"].tolist() == [1.5, -2.0] and out["empty"].shape == (0, 3)


# ---- finding 4: legacy storage key lists ------------------------------------------------------

def with_storage_keys(keys_pickle: bytes) -> bytes:
    blob = fixture("torch_legacy.pt")
    start, end = legacy_spans(blob)[4]
    return blob[:start] + keys_pickle + blob[end:]


@pytest.mark.parametrize("keys", [[["0"]], [{}], [{"0"}], "0123", {"0": 1}, [0, 1], None])
def test_f4_issue_reproduction_unhashable_storage_keys(keys):
    refused(with_storage_keys(pickle.dumps(keys, protocol=2)), "the storage key list .* doesn't match")


def test_f4_duplicated_storage_keys():
    blob = fixture("torch_legacy.pt")
    start, end = legacy_spans(blob)[4]
    keys = pickle.loads(blob[start:end])
    assert keys and all(type(k) is str for k in keys)
    refused(with_storage_keys(pickle.dumps(keys + keys[:1], protocol=2)), "the storage key list")


# ---- finding 5: zip-level corruption ------------------------------------------------------------

def zip_entries(blob: bytes, kind: bytes):
    """Offsets of each central-directory (b"PK\\1\\2") or local (b"PK\\3\\4") header, with its file name."""
    name_at = 28 if kind == b"PK\x01\x02" else 26
    start = 46 if kind == b"PK\x01\x02" else 30
    out, i = {}, blob.find(kind)
    while i >= 0:
        n = struct.unpack_from("<H", blob, i + name_at)[0]
        out[blob[i + start: i + start + n].decode()] = i
        i = blob.find(kind, i + 1)
    return out


def patch(blob: bytes, at: int, fmt: str, value) -> bytes:
    return blob[:at] + struct.pack(fmt, value) + blob[at + struct.calcsize(fmt):]


ZIP = fixture("torch_zip.pt")
CENTRAL = zip_entries(ZIP, b"PK\x01\x02")
LOCAL = zip_entries(ZIP, b"PK\x03\x04")


@pytest.mark.parametrize("method", [8, 12, 14, 99, 0xFFFF])
def test_f5_issue_reproduction_compression_method_changed(method):
    # Deflate over stored bytes made zlib.error leak; unknown methods NotImplementedError.
    blob = patch(ZIP, CENTRAL["torch_zip/data.pkl"] + 10, "<H", method)
    refused(blob, "record 'torch_zip/data.pkl' uses zip compression method|data.pkl")


def test_f5_deflated_records_are_read():
    members = {}
    with zipfile.ZipFile(io.BytesIO(ZIP)) as z:
        for info in z.infolist():
            members[info.filename] = z.read(info)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, raw in members.items():
            z.writestr(name, raw)
    with pytest.warns(UserWarning, match="bfloat16"):
        assert load_bytes(buf.getvalue())["steps"].tolist() == [-4, -1, 2, 5, 8]


def test_f5_issue_reproduction_flipped_bit_in_a_file_name():
    at = LOCAL["torch_zip/data.pkl"] + 30 + 2  # a byte of the name in the local header only
    refused(ZIP[:at] + bytes([ZIP[at] ^ 0x01]) + ZIP[at + 1:], "record 'torch_zip/data.pkl'.*BadZipFile")


def test_f5_invalid_utf8_file_name():
    at = CENTRAL["torch_zip/byteorder"] + 46 + 3  # the UTF-8 flag is set: 0xFF can't decode
    refused(ZIP[:at] + b"\xff" + ZIP[at + 1:], "not a readable zip archive.*UnicodeDecodeError")


def test_f5_encrypted_flag():
    at = CENTRAL["torch_zip/data.pkl"] + 8
    flags = struct.unpack_from("<H", ZIP, at)[0]
    refused(patch(ZIP, at, "<H", flags | 1), "record 'torch_zip/data.pkl'.*encrypted")


def test_f5_bad_crc_of_a_storage():
    key = next(k for k in CENTRAL if k.startswith("torch_zip/data/") and struct.unpack_from(
        "<I", ZIP, CENTRAL[k] + 24)[0] > 8)
    at = CENTRAL[key] + 16
    refused(patch(ZIP, at, "<I", struct.unpack_from("<I", ZIP, at)[0] ^ 1), "Bad CRC-32")


@pytest.mark.parametrize("field, value, match", [
    (24, 2**32 - 1, r"holds 4294967295 bytes, expected"),  # uncompressed size of a storage
    (20, 2**32 - 1, "claims"),                              # its compressed size
])
def test_f5_record_sizes_are_checked_before_reading(field, value, match):
    key = next(k for k in CENTRAL if k.startswith("torch_zip/data/"))
    with peak_allocation(8 << 20):
        refused(patch(ZIP, CENTRAL[key] + field, "<I", value), match)


def test_f5_truncated_archive():
    refused(ZIP[: len(ZIP) // 2], "not a readable zip archive")


# ---- finding 6: image decoding (ember_vision.io) ------------------------------------------------

def png(chunks, width=2, height=2, depth=8, color=2) -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0)
    rows = b"".join(b"\x00" + bytes(3 * min(width, 4)) for _ in range(min(height, 2)))
    body = b"".join(chunk(k, d) for k, d in chunks) if chunks is not None else chunk(b"IDAT", zlib.compress(rows))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + body + chunk(b"IEND", b"")


@pytest.fixture
def vio():
    pytest.importorskip("PIL")
    return pytest.importorskip("ember_vision.io")


def read_refused(vio, tmp_path, data: bytes, match: str, name="img.png"):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(vio.ImageDecodeError, match=match) as info:
        vio.read_image(path)
    assert isinstance(info.value, RuntimeError)
    assert f"could not decode image file {str(path)!r}" in str(info.value)
    return info.value


def test_f6_valid_png_decodes(vio, tmp_path):
    path = tmp_path / "ok.png"
    path.write_bytes(png(None))
    assert vio.read_image(path).shape == (3, 2, 2)


def test_f6_issue_reproduction_malformed_iccp(vio, tmp_path):
    idat = zlib.compress(b"\x00" * 7 * 2)  # an iCCP chunk after the image data is parsed by load(), not open()
    read_refused(vio, tmp_path, png([(b"IDAT", idat), (b"iCCP", b"profile\x00")]), "IndexError")
    read_refused(vio, tmp_path, png([(b"iCCP", b"profile\x00"), (b"IDAT", idat)]), "cannot identify image file")


@pytest.mark.parametrize("size", [(100000, 100000), (10000, 10000)])  # over 2x Pillow's limit, and just over it
def test_f6_issue_reproduction_decompression_bomb(vio, tmp_path, size):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns about the smaller one before we refuse it
        read_refused(vio, tmp_path, png(None, *size), "pixels exceed PIL.Image.MAX_IMAGE_PIXELS|DecompressionBomb")


def test_f6_bomb_warning_as_error(vio, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_refused(vio, tmp_path, png(None, 10000, 10000), "DecompressionBombWarning")


def test_f6_issue_reproduction_huge_idat_length(vio, tmp_path):
    data = png([(b"IDAT", zlib.compress(b"\x00" * 14))])
    at = data.index(b"IDAT") - 4
    data = data[:at] + struct.pack(">I", 2**31 - 1) + data[at + 4:]
    path = tmp_path / "img.png"
    path.write_bytes(data)
    with peak_allocation(64 << 20):  # the file is read once; Pillow never asks the OS for 2 GB of it
        try:
            assert vio.read_image(path).shape == (3, 2, 2)  # Pillow reads the chunk that is there
        except vio.ImageDecodeError as e:
            assert str(path) in str(e)


def test_f6_palette_image_without_a_palette(vio, tmp_path):
    # Found by the fuzz suite (png seed=1 index=1685): with transparency, Pillow asserts converting it to RGB.
    data = png([(b"tRNS", b"\x00"), (b"IDAT", zlib.compress(b"\x00\x00\x00" * 2))], color=3)
    path = tmp_path / "img.png"
    path.write_bytes(data)
    for mode in ("UNCHANGED", "RGB", "GRAY"):
        with pytest.raises(vio.ImageDecodeError, match="a palette image without a palette"):
            vio.read_image(path, mode)


def test_f6_encoded_bytes_are_named(vio):
    data = ember.from_numpy(np.frombuffer(png([(b"iCCP", b"p\x00")]), np.uint8).copy())
    with pytest.raises(vio.ImageDecodeError, match=rf"could not decode image data \({data.numel()} bytes\)"):
        vio.decode_image(data)


# ---- finding 7: views of one storage stay views ------------------------------------------------

def test_f7_issue_reproduction_expanded_tensor_loads_as_a_view():
    assert os.path.getsize(os.path.join(DATA, "torch_expand.pt")) < 2000
    with peak_allocation(1 << 20):  # not 576 MB
        t = ember.load(os.path.join(DATA, "torch_expand.pt"))
    assert t.shape == (12000, 12000) and t.stride() == (0, 0) and t.dtype is ember.float32
    assert t[11999, 5].item() == 0.0 and t.sum(0)[:3].tolist() == [0.0, 0.0, 0.0]
    assert (t[:2, :3] + 1).tolist() == [[1.0] * 3] * 2


def test_f7_writing_into_a_stride0_view_behaves_as_ember_expand():
    with pytest.warns(UserWarning, match="bfloat16"):
        loaded = ember.load(os.path.join(DATA, "torch_views.pt"))["rows"]  # arange(3).expand(4, 3)
    made = ember.arange(3).expand(4, 3)
    for write in (lambda t: t.add_(1), lambda t: t.__setitem__((0, 0), 1.0), lambda t: t.zero_()):
        errors = []
        for t in (loaded, made):
            with pytest.raises(Exception) as info:
                write(t)
            errors.append((type(info.value), str(info.value)))
        assert errors[0] == errors[1]
    assert loaded.tolist() == [[0, 1, 2]] * 4


def test_f7_expanded_tensor_moves_to_a_device_without_materialising(accel):
    with peak_allocation(1 << 20):
        t = ember.load(os.path.join(DATA, "torch_expand.pt"), map_location="accel")
    assert t.device.type == "accel" and t.shape == (12000, 12000) and t.stride() == (0, 0)


@pytest.mark.parametrize("name", ["torch_views.pt", "torch_views_legacy.pt"])
def test_f7_views_share_their_storage_as_in_pytorch(name):
    with open(os.path.join(DATA, "torch_views.json")) as f:
        geometry = json.load(f)  # strides as torch.load reports them
    with pytest.warns(UserWarning, match="2 bfloat16 tensor"):
        out = ember.load(os.path.join(DATA, name))
    base = np.arange(20, dtype=np.float32).reshape(4, 5)
    expected = {"base": base, "base_t": base.T, "window": base[1:4:2, 1:5:2], "rows": np.tile(np.arange(3), (4, 1)),
                "row": np.arange(3), "bf": np.array([[1.0, -2.0], [0.5, 4.0]], np.float32),
                "bf_t": np.array([[1.0, 0.5], [-2.0, 4.0]], np.float32), "tail": np.arange(7, 10, dtype=np.int16)}
    for key, arr in expected.items():
        t = out[key]
        assert t.tolist() == arr.tolist() and t.numpy().dtype == arr.dtype, key
        assert list(t.shape) == geometry[key]["shape"] and list(t.stride()) == geometry[key]["stride"], key
    out["base"][1, 1] = 100.0  # base, its transpose and the window (offset 6) share one storage
    assert out["base_t"][1, 1].item() == 100.0 and out["window"][0, 0].item() == 100.0
    out["row"][1] = 7  # the expanded rows view it too
    assert out["rows"][:, 1].tolist() == [7, 7, 7, 7]
    out["bf"][0, 1] = 3.0  # bfloat16 storage, widened once, still shared
    assert out["bf_t"][1, 0].item() == 3.0
    with pytest.raises(Exception):  # stride 0 over 4 rows: read-only, like ember's expand
        out["rows"].add_(1)


# Crafting PyTorch pickles: GLOBALs, calls and persistent ids, without PyTorch.
class Global:
    def __init__(self, module, name):
        self.module, self.name = module, name

    def __call__(self, *args):  # pickle's reduce requires a callable
        raise AssertionError("never called")


class Call:
    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


class CraftPickler(pickle._Pickler):
    dispatch = dict(pickle._Pickler.dispatch)

    def persistent_id(self, obj):
        return obj.pid if isinstance(obj, Storage) else None

    def _save_global(self, obj):
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())

    dispatch[Global] = _save_global


class Storage:
    def __init__(self, numel, dtype="FloatStorage", key="0"):
        self.pid = ("storage", Global("torch", dtype), key, "cpu", numel)


def craft(obj) -> bytes:
    buf = io.BytesIO()
    CraftPickler(buf, protocol=2).dump(obj)
    return buf.getvalue()


def torch_zip(data_pkl: bytes, storage: bytes = bytes(16)) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("archive/data.pkl", data_pkl)
        z.writestr("archive/byteorder", "little")
        z.writestr("archive/data/0", storage)
    return buf.getvalue()


def tensor(offset, size, stride, numel=4):
    return Call(Global("torch._utils", "_rebuild_tensor_v2"), Storage(numel), offset, size, stride, False,
                Call(Global("collections", "OrderedDict")))


@pytest.mark.parametrize("obj, match", [
    (tensor(0, (2,), (-1,)), "invalid tensor geometry"),
    (tensor(4, (1,), (1,)), "reaches past the end of its 4-element storage"),
    (tensor(0, (2, 2), (2, 2)), "reaches past the end"),
    (tensor(2**70, (1,), (1,)), "reaches past the end"),
    (tensor(0, (0, 2**62, 2**62), (1, 1, 1)), "impossibly large shape"),
    (tensor(0, (1,) * 65, (1,) * 65), "65 dimensions"),
    (tensor(0, 5, (1,)), "invalid tensor geometry"),
    (tensor(0, (2,), (1, 1)), "invalid tensor geometry"),
])
def test_f7_view_geometry_is_validated(obj, match):
    refused(torch_zip(craft(obj)), match)


def test_f7_length1_dimensions_may_have_any_stride():
    t = load_bytes(torch_zip(craft(tensor(1, (1, 3), (2**70, 1)), ), np.arange(4, dtype="<f4").tobytes()))
    assert t.tolist() == [[1.0, 2.0, 3.0]]


@pytest.mark.parametrize("make, match", [
    (lambda t: Call(Global("builtins", "set"), t), "set"),
    (lambda t: Call(Global("torch", "Size"), t), "Size"),
    (lambda t: Call(Global("collections", "OrderedDict"), t), "OrderedDict"),
    (lambda t: Call(Global("builtins", "bytearray"), 2**40), "bytearray"),
])
def test_f7_huge_views_are_never_iterated_by_the_unpickler(make, match):
    # A 4-byte storage expanded to 2**40 rows: building a container from it would never finish.
    with peak_allocation(1 << 20):
        refused(torch_zip(craft(make(tensor(0, (2**40, 1), (0, 1))))), match, CheckpointUnpicklingError)


def test_protocol2_builtins_as_torch_save_writes_them():
    # torch.save pickles with protocol 2, so Python names set & co. "__builtin__".
    pkl = craft({"s": Call(Global("__builtin__", "set"), [1, 2]), "f": Call(Global("__builtin__", "frozenset"), [3]),
                 "b": Call(Global("__builtin__", "bytearray"), "ab", "latin1")})
    assert load_bytes(torch_zip(pkl)) == {"s": {1, 2}, "f": frozenset({3}), "b": bytearray(b"ab")}


def test_f7_only_resolved_globals_are_called():
    # REDUCE with a string as the callable (no GLOBAL before it).
    refused(torch_zip(b"\x80\x02X\x01\x00\x00\x00a)R."), "call a str object", UnsafeUnpicklingError)
    # APPEND into something that isn't a list (the OrderedDict of a state dict).
    pkl = craft(Call(Global("collections", "OrderedDict")))[:-1] + b"K\x01a."
    refused(torch_zip(pkl), "append to a OrderedDict", UnsafeUnpicklingError)


# ---- finding 8: temporary files of interrupted saves --------------------------------------------

def host() -> str:
    return re.sub(r"[^A-Za-z0-9]", "", socket.gethostname().split(".")[0])[:24] or "host"


def test_f8_temp_files_are_recognisable(tmp_path, monkeypatch):
    seen = []
    real = os.replace
    monkeypatch.setattr(serialization.os, "replace", lambda a, b: (seen.append(os.path.basename(a)), real(a, b)))
    ember.save({"a": ember.ones(2)}, tmp_path / "model.pt")
    assert re.fullmatch(rf"\.model\.pt\.ember-tmp-{host()}-{os.getpid()}-[0-9a-f]{{12}}\.tmp", seen[0])


WRITER = """
import sys
import numpy as np
import ember
x = np.empty(12_500_000, np.float32)  # 50 MB per checkpoint
i = 0
while True:
    i += 1
    x.fill(i)
    ember.save({"version": i, "data": ember.from_numpy(x)}, sys.argv[1])
    print(i, flush=True)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_f8_stray_temp_of_a_killed_writer_is_removed_by_the_next_save(tmp_path):
    target = tmp_path / "ckpt.ember"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE)
    try:
        assert proc.stdout.readline().strip() == b"1"
        full = target.stat().st_size
        deadline, stray = time.monotonic() + 60, None
        while stray is None:  # kill the writer while it is writing its temporary file
            assert time.monotonic() < deadline and proc.poll() is None
            for p in tmp_path.glob(".ckpt.ember.ember-tmp-*"):
                with contextlib.suppress(FileNotFoundError):
                    if 1 << 20 < p.stat().st_size < full:
                        stray = p
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert stray.exists() and re.fullmatch(rf"\.ckpt\.ember\.ember-tmp-{host()}-{proc.pid}-[0-9a-f]{{12}}\.tmp",
                                           stray.name)
    assert ember.load(target)["version"] >= 1  # the previous checkpoint is intact
    ember.save({"version": 0}, target)
    assert not stray.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.ember"]
    assert ember.load(target) == {"version": 0}


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()  # reaped: the pid is free (and won't be reused within the test)
    return proc.pid


@pytest.mark.skipif(os.name != "posix", reason="pid liveness is only checked on POSIX")
def test_f8_which_temp_files_are_stale(tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        hour_ago = time.time() - 2 * 3600
        files = {  # name -> removed by the next save of model.pt?
            f".model.pt.ember-tmp-{host()}-{dead_pid()}-0123456789ab.tmp": True,       # its writer is gone
            f".model.pt.ember-tmp-{host()}-{sleeper.pid}-0123456789ab.tmp": False,     # still writing
            f".model.pt.ember-tmp-{host()}-{os.getpid()}-0123456789ab.tmp": False,     # another thread's
            ".model.pt.ember-tmp-otherhost-1-0123456789ab.tmp": False,                 # can't tell: recent
            ".model.pt.ember-tmp-otherhost-2-0123456789ac.tmp": True,                  # untouched for 2 hours
            f".model.pt.ember-tmp-{host()}-{sleeper.pid}-0123456789ad.tmp": True,      # pid reused? 2 hours old
            ".model.pt.0123456789ab.tmp": True,                                        # older Ember's name, old
            ".model.pt.0123456789ac.tmp": False,                                       # ... and recent
            f".other.pt.ember-tmp-{host()}-{dead_pid()}-0123456789ab.tmp": False,      # another target's
            "model.pt.backup": False,
        }
        for name in files:
            (tmp_path / name).write_bytes(b"partial")
        for name in (".model.pt.ember-tmp-otherhost-2-0123456789ac.tmp",
                     f".model.pt.ember-tmp-{host()}-{sleeper.pid}-0123456789ad.tmp", ".model.pt.0123456789ab.tmp"):
            os.utime(tmp_path / name, (hour_ago, hour_ago))
        ember.save([1], tmp_path / "model.pt")
        for name, removed in files.items():
            assert (tmp_path / name).exists() != removed, name
    finally:
        sleeper.kill()
        sleeper.wait()


# ---- the dataset readers the fuzz suite covers -------------------------------------------------

def idx_gz(dims, data: bytes = b"") -> bytes:
    import gzip
    return gzip.compress(bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", n) for n in dims) + data, mtime=0)


def test_gzip_idx_sizes_are_checked_before_decompressing(tmp_path):
    mnist = pytest.importorskip("ember_vision.datasets.mnist")
    path = tmp_path / "labels-idx1-ubyte.gz"
    path.write_bytes(idx_gz([2**32 - 1, 2**32 - 1]))
    with peak_allocation(4 << 20):
        with pytest.raises(mnist.DatasetFormatError, match=r"declares \d+ bytes, more than the \d+-byte gzip file"):
            mnist.read_idx(path)
    path.write_bytes(idx_gz([1 << 20], bytes(1 << 20)))  # highly compressible, and really there: loads
    assert mnist.read_idx(path).shape == (1 << 20,)
    path.write_bytes(idx_gz([4], bytes(4 + (3 << 20))))  # far more data than declared
    with pytest.raises(mnist.DatasetFormatError, match=r"size mismatch \(3145728 unexpected trailing bytes\)"):
        mnist.read_idx(path)
