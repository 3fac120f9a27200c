"""ember.save / ember.load: the native format, safetensors, PyTorch checkpoints (without PyTorch),
the restricted unpickler, atomic writes and map_location."""
import io
import json
import math
import os
import pathlib
import pickle
import signal
import struct
import subprocess
import sys
import time
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import ember
from ember import nn
from ember.serialization import CheckpointError, UnsafeUnpicklingError

DATA = pathlib.Path(__file__).parent / "data"
ALL_DTYPES = [ember.float16, ember.float32, ember.float64, ember.int8, ember.int16, ember.int32,
              ember.int64, ember.uint8, ember.bool]


def roundtrip(obj, **load_kwargs):
    buf = io.BytesIO()
    ember.save(obj, buf)
    buf.seek(0)
    return ember.load(buf, **load_kwargs)


def as_bytes(arr) -> np.ndarray:
    return np.ascontiguousarray(arr).reshape(-1).view(np.uint8)


def assert_same_tree(a, b):
    """Equal values with identical container types all the way down; tensors bit-for-bit."""
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, ember.Tensor):
        assert a.dtype is b.dtype and a.shape == b.shape and a.device == b.device
        assert np.array_equal(as_bytes(a._host()), as_bytes(b._host()))
    elif isinstance(a, (dict, OrderedDict)):
        assert list(a.keys()) == list(b.keys())
        for k in a:
            assert_same_tree(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same_tree(x, y)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b


def sample(dtype, shape, seed=0):
    """Random values of ``dtype`` covering its range (floats include nan, inf and -0.0)."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    if dtype is ember.bool:
        arr = rng.integers(0, 2, n).astype(bool)
    elif dtype.is_floating_point:
        arr = (rng.standard_normal(n) * 100).astype(dtype.np)
        arr[: min(n, 4)] = np.array([np.nan, np.inf, -np.inf, -0.0], dtype.np)[: min(n, 4)]
    else:
        info = np.iinfo(dtype.np)
        arr = rng.integers(info.min, info.max, n, dtype=dtype.np, endpoint=True)
    return arr.reshape(shape)


# ---- native format: round trips -------------------------------------------------------------

@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_every_dtype_and_shape_round_trips_exactly(dtype):
    tensors = [ember.from_numpy(sample(dtype, s, seed=i)) for i, s in enumerate([(), (0,), (5,), (2, 3, 4), (3, 0, 2)])]
    base = ember.from_numpy(sample(dtype, (4, 6), seed=9))
    tensors += [base.t(), base[:, ::2], base[1:3, 2:5]]  # non-contiguous views
    out = roundtrip(tensors)
    assert type(out) is list and len(out) == len(tensors)
    for t, r in zip(tensors, out):
        assert r.dtype is dtype and r.shape == t.shape and r.device == ember.device("cpu")
        assert np.array_equal(as_bytes(r.numpy()), as_bytes(t.numpy()))
        assert r.is_contiguous() and not r.requires_grad


def test_state_dict_and_optimizer_like_containers_round_trip():
    sd = OrderedDict([("layer.weight", ember.randn(3, 2)), ("layer.bias", ember.zeros(3)),
                      ("bn.num_batches_tracked", ember.tensor(4))])
    optim = {"state": {0: {"step": ember.tensor(3.0), "exp_avg": ember.ones(3, 2)}, 1: {"step": ember.tensor(3.0)}},
             "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0,
                               "amsgrad": False, "foreach": None, "params": [0, 1]}]}
    misc = {"epoch": 7, "big": 2 ** 100, "neg": -5, "name": "r\u00e9sum\u00e9 \U0001F600",
            "lone_surrogates": ["\ud83d\ude00", "\udfff", "a\ud800"], "blob": b"\x00\xffraw",
            "floats": [0.1, float("inf"), float("-inf"), float("nan"), -0.0], "nothing": None,
            (1, "a"): "tuple key", 2.5: "float key", True: "bool key", "empty": ({}, [], (), OrderedDict()),
            "sets": [{1, 2}, frozenset({"x"})], "size": ember.Size([2, 3]), "dtype": ember.int16,
            "device": ember.device("cpu")}
    obj = {"model": sd, "optimizer": optim, "misc": misc}
    out = roundtrip(obj)
    assert_same_tree(out, obj)
    assert math.copysign(1, out["misc"]["floats"][4]) == -1


@settings(max_examples=25, deadline=None)
@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5)
    | st.binary(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.tuples(children, children)
    | st.dictionaries(st.text(max_size=3) | st.integers(), children, max_size=3),
    max_leaves=12))
def test_random_nested_values_round_trip(obj):
    assert_same_tree(roundtrip(obj), obj)


def test_parameters_grad_flags_and_shared_tensors():
    w = nn.Parameter(ember.randn(2, 3))
    frozen = nn.Parameter(ember.ones(2), requires_grad=False)
    x = ember.randn(4, requires_grad=True)
    base = ember.arange(6.0)
    view = base[2:]
    out = roundtrip({"w": w, "tied": w, "frozen": frozen, "x": x, "base": base, "view": view})
    assert type(out["w"]) is nn.Parameter and out["w"].requires_grad
    assert out["tied"] is out["w"]  # one object saved twice loads as one object
    assert type(out["frozen"]) is nn.Parameter and not out["frozen"].requires_grad
    assert type(out["x"]) is ember.Tensor and not out["x"].requires_grad  # plain tensors never require grad
    assert out["view"].tolist() == [2.0, 3.0, 4.0, 5.0]
    out["base"][3] = 100.0  # views are saved as copies: they no longer share storage
    assert out["view"].tolist() == [2.0, 3.0, 4.0, 5.0]


def test_paths_and_file_objects(tmp_path):
    obj = {"a": ember.arange(5), "b": [1, "two"]}
    for target in (str(tmp_path / "a.ember"), tmp_path / "b.ember"):
        ember.save(obj, target)
        assert_same_tree(ember.load(target), obj)
        assert_same_tree(ember.load(str(target).encode()), obj)
    with open(tmp_path / "c.ember", "wb") as fh:
        ember.save(obj, fh)
    with open(tmp_path / "c.ember", "rb") as fh:
        assert_same_tree(ember.load(fh), obj)
    # Two checkpoints in one stream load one after the other.
    buf = io.BytesIO()
    ember.save(obj, buf)
    ember.save([ember.ones(2)], buf)
    buf.seek(0)
    assert_same_tree(ember.load(buf), obj)
    assert ember.load(buf)[0].tolist() == [1.0, 1.0]

    class ReadOnlyStream:  # not seekable: read into memory first
        def __init__(self, data):
            self.inner = io.BytesIO(data)

        def read(self, n=-1):
            return self.inner.read(n)

    buf.seek(0)
    assert_same_tree(ember.load(ReadOnlyStream(buf.getvalue())), obj)
    with pytest.raises(TypeError, match="path or a writable binary file"):
        ember.save(obj, 42)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ember.save(obj, tmp_path / "missing_dir" / "x.ember")


def test_unsupported_objects_are_refused_before_writing(tmp_path):
    target = tmp_path / "keep.ember"
    ember.save({"v": 1}, target)
    # format="ember" is the native format only; left unset, such objects are pickled instead.
    with pytest.raises(TypeError, match=r"can't save obj\['a'\]\[1\] of type builtins.object"):
        ember.save({"a": [1, object()]}, target, format="ember")
    with pytest.raises(TypeError, match=r"numpy.float64.*\.item\(\)"):
        ember.save({"lr": np.float64(0.1)}, target, format="ember")
    cyclic = [1]
    cyclic.append(cyclic)
    with pytest.raises(ValueError, match="reference cycle"):
        ember.save(cyclic, target, format="ember")
    # What pickle can't save fails with pickle's own error, before the target is touched.
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        ember.save({"w": ember.ones(2), "f": lambda x: x}, target)
    with pytest.raises((pickle.PicklingError, TypeError)):
        ember.save([ember.ones(2), (i for i in range(3))], target, format="torch")
    assert ember.load(target) == {"v": 1}
    assert sorted(os.listdir(tmp_path)) == ["keep.ember"]  # no temp files left behind
    with pytest.raises(TypeError, match="by keyword, format='safetensors'"):
        ember.save({}, io.BytesIO(), "safetensors")
    with pytest.raises(ValueError, match="unknown format 'pickle'"):
        ember.save({}, io.BytesIO(), format="pickle")


# ---- map_location ---------------------------------------------------------------------------

def test_map_location_forms(accel):
    obj = {"cpu": ember.arange(3.0), "dev1": ember.arange(4).to("accel:1"),
           "param": nn.Parameter(ember.ones(2).to("accel:1"))}
    buf = io.BytesIO()
    ember.save(obj, buf)

    def load(map_location):
        buf.seek(0)
        return ember.load(buf, map_location=map_location)

    out = load(None)
    assert all(t.device == ember.device("cpu") for t in out.values())
    assert out["dev1"].tolist() == [0, 1, 2, 3]
    for target in ("accel:0", ember.device("accel:1")):
        out = load(target)
        assert all(t.device == ember.device(target) for t in out.values())
        assert type(out["param"]) is nn.Parameter and out["param"].requires_grad
    out = load({"accel:1": "accel:0"})
    assert out["dev1"].device == ember.device("accel:0") and out["param"].device == ember.device("accel:0")
    assert out["cpu"].device == ember.device("cpu")  # locations not in the dict load on the CPU
    seen = []

    def to_accel(t, location):
        seen.append(location)
        assert t.device == ember.device("cpu")
        return t.to("accel:0") if location == "cpu" else None

    out = load(to_accel)
    assert sorted(seen) == ["accel:1", "accel:1", "cpu"]
    assert out["cpu"].device == ember.device("accel:0") and out["dev1"].device == ember.device("cpu")
    assert out["param"].tolist() == [1.0, 1.0]
    assert load(lambda t, loc: "accel:1")["cpu"].device == ember.device("accel:1")
    with pytest.raises(TypeError, match="must return a tensor, a device or None"):
        load(lambda t, loc: 3)
    with pytest.raises(TypeError, match="map_location must be"):
        load(3.5)
    with pytest.raises(RuntimeError, match="unknown device type 'tpu'"):
        load("tpu:0")
    # PyTorch checkpoints record their storages' locations too.
    sd = ember.load(DATA / "torch_linear_state.pt", map_location={"cpu": "accel:1"})
    assert all(t.device == ember.device("accel:1") for t in sd.values())


# ---- native format: malformed files ---------------------------------------------------------

MAGIC = b"\x89EMB\r\n\x1a\n"


def native_file(header: dict, data: bytes, version: int = 1) -> bytes:
    """A native-format file built from its documented layout (independently of the writer)."""
    raw = json.dumps(header).encode()
    pre = MAGIC + struct.pack("<IQ", version, len(raw)) + raw
    return pre + bytes(-len(pre) % 64) + data


def good_header(**entry):
    e = {"dtype": "float32", "shape": [2], "offset": 0, "nbytes": 8, "crc32": 0, "device": "cpu"}
    e.update(entry)
    return {"data_size": 8, "tensors": [e], "root": {"type": "tensor", "index": 0}}


def load_bytes(data: bytes, name="ckpt.ember"):
    buf = io.BytesIO(data)
    buf.name = name
    return ember.load(buf)


def test_hand_built_native_file_loads():
    import zlib
    data = np.array([1.5, -2.0], "<f4").tobytes()
    out = load_bytes(native_file(good_header(crc32=zlib.crc32(data)), data))
    assert out.dtype is ember.float32 and out.tolist() == [1.5, -2.0]


@pytest.mark.parametrize("mutate, match", [
    (lambda b: b"", "the file is empty"),
    (lambda b: b[:10], "truncated"),                                 # inside the fixed prefix
    (lambda b: b[:40], "truncated"),                                 # inside the header
    (lambda b: b[:-3], "truncated"),                                 # inside the data
    (lambda b: b"GARBAGE!" + b[8:], "unrecognised file format"),
    (lambda b: b[:5] + b"XYZ" + b[8:], "bad magic"),
    (lambda b: b[:8] + struct.pack("<I", 9) + b[12:], "unsupported Ember format version 9"),
    (lambda b: b[:20] + b"{not json" + b[29:], "not valid JSON"),
    (lambda b: b[:-1] + bytes([b[-1] ^ 1]), r"CRC32 mismatch"),
], ids=["empty", "prefix", "header", "data", "unknown", "magic", "version", "json", "crc"])
def test_malformed_native_files_give_clear_errors(mutate, match):
    buf = io.BytesIO()
    ember.save({"w": ember.arange(16.0)}, buf)
    with pytest.raises(CheckpointError, match=match) as info:
        load_bytes(mutate(buf.getvalue()))
    assert "'ckpt.ember'" in str(info.value)  # errors name the file


@pytest.mark.parametrize("header, match", [
    (good_header(offset=4), r"data range 4\+8 lies outside the data section"),
    (good_header(nbytes=12), "nbytes 12 doesn't match shape"),
    (good_header(dtype="complex32"), "unknown dtype 'complex32'"),
    (good_header(shape=[-2]), "invalid shape"),
    (dict(good_header(), root={"type": "tensor", "index": 3}), "tensor index 3 is out of range"),
    (dict(good_header(), root={"type": "pickle"}), "unknown node type 'pickle'"),
    (dict(good_header(), root={"type": "list"}), "has no 'items' list"),
    (dict(good_header(), data_size=10 ** 9), "data section needs bytes"),
    ({"tensors": []}, "lacks 'tensors', 'data_size' or 'root'"),
    ([1, 2], "not a JSON object"),
])
def test_corrupted_native_headers_are_rejected(header, match):
    with pytest.raises(CheckpointError, match=match):
        load_bytes(native_file(header, bytes(8)))


# ---- atomic writes --------------------------------------------------------------------------

WRITER = """
import sys
import numpy as np
import ember
target = sys.argv[1]
x = np.empty(50_000_000, np.float32)  # 200 MB per checkpoint
i = 0
while True:
    i += 1
    x.fill(i)
    ember.save({"version": i, "data": ember.from_numpy(x)}, target)
    print(i, flush=True)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_killing_a_writer_mid_save_keeps_the_previous_checkpoint(tmp_path):
    target = tmp_path / "ckpt.ember"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE)
    try:
        assert proc.stdout.readline().strip() == b"1"  # the first checkpoint is complete
        full_size = target.stat().st_size
        deadline = time.monotonic() + 60
        partial = None
        while partial is None:  # wait until the next save is writing its temp file, then kill it
            assert time.monotonic() < deadline and proc.poll() is None
            for p in tmp_path.glob("*.tmp"):
                try:
                    if 1 << 20 < p.stat().st_size < full_size:
                        partial = p
                except FileNotFoundError:  # renamed into place just now
                    pass
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert partial.exists() and partial.stat().st_size < full_size  # it really died mid-write
    out = ember.load(target)
    assert out["version"] >= 1 and out["data"].shape == (50_000_000,)
    data = out["data"].numpy()
    assert data[0] == out["version"] and np.all(data == data[0])  # a complete, consistent version
    del out, data
    for p in tmp_path.iterdir():  # don't leave 400 MB in pytest's kept temp directories
        p.unlink()


