"""Saving anything PyTorch saves (issue 15): whole modules and arbitrary objects in PyTorch's zip layout,
PyTorch's security model on load (``weights_only=True`` by default, the allowlist, ``weights_only=False``
for trusted files), ``format="torch"`` checkpoints that PyTorch reads, and views of one storage.

What PyTorch made of Ember-written files is recorded by ``data/make_torch_roundtrip_reference.py`` (run
in the reference environment) in ``data/torch_roundtrip_reference.json``; these tests never import torch.
"""
import argparse
import datetime
import fractions
import importlib.util
import io
import json
import os
import pathlib
import pickle
import struct
import subprocess
import sys
import textwrap
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import ember
from ember import nn
from ember.serialization import (CheckpointError, CheckpointUnpicklingError, UnsafeUnpicklingError, add_safe_globals,
                                 clear_safe_globals, get_safe_globals, get_unsafe_globals_in_checkpoint, safe_globals)

DATA = pathlib.Path(__file__).parent / "data"
NATIVE_MAGIC = b"\x89EMB"


def _reference_module():
    spec = importlib.util.spec_from_file_location("make_torch_roundtrip_reference",
                                                  DATA / "make_torch_roundtrip_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REF = _reference_module()


@pytest.fixture(autouse=True)
def _empty_allowlist():
    clear_safe_globals()
    yield
    clear_safe_globals()


def save_bytes(obj, **kwargs) -> bytes:
    buf = io.BytesIO()
    ember.save(obj, buf, **kwargs)
    return buf.getvalue()


def load_bytes(data: bytes, name="ckpt.pt", **kwargs):
    buf = io.BytesIO(data)
    buf.name = name
    return ember.load(buf, **kwargs)


def records(data: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def rezip(members: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, raw in members.items():
            z.writestr(name, raw)
    return buf.getvalue()


def small_model():
    ember.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.BatchNorm1d(5), nn.Linear(5, 2)).eval()


MODEL_CLASSES = [nn.Sequential, nn.Linear, nn.ReLU, nn.BatchNorm1d]


# Classes a checkpoint may hold (allowlisted in some tests).
class Config:
    def __init__(self, lr, name):
        Config.inits += 1
        self.lr, self.name = lr, name

    def __eq__(self, other):
        return type(other) is Config and vars(self) == vars(other)


Config.inits = 0


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self, a, b):
        self.a, self.b = a, b


class Restored:
    def __init__(self, value):
        self.value = value

    def __getstate__(self):
        return {"packed": self.value * 2}

    def __setstate__(self, state):
        Restored.setstates += 1
        self.value = state["packed"] // 2
        self.restored = True


Restored.setstates = 0


def make_instance():
    """An allowlisted factory function whose result is of a class that isn't allowlisted."""
    return Config.__new__(Config)


# ---- which format ember.save picks ---------------------------------------------------------------

def test_tensors_and_containers_stay_native_anything_else_is_pickled():
    assert save_bytes({"w": ember.ones(2), "meta": [1, "a", None, ember.Size([2])]}).startswith(NATIVE_MAGIC)
    obj = {"w": ember.arange(3.0), "arr": np.arange(4), "cfg": Config(0.1, "run"), "lr": np.float64(0.5),
           "when": datetime.date(2024, 1, 2), "od": OrderedDict(a=ember.ones(1))}
    data = save_bytes(obj)
    assert data.startswith(b"PK\x03\x04")
    out = load_bytes(data, weights_only=False)
    assert type(out["w"]) is ember.Tensor and out["w"].tolist() == [0.0, 1.0, 2.0]
    np.testing.assert_array_equal(out["arr"], np.arange(4))
    assert out["cfg"] == obj["cfg"] and out["lr"] == 0.5 and type(out["lr"]) is np.float64
    assert out["when"] == obj["when"] and out["od"]["a"].tolist() == [1.0]
    assert save_bytes({"w": ember.ones(2)}, format="torch").startswith(b"PK\x03\x04")
    with pytest.raises(TypeError, match="can't save obj\\['arr'\\] of type numpy.ndarray"):
        save_bytes(obj, format="ember")


def test_zip_layout_records_as_torch_save_writes_them():
    data = save_bytes({"w": ember.arange(6.0), "cfg": Config(1, "x"), "b": ember.tensor([True])})
    names = list(records(data))
    assert names == ["archive/data.pkl", "archive/.storage_alignment", "archive/byteorder", "archive/data/0",
                     "archive/data/1", "archive/version", "archive/.data/serialization_id"]
    rec = records(data)
    assert rec["archive/byteorder"] == b"little" and rec["archive/version"] == b"3\n"
    assert rec["archive/.storage_alignment"] == b"64" and rec["archive/.data/serialization_id"].isdigit()
    assert rec["archive/data.pkl"].startswith(b"\x80\x02")  # pickle protocol 2, as torch.save writes
    assert rec["archive/data/0"] == np.arange(6, dtype="<f4").tobytes()
    with zipfile.ZipFile(io.BytesIO(data)) as z:  # every record's bytes start at a multiple of 64 (for mmap)
        for info in z.infolist():
            name_len, extra_len = struct.unpack_from("<HH", data, info.header_offset + 26)
            assert (info.header_offset + 30 + name_len + extra_len) % 64 == 0, info.filename
            assert info.compress_type == zipfile.ZIP_STORED
    assert records(save_bytes([ember.ones(1), Config(1, 2)], pickle_protocol=4))["archive/data.pkl"][:2] == b"\x80\x04"


def test_writing_to_a_stream_that_cannot_seek():
    class WriteOnly(io.RawIOBase):
        def __init__(self):
            self.chunks = []

        def writable(self):
            return True

        def write(self, b):
            self.chunks.append(bytes(b))
            return len(b)

    out = WriteOnly()
    ember.save({"w": ember.arange(4.0), "cfg": Config(2, "y")}, out)
    loaded = load_bytes(b"".join(out.chunks), weights_only=False)
    assert loaded["w"].tolist() == [0.0, 1.0, 2.0, 3.0] and loaded["cfg"] == Config(2, "y")


def test_unpicklable_objects_fail_before_the_target_is_touched(tmp_path):
    target = tmp_path / "keep.pt"
    ember.save({"v": 1}, target)
    with pytest.raises((pickle.PicklingError, AttributeError)):
        ember.save({"w": ember.ones(2), "fn": lambda x: x}, target)
    assert ember.load(target) == {"v": 1} and os.listdir(tmp_path) == ["keep.pt"]


# ---- a whole model: weights_only=False, refusals, the allowlist -----------------------------------

def test_whole_model_round_trip_and_the_allowlist(tmp_path):
    model = small_model()
    x = ember.randn(4, 3)
    path = tmp_path / "model.pt"
    ember.save(model, path)
    loaded = ember.load(path, weights_only=False)
    assert type(loaded) is nn.Sequential and not loaded.training
    assert np.array_equal(loaded(x).detach().numpy(), model(x).detach().numpy())
    assert all(type(p) is nn.Parameter and p.requires_grad for p in loaded.parameters())
    assert loaded[2].running_var.tolist() == model[2].running_var.tolist()

    with pytest.raises(UnsafeUnpicklingError) as info:  # weights_only=True, the default
        ember.load(path)
    message = str(info.value)
    assert isinstance(info.value, pickle.UnpicklingError) and message.startswith(repr(str(path)))
    for part in ("Unsupported global: GLOBAL ember.nn.modules.container.Sequential was not an allowed global",
                 "ember.serialization.add_safe_globals([ember.nn.modules.container.Sequential])",
                 "ember.serialization.safe_globals([ember.nn.modules.container.Sequential])", "weights_only=False"):
        assert part in message
    assert get_unsafe_globals_in_checkpoint(path) == ["ember.nn.modules.container.Sequential",
                                                      "ember.nn.modules.linear.Linear",
                                                      "ember.nn.modules.activation.ReLU",
                                                      "ember.nn.modules.normalization.BatchNorm1d"]
    with safe_globals([nn.Sequential]):  # as in PyTorch, every class in the pickle must be allowlisted
        with pytest.raises(UnsafeUnpicklingError, match="GLOBAL ember.nn.modules.linear.Linear was not"):
            ember.load(path)
    assert get_safe_globals() == []
    add_safe_globals(MODEL_CLASSES)
    assert get_unsafe_globals_in_checkpoint(path) == []
    restricted = ember.load(path)
    assert np.array_equal(restricted(x).detach().numpy(), model(x).detach().numpy())
    clear_safe_globals()
    with pytest.raises(UnsafeUnpicklingError):
        ember.load(path)


def test_a_script_saving_a_whole_model(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent('''
        import pickle
        import sys

        import ember as torch
        import ember.nn as nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential(nn.Linear(4, 8), nn.ReLU())
                self.head = nn.Linear(8, 3)

            def forward(self, x):
                return self.head(self.body(x))


        torch.manual_seed(0)
        model = Net()
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        x, y = torch.randn(6, 4), torch.randint(0, 3, (6,))
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        torch.save(model, sys.argv[1])
        loaded = torch.load(sys.argv[1], weights_only=False)
        print("same outputs:", torch.equal(loaded(x), model(x)))
        try:
            torch.load(sys.argv[1])
        except pickle.UnpicklingError as e:
            print("refused:", "GLOBAL __main__.Net was not an allowed global" in str(e),
                  "add_safe_globals([__main__.Net])" in str(e))
        torch.serialization.add_safe_globals([Net, nn.Sequential, nn.Linear, nn.ReLU])
        print("allowlisted:", torch.equal(torch.load(sys.argv[1])(x), model(x)))
    '''))
    proc = subprocess.run([sys.executable, str(script), str(tmp_path / "net.pt")], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "same outputs: True",
        "refused: True True",
        "allowlisted: True"]


def test_an_optimizer_saved_with_its_model_keeps_sharing_parameters():
    model = small_model().train()
    opt = ember.optim.Adam(model.parameters(), lr=0.01)
    x = ember.randn(8, 3)
    for _ in range(2):
        opt.zero_grad()
        model(x).pow(2).mean().backward()
        opt.step()
    out = load_bytes(save_bytes({"model": model, "opt": opt, "epoch": 2}), weights_only=False)
    model2, opt2 = out["model"], out["opt"]
    assert opt2.param_groups[0]["params"][0] is model2[0].weight  # one object, as pickle keeps identity
    for m, o in ((model, opt), (model2, opt2)):  # both continue training identically
        o.zero_grad()
        m(x).pow(2).mean().backward()
        o.step()
    for a, b in zip(model.parameters(), model2.parameters()):
        assert np.array_equal(a.detach().numpy(), b.detach().numpy())


# ---- weights_only=True: how allowlisted classes are built, and what stays refused ---------------

def test_allowlisted_classes_are_built_as_pytorch_does():
    data = save_bytes({"cfg": Config(0.5, "run"), "slots": Slotted(1, [2]), "restored": Restored(21),
                       "w": ember.ones(2)})
    with pytest.raises(UnsafeUnpicklingError, match=f"GLOBAL {__name__}.Config was not an allowed global"):
        load_bytes(data)
    inits = Config.inits
    with safe_globals([Config, Slotted, Restored]):
        out = load_bytes(data)
    assert Config.inits == inits  # created with __new__ and given its state, never __init__
    assert out["cfg"] == Config(0.5, "run") and (out["slots"].a, out["slots"].b) == (1, [2])
    assert out["restored"].value == 21 and out["restored"].restored  # through __setstate__
    assert out["w"].tolist() == [1.0, 1.0]


def test_allowlist_api_follows_pytorch():
    add_safe_globals([Config, (Slotted, "some.module.Slotted")])
    assert set(get_safe_globals()) == {Config, (Slotted, "some.module.Slotted")}
    with safe_globals([Restored, Config]):
        assert set(get_safe_globals()) == {Config, Restored, (Slotted, "some.module.Slotted")}
    assert get_safe_globals() == [(Slotted, "some.module.Slotted")]  # removed on exit, as in PyTorch
    clear_safe_globals()
    assert get_safe_globals() == []
    with pytest.raises(ValueError, match="tuple of length 2"):
        add_safe_globals([(Config, "a", "b")])
    with pytest.raises(TypeError, match="str of callable full path"):
        add_safe_globals([(Config, 3)])
    with pytest.raises(TypeError, match="not a class or function"):
        add_safe_globals([3])
    assert ember.serialization.safe_globals is safe_globals  # the names torch.serialization has


def test_a_name_can_be_allowlisted_for_another_object():
    pkl = records(save_bytes({"cfg": Config(1, "a")}))
    data_pkl = pkl["archive/data.pkl"].replace(f"{__name__}\nConfig\n".encode(), b"legacy.configs\nRunConfig\n")
    data = rezip({**pkl, "archive/data.pkl": data_pkl})
    with pytest.raises(UnsafeUnpicklingError, match="GLOBAL legacy.configs.RunConfig was not"):
        load_bytes(data)
    with safe_globals([(Config, "legacy.configs.RunConfig")]):
        assert load_bytes(data)["cfg"] == Config(1, "a")


@pytest.mark.parametrize("global_name, call, match", [
    ("os\ngetcwd", True, "refused to load global 'os.getcwd': its module os is blocked"),
    ("posix\nsystem", True, "refused to load global 'posix.system': its module posix is blocked"),
    ("builtins\nset", False, None),
])
def test_blocked_modules_stay_refused_even_when_allowlisted(global_name, call, match):
    pkl = b"\x80\x02c" + global_name.encode() + b"\n" + (b")R." if call else b"]\x85R.")
    add_safe_globals([os.getcwd, (os.getcwd, "os.getcwd"), (os.system, "posix.system")])
    if match is None:
        assert load_bytes(rezip({"archive/data.pkl": pkl})) == set()
        return
    with pytest.raises(UnsafeUnpicklingError, match=match):
        load_bytes(rezip({"archive/data.pkl": pkl}))


def test_objects_of_classes_not_allowlisted_are_neither_created_nor_built():
    add_safe_globals([make_instance])
    # BUILD on an object an allowlisted function returned, whose class isn't allowlisted.
    build = b"\x80\x02c" + f"{__name__}\nmake_instance\n".encode() + b")R}X\x01\x00\x00\x00aK\x01sb."
    with pytest.raises(UnsafeUnpicklingError, match="refused to set the state of a Config object .*add_safe_globals"):
        load_bytes(rezip({"archive/data.pkl": build}))
    # NEWOBJ of a class that only a call could have produced.
    add_safe_globals([type])
    newobj = b"\x80\x02cbuiltins\ntype\nc" + f"{__name__}\nmake_instance\n".encode() + b")R\x85R)\x81."
    with pytest.raises(UnsafeUnpicklingError, match="refused to create a Config object \\(pickle NEWOBJ\\)"):
        load_bytes(rezip({"archive/data.pkl": newobj}))


def test_numpy_arrays_need_allowlisting_as_in_pytorch():
    data = save_bytes({"arr": np.arange(3), "w": ember.ones(1)})
    with pytest.raises(UnsafeUnpicklingError, match="GLOBAL numpy._core.multiarray._reconstruct was not"):
        load_bytes(data)
    assert get_unsafe_globals_in_checkpoint(io.BytesIO(data)) == [
        "numpy._core.multiarray._reconstruct", "numpy.ndarray", "numpy.dtype"]
    # The dtype object is built (BUILD) too, so its class must be allowlisted as well, as in PyTorch;
    # a static look at the pickle can't see that.
    needed = [np._core.multiarray._reconstruct, np.ndarray, np.dtype, type(np.dtype(np.int64))]
    with safe_globals(needed[:3]):
        with pytest.raises(UnsafeUnpicklingError, match="set the state of a Int64DType"):
            load_bytes(data)
    with safe_globals(needed):
        out = load_bytes(data)
    np.testing.assert_array_equal(out["arr"], np.arange(3))
    with pytest.raises(ValueError, match="Expected input to be a checkpoint returned by torch.save"):
        get_unsafe_globals_in_checkpoint(io.BytesIO(save_bytes({"w": ember.ones(1)})))


# ---- weights_only=False with PyTorch's own classes, and how weights_only is decided ---------------

def torch_whole_linear() -> bytes:
    """What ``torch.save(torch.nn.Linear(...))`` writes, near enough: Ember's pickle with PyTorch's class name."""
    pkl = records(save_bytes(nn.Linear(2, 3)))
    pkl["archive/data.pkl"] = pkl["archive/data.pkl"].replace(b"ember.nn.modules.linear\nLinear\n",
                                                              b"torch.nn.modules.linear\nLinear\n")
    return rezip(pkl)


def test_pytorch_classes_cannot_be_rebuilt_without_pytorch():
    data = torch_whole_linear()
    with pytest.raises(CheckpointUnpicklingError, match="torch.nn.modules.linear.Linear is a PyTorch class, which "
                                                        "Ember can't rebuild without PyTorch") as info:
        load_bytes(data, weights_only=False)
    assert "state_dict()" in str(info.value) and str(info.value).startswith("'ckpt.pt': ")
    with pytest.raises(UnsafeUnpicklingError, match="refused to load global 'torch.nn.modules.linear.Linear': .*"
                                                    "PyTorch class"):
        load_bytes(data)
    add_safe_globals([(nn.Linear, "torch.nn.modules.linear.Linear")])  # a stand-in the user names
    linear = load_bytes(data, weights_only=False)
    assert type(linear) is nn.Linear and linear(ember.ones(1, 2)).shape == (1, 3)


def test_trusted_loading_reports_the_files_own_failures():
    pkl = records(save_bytes({"cfg": Config(1, "a")}))
    pkl["archive/data.pkl"] = pkl["archive/data.pkl"].replace(f"{__name__}\n".encode(), b"no_such_module_xyz\n")
    with pytest.raises(CheckpointUnpicklingError, match="can't unpickle data.pkl with weights_only=False "
                                                        "\\(ModuleNotFoundError") as info:
        load_bytes(rezip(pkl), weights_only=False)
    assert isinstance(info.value.__cause__, ModuleNotFoundError)


def test_how_weights_only_is_decided(monkeypatch):
    data = save_bytes({"cfg": Config(3, "z")})
    assert load_bytes(data, pickle_module=pickle)["cfg"] == Config(3, "z")  # a pickle_module means False
    with pytest.raises(RuntimeError, match="Can not safely load weights when explicit pickle_module"):
        load_bytes(data, pickle_module=pickle, weights_only=True)
    monkeypatch.setenv("EMBER_FORCE_WEIGHTS_ONLY_LOAD", "1")
    with pytest.raises(UnsafeUnpicklingError):
        load_bytes(data, weights_only=False)
    monkeypatch.setenv("EMBER_FORCE_NO_WEIGHTS_ONLY_LOAD", "true")
    with pytest.raises(RuntimeError, match="Only one of"):
        load_bytes(data)
    monkeypatch.delenv("EMBER_FORCE_WEIGHTS_ONLY_LOAD")
    with pytest.warns(UserWarning, match="EMBER_FORCE_NO_WEIGHTS_ONLY_LOAD"):
        assert load_bytes(data)["cfg"] == Config(3, "z")
    with pytest.raises(UnsafeUnpicklingError):  # only an unset argument is overridden
        load_bytes(data, weights_only=True)


# ---- views of one storage ------------------------------------------------------------------------

def test_views_are_saved_as_views_of_one_storage():
    base = ember.arange(24.0).reshape(4, 6)
    obj = {"base": base, "t": base.t(), "window": base[1:3, 2:5], "row": base[1].expand(3, 6),
           "cfg": Config(1, "v")}
    data = save_bytes(obj)
    rec = records(data)
    assert [n for n in rec if "/data/" in n] == ["archive/data/0"]  # one storage for all four
    out = load_bytes(data, weights_only=False)
    for k in ("base", "t", "window", "row"):
        assert out[k].tolist() == obj[k].tolist() and out[k].stride() == obj[k].stride(), k
    assert [out[k].storage_offset() for k in ("base", "t", "window", "row")] == [0, 0, 8, 6]
    assert out["t"]._base is out["base"] and out["window"]._base is out["base"]
    out["base"][1, 3] = -1.0  # one memory, as in PyTorch
    assert out["t"][3, 1].item() == -1.0 and out["window"][0, 1].item() == -1.0 and out["row"][2, 3].item() == -1.0
    assert out["window"]._version == out["base"]._version == 1  # views share the version counter
    with pytest.raises((RuntimeError, ValueError)):
        out["row"][0, 0] = 5.0  # an expanded view is read-only, as Ember's expand results are


def test_a_numpy_slice_is_saved_without_the_array_around_it():
    big = np.arange(1000.0)
    t = ember.from_numpy(big[10:20])
    rec = records(save_bytes([t, Config(0, "")]))
    assert rec["archive/data/0"] == np.arange(10.0, 20.0).tobytes()
    odd = ember.from_numpy(big[::-100].copy()[::-1])  # a negative stride: saved as a contiguous copy
    assert load_bytes(save_bytes([odd], format="torch"))[0].tolist() == odd.tolist()


def test_checkpoint_views_report_their_offset_into_the_storage():
    for fixture, weights_only in [("torch_zip.pt", True), ("torch_legacy.pt", True), ("torch_legacy.pt", False)]:
        with pytest.warns(UserWarning, match="bfloat16"):
            out = ember.load(DATA / fixture, weights_only=weights_only)
        assert out["window"].storage_offset() == 8 and out["weight_t"].storage_offset() == 0
        assert out["weight_t"]._base is out["weight"] and out["weight"]._base is None
        out["weight"].mul_(2)
        assert out["window"]._version == 1 and out["window"][0, 0].item() == 16.0
        assert out["param"]._base is None  # a Parameter is never a view: in-place rules for leaves stay


def test_legacy_checkpoints_run_their_objects_once_when_trusted():
    head = [0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001, "little_endian": True}]
    pid = b"(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x03Ntq\x01Q"
    tensor = (b"ctorch._utils\n_rebuild_tensor_v2\n(" + pid
              + b"K\x00K\x03\x85K\x01\x85\x89ccollections\nOrderedDict\n)Rtq\x02R")  # offset 0, size (3,), stride (1,)
    restored = b"c" + f"{__name__}\nRestored\n".encode() + b")\x81}X\x06\x00\x00\x00packedK\x0csb"
    obj = b"\x80\x02}(X\x01\x00\x00\x00w" + tensor + b"X\x01\x00\x00\x00r" + restored + b"u."
    data = (b"".join(pickle.dumps(v, protocol=2) for v in head) + obj + pickle.dumps(["0"], protocol=2)
            + struct.pack("<q", 3) + np.array([1.0, 2.0, 3.0], "<f4").tobytes())
    calls = Restored.setstates
    out = load_bytes(data, weights_only=False)
    assert out["w"].tolist() == [1.0, 2.0, 3.0] and out["r"].value == 6
    assert Restored.setstates == calls + 1  # one pass: the file's code ran once
    with pytest.raises(CheckpointError, match="claims 1000 elements"):
        load_bytes(data.replace(b"K\x03Ntq\x01Q", b"M\xe8\x03Ntq\x01Q"), weights_only=False)


# ---- files Ember wrote, as PyTorch read them ------------------------------------------------------

def pickle_structure(data_pkl: bytes) -> list:
    """The globals a pickle names and where it refers to storages, in order: what PyTorch depends on."""
    import pickletools
    return [arg if op.name == "GLOBAL" else op.name for op, arg, _ in pickletools.genops(data_pkl)
            if op.name in ("GLOBAL", "BINPERSID")]


REGENERATE = ("differs from the committed file: if the change is deliberate, rewrite the files and rerun the "
              "PyTorch check (see data/make_torch_roundtrip_reference.py)")


@pytest.mark.parametrize("name", [REF.TORCH_FORMAT, REF.WHOLE_OBJECTS])
def test_ember_still_writes_the_committed_checkpoints(name):
    """The records PyTorch read are what Ember writes today: the storages byte for byte, and data.pkl
    byte for byte for the state dict (for the whole object, its structure: the globals and storage
    references in order, so that a new attribute on nn.Module doesn't count as a change of format)."""
    obj, kwargs = ((REF.torch_format_object(ember), {"format": "torch"}) if name == REF.TORCH_FORMAT
                   else (REF.whole_object(ember), {}))
    committed = records((DATA / name).read_bytes())
    written = records(save_bytes(obj, **kwargs))
    assert list(written) == list(committed), name
    for record in committed:
        if record.endswith("data.pkl") and name == REF.WHOLE_OBJECTS:
            assert pickle_structure(written[record]) == pickle_structure(committed[record]), f"{record} {REGENERATE}"
        elif not record.endswith("serialization_id"):
            assert written[record] == committed[record], f"{name}: {record} {REGENERATE}"