# ---- safetensors ----------------------------------------------------------------------------

def test_reads_hand_written_safetensors():
    tensors = {"f32": np.arange(6, dtype="<f4").reshape(2, 3), "i64": np.array([-1, 2**40], "<i8"),
               "mask": np.array([True, False]), "half": np.array([0.5, -1.0], "<f2"), "u8": np.array(7, np.uint8),
               "empty": np.zeros((0, 2), "<f8")}
    codes = {"f32": "F32", "i64": "I64", "mask": "BOOL", "half": "F16", "u8": "U8", "empty": "F64"}
    header, data = {"__metadata__": {"format": "pt"}}, b""
    for name, arr in tensors.items():
        raw = arr.tobytes()
        offsets = [len(data), len(data) + len(raw)]
        header[name] = {"dtype": codes[name], "shape": list(arr.shape), "data_offsets": offsets}
        data += raw
    bf16_bits = np.array([0x3F80, 0xC040], "<u2")  # bfloat16 1.0 and -3.0
    header["bf16"] = {"dtype": "BF16", "shape": [2], "data_offsets": [len(data), len(data) + 4]}
    data += bf16_bits.tobytes()
    raw_header = json.dumps(header).encode()
    blob = struct.pack("<Q", len(raw_header)) + raw_header + data
    with pytest.warns(UserWarning, match="1 bfloat16 tensor"):
        out = load_bytes(blob, "model.bin")  # detected by content, not by name
    assert list(out) == list(tensors) + ["bf16"]
    for name, arr in tensors.items():
        assert out[name].dtype is ember.tensor(arr).dtype and out[name].shape == arr.shape
        assert np.array_equal(out[name].numpy(), arr)
    assert out["bf16"].dtype is ember.float32 and out["bf16"].tolist() == [1.0, -3.0]