def test_pytorch_read_the_torch_format_file_as_ember_wrote_it():
    ref = json.loads((DATA / REF.REFERENCE).read_text())["torch_format"]
    obj = REF.torch_format_object(ember)
    assert list(ref) == list(obj)
    loaded = ember.load(DATA / REF.TORCH_FORMAT)  # and Ember reads it back, weights_only=True
    plain = {"size": "torch.Size", "dtype": "torch.dtype", "device": "torch.device", "raw": "builtins.bytes",
             "ids": "builtins.set", "meta": "builtins.dict"}
    for k, v in obj.items():
        if not isinstance(v, ember.Tensor):
            assert ref[k]["type"] == plain[k] and loaded[k] == v, k
            continue
        r = ref[k]
        kind = "torch.nn.parameter.Parameter" if isinstance(v, nn.Parameter) else "torch.Tensor"
        assert r["type"] == kind and r["dtype"] == f"torch.{v.dtype.name}", k
        # An empty tensor is written with contiguous strides (Ember's own report (0, 0) for zeros(0, 3)).
        stride = [3, 1] if k == "empty" else list(v.stride())
        assert r["shape"] == list(v.shape) and r["stride"] == stride, k
        assert r["values"] == v.tolist() and r["requires_grad"] == v.requires_grad, k
        assert r["storage_offset"] == loaded[k].storage_offset(), k
        assert loaded[k].tolist() == v.tolist() and loaded[k].dtype is v.dtype, k
    views = {k: ref[k]["storage"] for k in ("weight", "weight_t", "window", "row_expanded")}
    assert len(set(views.values())) == 1  # PyTorch saw one storage under the four views
    others = [v["storage"] for k, v in ref.items() if k not in views and v.get("storage") is not None]
    assert len(others) == len(set(others)) + 1  # each other tensor its own storage; "tied" is "param"
    assert ref["size"]["type"] == "torch.Size" and ref["dtype"]["repr"] == "torch.float64"
    assert ref["device"]["repr"] == "device(type='cpu')"
    assert loaded["tied"] is loaded["param"]


def test_pytorch_read_the_whole_object_file_as_ember_wrote_it():
    ref = json.loads((DATA / REF.REFERENCE).read_text())
    whole = ref["whole_objects"]
    obj = REF.whole_object(ember)
    assert whole["model_type"] == "ember.nn.modules.container.Sequential"
    state = obj["model"].state_dict()
    assert sorted(whole["state"]) == sorted(state)
    for k, v in state.items():
        r = whole["state"][k]
        assert r["values"] == v.tolist() and r["dtype"] == f"torch.{v.dtype.name}", k
        assert r["type"] == ("torch.nn.parameter.Parameter" if k.endswith(("weight", "bias")) else "torch.Tensor"), k
    assert [r["storage_offset"] for r in whole["views"]] == [0, 4, 0]
    assert len({r["storage"] for r in whole["views"]}) == 1
    assert whole["array"] == {"type": "numpy.ndarray", "dtype": "int32", "values": obj["array"].tolist()}
    assert whole["dtype"]["repr"] == "torch.float16" and whole["size"]["repr"] == "torch.Size([4])"
    assert whole["args"]["repr"] == repr(obj["args"]) and whole["ratio"]["repr"] == repr(obj["ratio"])
    assert "GLOBAL ember.nn.modules.container.Sequential was not an allowed global" in ref["weights_only_refusal"]
    # Ember's model and the one PyTorch rebuilt from the file compute the same thing.
    x = ember.tensor(ref["forward"]["input"])
    np.testing.assert_allclose(obj["model"](x).detach().numpy(), ref["forward"]["output"], rtol=1e-6, atol=1e-6)
    loaded = ember.load(DATA / REF.WHOLE_OBJECTS, weights_only=False)
    np.testing.assert_allclose(loaded["model"](x).detach().numpy(), ref["forward"]["output"], rtol=1e-6, atol=1e-6)
    assert loaded["args"] == argparse.Namespace(lr=0.1, epochs=3) and loaded["ratio"] == fractions.Fraction(1, 3)
    assert loaded["views"][1]._base is loaded["views"][0] and loaded["views"][1].storage_offset() == 4


def test_default_allowlist_and_device_tensors(accel):
    from collections import Counter
    counts = Counter(a=2, b=1)
    out = load_bytes(save_bytes({"c": counts, "w": ember.ones(2)}))  # Counter is allowed by default, as in PyTorch
    assert out["c"] == counts and type(out["c"]) is Counter
    on_device = ember.arange(6.0, device="accel:1").reshape(2, 3)
    data = save_bytes({"t": on_device.t(), "base": on_device, "cfg": Config(1, "d")})
    assert records(data)["archive/data/0"] == np.arange(6, dtype="<f4").tobytes()  # the storage, from the device
    out = load_bytes(data, weights_only=False)  # on the CPU unless map_location says otherwise
    assert out["t"].device == ember.device("cpu") and out["t"].tolist() == on_device.t().tolist()
    moved = load_bytes(data, weights_only=False, map_location={"accel:1": "accel:0"})
    assert moved["base"].device == ember.device("accel:0") and moved["t"].tolist() == on_device.t().tolist()