def read_safetensors_by_hand(blob: bytes):
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8: 8 + n])
    assert (8 + n) % 8 == 0  # the writer pads the header so the data is aligned
    meta = header.pop("__metadata__", None)
    np_types = {"F32": "<f4", "F64": "<f8", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
                "U8": "u1", "BOOL": "?"}
    out, end = {}, 0
    for name, e in header.items():
        begin, stop = e["data_offsets"]
        assert begin == end  # no holes
        end = stop
        out[name] = np.frombuffer(blob[8 + n + begin: 8 + n + stop], np_types[e["dtype"]]).reshape(e["shape"])
    assert 8 + n + end == len(blob)
    return out, meta


def test_safetensors_writer_output_matches_the_spec(tmp_path):
    sd = {f"t_{d.name}": ember.from_numpy(sample(d, (2, 3), seed=i)) for i, d in enumerate(ALL_DTYPES)}
    sd["strided"] = ember.arange(12).reshape(3, 4).t()
    sd["scalar"] = ember.tensor(2.5)
    path = tmp_path / "m.safetensors"
    ember.save(sd, path, format="safetensors", metadata={"format": "pt"})
    arrays, meta = read_safetensors_by_hand(path.read_bytes())
    assert meta == {"format": "pt"} and list(arrays) == list(sd)
    for name, t in sd.items():
        assert np.array_equal(as_bytes(arrays[name]), as_bytes(t.numpy()))
    assert_same_tree(ember.load(path), {k: v.contiguous() for k, v in sd.items()})


def test_safetensors_errors():
    with pytest.raises(TypeError, match=r"value of key 'nested' is a dict"):
        ember.save({"a": ember.ones(1), "nested": {"b": ember.ones(1)}}, io.BytesIO(), format="safetensors")
    with pytest.raises(TypeError, match=r"key 3 is not a valid tensor name"):
        ember.save({3: ember.ones(1)}, io.BytesIO(), format="safetensors")
    with pytest.raises(TypeError, match="needs a dict of tensors"):
        ember.save([ember.ones(1)], io.BytesIO(), format="safetensors")
    with pytest.raises(ValueError, match="metadata is only supported"):
        ember.save({}, io.BytesIO(), metadata={"a": "b"})

    def blob(entry, data=bytes(8)):
        raw = json.dumps({"x": entry}).encode()
        return struct.pack("<Q", len(raw)) + raw + data

    cases = [({"dtype": "C128", "shape": [1], "data_offsets": [0, 8]}, "dtype 'C128'"),
             ({"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}, "outside the 8-byte data buffer"),
             ({"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}, "don't match shape"),
             ({"dtype": "F32", "shape": "2", "data_offsets": [0, 8]}, "invalid shape")]
    for entry, match in cases:
        with pytest.raises(CheckpointError, match=match):
            load_bytes(blob(entry))
    with pytest.raises(CheckpointError, match="truncated"):
        load_bytes(struct.pack("<Q", 10 ** 6) + b"{}")


# ---- PyTorch checkpoints --------------------------------------------------------------------

def check_torch_fixture(out):
    """The object built by data/make_torch_fixtures.py, rebuilt with NumPy."""
    base = np.arange(24, dtype=np.float32).reshape(4, 6)
    expected = {"weight": base, "weight_t": base.T, "window": base[1:3, 2:5],
                "steps": np.arange(5, dtype=np.int64) * 3 - 4, "mask": np.array([True, False, True]),
                "half": np.array([0.5, -2.0, 65504.0], np.float16), "double": np.linspace(0, 1, 5),
                "bf16": np.array([1.0, -0.5, 3.0], np.float32), "scalar": np.array(7, np.int64),
                "empty": np.zeros((0, 3), np.float32)}
    assert type(out) is OrderedDict
    assert list(out) == list(expected) + ["param", "frozen", "nested"]
    for name, arr in expected.items():
        t = out[name]
        assert type(t) is ember.Tensor and t.numpy().dtype == arr.dtype and t.shape == arr.shape, name
        assert np.array_equal(t.numpy(), arr) and not t.requires_grad
        assert t.is_contiguous() == (name not in ("weight_t", "window")), name  # views stay views, as in PyTorch
    assert type(out["param"]) is nn.Parameter and out["param"].requires_grad
    assert out["param"].tolist() == [[1.5, 1.5], [1.5, 1.5]]
    assert type(out["frozen"]) is nn.Parameter and not out["frozen"].requires_grad
    nested = out["nested"]
    assert nested["list"] == [1, 2.5, "three", None, True]
    assert nested["tuple"][0].dtype is ember.int32 and nested["tuple"][0].tolist() == [1, 2]
    assert nested["tuple"][1] == b"raw"
    assert nested[3]["step"].tolist() == 10.0 and nested[3]["lr"] == 0.1
    assert type(nested["size"]) is ember.Size and nested["size"] == (2, 3)
    assert out["weight_t"].stride() == (1, 6) and out["window"].stride() == (6, 1)
    out["weight"][0, 1] = -1.0  # tensors saved from one storage share it once loaded, as in PyTorch
    assert out["weight_t"][1, 0].item() == -1.0


@pytest.mark.parametrize("fixture", ["torch_zip.pt", "torch_legacy.pt"])
def test_loads_pytorch_checkpoints(fixture):
    assert (DATA / fixture).stat().st_size < 50_000
    with pytest.warns(UserWarning, match="bfloat16"):
        check_torch_fixture(ember.load(DATA / fixture))
    with pytest.warns(UserWarning, match="bfloat16"):  # from a file object, weights_only=False
        check_torch_fixture(ember.load(io.BytesIO((DATA / fixture).read_bytes()), weights_only=False))


def test_loads_a_pytorch_module_state_dict():
    sd = ember.load(DATA / "torch_linear_state.pt")
    expected = json.loads((DATA / "torch_linear_values.json").read_text())
    assert list(sd) == ["0.weight", "0.bias", "2.weight", "2.bias"] == list(expected)
    model = nn.Sequential(nn.Linear(3, 4), nn.Identity(), nn.Linear(4, 2))
    model.load_state_dict(sd)
    for name, values in expected.items():
        np.testing.assert_array_equal(model.state_dict()[name].detach().numpy(), np.array(values, np.float32))


# Crafting pickles: GLOBAL references, calls and persistent ids, without the modules they name.
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


class Storage:
    def __init__(self, *pid):
        self.pid = ("storage",) + pid


class CraftPickler(pickle._Pickler):
    dispatch = dict(pickle._Pickler.dispatch)

    def persistent_id(self, obj):
        return obj.pid if isinstance(obj, Storage) else None

    def _save_global(self, obj):
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())

    dispatch[Global] = _save_global


def craft_pickle(obj, protocol=2) -> bytes:
    buf = io.BytesIO()
    CraftPickler(buf, protocol=protocol).dump(obj)
    return buf.getvalue()


def torch_zip(data_pkl: bytes, storages=None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("archive/data.pkl", data_pkl)
        z.writestr("archive/byteorder", "little")
        for key, raw in (storages or {}).items():
            z.writestr(f"archive/data/{key}", raw)
    return buf.getvalue()


def torch_legacy(object_pkl: bytes) -> bytes:
    head = [0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001, "little_endian": True}]
    return b"".join(pickle.dumps(v, protocol=2) for v in head) + object_pkl + pickle.dumps([], protocol=2)


def tensor_ref(numel, offset, size, stride, dtype="FloatStorage"):
    return Call(Global("torch._utils", "_rebuild_tensor_v2"), Storage(Global("torch", dtype), "0", "cpu", numel),
                offset, size, stride, False, Call(Global("collections", "OrderedDict")))


def test_crafted_torch_pickle_with_strided_geometry():
    data = np.arange(10, dtype="<i2").tobytes()
    pkl = craft_pickle({"t": tensor_ref(10, 1, (3, 2), (3, 2), "ShortStorage"),
                        "z": tensor_ref(10, 99, (0,), (1,), "ShortStorage")})  # empty: offset unchecked
    out = load_bytes(torch_zip(pkl, {"0": data}))
    expected = np.lib.stride_tricks.as_strided(np.arange(10, dtype=np.int16)[1:], (3, 2), (6, 4))
    assert out["t"].dtype is ember.int16 and out["t"].tolist() == expected.tolist()
    assert out["z"].shape == (0,)


@pytest.mark.parametrize("obj, data, match", [
    (tensor_ref(4, 0, (3, 2), (2, 1)), bytes(16), "reaches past the end of its 4-element storage"),
    (tensor_ref(4, 0, (2,), (-1,)), bytes(16), "invalid tensor geometry"),
    (tensor_ref(4, 0, (4,), (1,)), bytes(12), r"holds 12 bytes, expected 4 x 4"),
    (tensor_ref(4, 0, (4,), (1,), "ComplexHalfStorage"), bytes(32), "torch.ComplexHalfStorage"),
])
def test_corrupted_torch_checkpoints(obj, data, match):
    with pytest.raises(CheckpointError, match=match) as info:
        load_bytes(torch_zip(craft_pickle(obj), {"0": data}))
    assert str(info.value).startswith("'ckpt.ember': ")


def test_truncated_torch_checkpoints():
    blob = (DATA / "torch_zip.pt").read_bytes()
    with pytest.raises(CheckpointError, match="not a readable zip archive"):
        load_bytes(blob[: len(blob) // 2])
    legacy = (DATA / "torch_legacy.pt").read_bytes()
    with pytest.raises(CheckpointError, match="truncated"):
        load_bytes(legacy[:-10])
    with pytest.raises(CheckpointError, match="can't unpickle"):
        load_bytes(legacy[:150])


@pytest.mark.parametrize("layout", [torch_zip, torch_legacy])
@pytest.mark.parametrize("make_payload, refused", [
    (lambda marker: Call(Global("os", "system"), f"touch {marker}"), "os.system"),
    (lambda marker: Call(Global("builtins", "eval"), f"open({str(marker)!r}, 'w')"), "builtins.eval"),
    (lambda marker: Call(Global("builtins", "exec"), f"open({str(marker)!r}, 'w')"), "builtins.exec"),
    (lambda marker: Call(Global("subprocess", "call"), ["touch", str(marker)]), "subprocess.call"),
    (lambda marker: {"ok": 1, "evil": Call(Global("torch._utils", "_rebuild_tensor_v2"),
                                           Call(Global("os", "system"), f"touch {marker}"))}, "os.system"),
    (lambda marker: Call(Global("collections", "UserDict")), "collections.UserDict"),
])
def test_malicious_pickles_are_refused_without_running_code(tmp_path, layout, make_payload, refused):
    marker = tmp_path / "pwned"
    for protocol in (2, 4):
        with pytest.raises(UnsafeUnpicklingError, match=rf"refused to load global '{refused}'") as info:
            load_bytes(layout(craft_pickle(make_payload(marker), protocol)))
        assert isinstance(info.value, pickle.UnpicklingError)
        assert not marker.exists()


def test_build_opcode_cannot_tamper_with_shared_objects():
    # torch.float32 (Ember's dtype object), then BUILD with slot state {'np': 1}.
    pkl = b"\x80\x02ctorch\nfloat32\nN}X\x02\x00\x00\x00npK\x01s\x86b."
    with pytest.raises(UnsafeUnpicklingError, match="refused to set the state of a dtype"):
        load_bytes(torch_zip(pkl))
    assert ember.float32.np == np.float32
    ok = craft_pickle(Call(Global("collections", "OrderedDict")))[:-1] + b"}X\x01\x00\x00\x00aK\x01sb."
    assert load_bytes(torch_zip(ok)).a == 1  # attributes on an OrderedDict (state_dict()._metadata) are fine


def test_not_a_checkpoint():
    with pytest.raises(CheckpointError, match="not a PyTorch checkpoint"):
        load_bytes(pickle.dumps({"a": 1}, protocol=2))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "hi")
    with pytest.raises(CheckpointError, match="not a PyTorch checkpoint"):
        load_bytes(buf.getvalue())
    with pytest.raises(TypeError, match="unexpected keyword arguments"):
        ember.load(io.BytesIO(), bogus=1)
