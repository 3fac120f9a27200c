"""The plugin-author API (``ember.plugins``): what a plugin may use of Ember, each piece tested, and a scan
that keeps the shipped plugins (vision, metrics, text, the example) on it.

The scan reads every source file of the plugins (``ast``) and fails naming ``file:line`` for an import of
an Ember private module or name (``ember._tensor``, ``ember.ops._dispatch``, ``from ember.x import _y``),
an attribute chain through one (``ember._C``), or a tensor's private slot read on another object
(``t._data``, ``t._device``). A plugin's own private modules are its business, and so is a subclass using
the attributes its base class gives subclasses (``self._modules`` in an ``nn.Module``, as in PyTorch).
"""
from __future__ import annotations

import ast
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest

import ember
from ember import plugins
from ember.plugins import RegistrationTable, Weights, WeightsEnum, arrays
from ember.plugins import weights as W
from ember.plugins.pickles import PickleFormatError, load_pickle
from ember.plugins.registry import PluginRegistry, Registry
from ember.plugins.weights import builder_weights, sha256_file
from ember.serialization import UnsafeUnpicklingError
from ember.testing import NumpyAccelerator, OpTest, assert_close

ROOT = Path(__file__).resolve().parents[2]
PLUGIN_SOURCES = sorted([*(p for p in ROOT.glob("plugins/*/ember_*") if (p / "__init__.py").is_file()),
                         ROOT / "examples" / "third_party_plugin" / "src"])


# ---- the scan: the shipped plugins use only the public API ---------------------------------------------------

_TENSOR_PRIVATE = {s for s in ember.Tensor.__slots__ if s.startswith("_") and not s.startswith("__")}


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _is_ember(module: str | None) -> bool:
    return module is not None and (module == "ember" or module.startswith("ember."))


def _chain(node: ast.AST) -> list[str] | None:
    """``a.b.c`` -> ["a", "b", "c"]; None when the chain does not start at a plain name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return [node.id, *reversed(parts)]


def private_uses(source: str, filename: str = "<source>") -> list[str]:
    """``"line: what"`` for each use of an Ember private name in ``source`` (see the module docstring)."""
    tree = ast.parse(source, filename)
    ember_names = set()   # local names bound to Ember modules ("ember", "F" for ember.nn.functional, ...)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _is_ember(alias.name):
                    ember_names.add(alias.asname or alias.name.split(".")[0])
                    if any(map(_private, alias.name.split("."))):
                        found.append((node.lineno, f"import {alias.name}"))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and _is_ember(node.module):
            if any(map(_private, node.module.split("."))):
                found.append((node.lineno, f"from {node.module} import ..."))
            for alias in node.names:
                if _private(alias.name):
                    found.append((node.lineno, f"from {node.module} import {alias.name}"))
                else:
                    ember_names.add(alias.asname or alias.name)
    inner = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and id(node) not in inner:  # the whole chain, once
            chain = _chain(node)
            if chain and chain[0] in ember_names and any(map(_private, chain[1:])):
                found.append((node.lineno, ".".join(chain)))
        if isinstance(node, ast.Attribute) and node.attr in _TENSOR_PRIVATE:
            if not (isinstance(node.value, ast.Name) and node.value.id == "self"):
                found.append((node.lineno, f"a tensor's private .{node.attr}"))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in ("getattr", "setattr", "hasattr") and len(node.args) >= 2
              and isinstance(node.args[1], ast.Constant) and node.args[1].value in _TENSOR_PRIVATE):
            found.append((node.lineno, f"{node.func.id}(..., {node.args[1].value!r})"))
    return [f"{line}: {what}" for line, what in sorted(set(found))]


@pytest.mark.parametrize("snippet, expected", [
    ("from ember._tensor import _make", ["1: from ember._tensor import ...", "1: from ember._tensor import _make"]),
    ("import ember.ops._dispatch as d", ["1: import ember.ops._dispatch"]),
    ("from ember.plugins.weights import _offline", ["1: from ember.plugins.weights import _offline"]),
    ("import ember\nember.serialization._torch._Unpickler", ["2: ember.serialization._torch._Unpickler"]),
    ("def f(t):\n    return t._data", ["2: a tensor's private ._data"]),
    ("getattr(t, '_device')", ["1: getattr(..., '_device')"]),
    ("from . import _functional_pil\nfrom ember.plugins.arrays import to_array\nself._device = 1", []),
])
def test_the_scan_finds_private_uses(snippet, expected):
    assert private_uses(snippet) == expected


@pytest.mark.parametrize("package", PLUGIN_SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_plugins_use_only_the_public_api(package):
    problems = [f"{path.relative_to(ROOT)}:{use}" for path in sorted(package.rglob("*.py"))
                for use in private_uses(path.read_text(encoding="utf-8"), str(path))]
    assert not problems, "Ember private names used by a plugin (use ember.plugins' public API):\n" + "\n".join(problems)


def test_every_plugin_is_scanned():
    assert {p.name for p in PLUGIN_SOURCES} >= {"ember_vision", "ember_metrics", "ember_text", "src"}


# ---- one plugin layout --------------------------------------------------------------------------------------

@pytest.mark.parametrize("package", PLUGIN_SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_hooks_module_is_underscore_plugin(package):
    """Every plugin names its hooks module ``ember_<name>/_plugin.py`` and its entry point points there."""
    hooks = list(package.rglob("_plugin.py"))
    assert len(hooks) == 1 and hooks[0].parent.name.startswith("ember_"), hooks
    toml = next(p for p in (package.parent / "pyproject.toml", package.parent.parent / "pyproject.toml") if p.is_file())
    assert f'"{hooks[0].parent.name}._plugin"' in toml.read_text()
    assert not list(package.rglob("plugin.py"))


# ---- array interop -------------------------------------------------------------------------------------------

def test_arrays_round_trip_without_copies():
    t = ember.arange(6.0).reshape(2, 3)
    a = arrays.to_array(t)
    assert isinstance(a, np.ndarray) and arrays.array_module(t) is np and arrays.array_module("cpu") is np
    a[0, 0] = 7.0                                   # the tensor's own storage
    assert t[0, 0].item() == 7.0
    back = arrays.from_array(a, t.device)
    assert back.device == t.device and back.dtype is ember.float32 and not back.requires_grad
    a[0, 1] = 8.0
    assert back[0, 1].item() == 8.0
    scalar = arrays.from_array(np.float64(2.5))     # what NumPy reductions return
    assert scalar.shape == () and scalar.dtype is ember.float64


def test_from_array_errors():
    with pytest.raises(TypeError, match="needs a numpy.ndarray, got builtins.list"):
        arrays.from_array([1, 2])
    with pytest.raises(TypeError, match="Ember has no dtype for arrays of <U1"):
        arrays.from_array(np.array(["a"]))
    with pytest.raises(TypeError, match="to_array expects an ember.Tensor, got ndarray"):
        arrays.to_array(np.zeros(2))


def test_arrays_on_another_device():
    ember.backend.register_backend(NumpyAccelerator("apitest", count=1))
    try:
        t = ember.ones(3, device="apitest")
        out = arrays.from_array(arrays.array_module(t).cumsum(arrays.to_array(t)), t.device)
        assert str(out.device) == "apitest:0"
        assert_close(out.cpu(), [1.0, 2.0, 3.0])
        assert str(arrays.from_array(np.zeros(2), "apitest").device) == "apitest:0"
    finally:
        ember.backend.unregister_backend("apitest")


# ---- the restricted loader for third-party pickles -----------------------------------------------------------

class _Point:
    def __init__(self, x):
        self.x = x


class _Evil:
    def __reduce__(self):
        import os
        return os.system, ("echo pwned",)


def test_load_pickle_reads_containers_and_numeric_arrays(tmp_path):
    data = {"labels": [1, 2], "data": np.arange(6, dtype=">i4").reshape(2, 3), "name": b"batch 1", "f": 0.5}
    for protocol in (2, 4):
        out = load_pickle(pickle.dumps(data, protocol=protocol))
        assert out["labels"] == [1, 2] and out["name"] == b"batch 1" and out["f"] == 0.5
        np.testing.assert_array_equal(out["data"], data["data"])
    path = tmp_path / "batch"
    path.write_bytes(pickle.dumps(data, protocol=2))
    assert load_pickle(path)["labels"] == [1, 2]
    with open(path, "rb") as f:
        assert load_pickle(f)["labels"] == [1, 2]


@pytest.mark.parametrize("obj, match", [
    (_Evil(), r"refused to load global '(posix|os|nt)\.system'"),
    (np.array([object()], dtype=object), r"refused numpy dtype 'O8'"),
    (_Point(1), r"refused to load global 'test_plugin_api._Point'"),
])
def test_load_pickle_refuses_anything_else(obj, match):
    with pytest.raises(UnsafeUnpicklingError, match=match):
        load_pickle(pickle.dumps(obj, protocol=2), name="f.pkl")


def test_load_pickle_allows_named_globals():
    raw = pickle.dumps(_Point(3), protocol=2)
    assert load_pickle(raw, allowed_globals=[_Point]).x == 3
    assert load_pickle(raw, allowed_globals=[(_Point, "test_plugin_api._Point")]).x == 3
    with pytest.raises(UnsafeUnpicklingError, match=r"refused to load global 'numpy.*_reconstruct'"):
        load_pickle(pickle.dumps(np.zeros(2), protocol=2), numpy_arrays=False)


def test_load_pickle_names_malformed_data():
    raw = pickle.dumps({"data": np.zeros(4, np.uint8)}, protocol=2)
    with pytest.raises(PickleFormatError, match=r"f.pkl: not a valid CIFAR pickle \((EOFError|UnpicklingError)"):
        load_pickle(raw[:-5], name="f.pkl", what="CIFAR pickle")
    short = raw.replace(b"\x00\x00\x00\x00", b"\x00\x00\x00", 1)
    with pytest.raises(PickleFormatError):
        load_pickle(short, name="f.pkl")


# ---- registration written once -------------------------------------------------------------------------------

class Toy_Weights(WeightsEnum):
    V1 = Weights(url="/nonexistent/toy.ember", sha256="0" * 64, meta={"categories": ["a", "b"]})
    DEFAULT = V1


class Other_Weights(WeightsEnum):
    V1 = Weights(url="/nonexistent/other.ember", sha256="1" * 64)


def toy_net(*, weights: Toy_Weights | str | None = None, num_classes: int = 2):
    return ember.nn.Linear(2, num_classes)


def plain_net(*, weights=None):
    return ember.nn.Linear(2, 2)


def test_builder_weights_reads_the_annotation():
    assert builder_weights(toy_net) is Toy_Weights and builder_weights(plain_net) is None
    assert builder_weights(print) is None

    def two(*, weights: Toy_Weights | Other_Weights | None = None): ...
    with pytest.raises(TypeError, match="several weights enums \\(Other_Weights, Toy_Weights\\)"):
        builder_weights(two)


def test_a_table_registers_a_model_with_its_builders_weights():
    models = RegistrationTable("models", task="tabular-classification")
    models.register("toy", head="fc")(toy_net)
    assert models.register()(plain_net) is plain_net and models.names() == ["toy", "plain_net"]
    reg = Registry("models", plugins.manager._validate_model)
    assert PluginRegistry(reg, "t").add_all(models) == ["t:toy", "t:plain_net"]
    entry = reg.get("t:toy")
    assert entry.metadata["weights"] is Toy_Weights and entry.metadata["task"] == "tabular-classification"
    assert entry.metadata["head"] == "fc" and reg.get("plain_net").metadata.get("weights") is None
    with pytest.raises(ValueError, match="'toy' is already in this table"):
        models.add("toy", toy_net)


def test_a_registration_cant_disagree_with_its_builder():
    reg = Registry("models", plugins.manager._validate_model)
    with pytest.raises(TypeError, match="registered with weights=Other_Weights, but its builder's weights parameter "
                                        "declares Toy_Weights"):
        PluginRegistry(reg, "t").add("toy", toy_net, weights=Other_Weights)
    with pytest.raises(ValueError, match="a table of metrics can't be added to the models registry"):
        PluginRegistry(reg, "t").add_all(RegistrationTable("metrics"))
    with pytest.raises(ValueError, match="unknown registration kind 'model'"):
        RegistrationTable("model")


# ---- lazily imported subpackages -----------------------------------------------------------------------------

def test_lazy_submodules(tmp_path, monkeypatch):
    pkg = tmp_path / "lazy_api_pkg"
    (pkg / "heavy").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from ember.plugins.lazy import lazy_submodules\n"
                                     "__getattr__, __dir__ = lazy_submodules(__name__, ('heavy',))\n")
    (pkg / "heavy" / "__init__.py").write_text("VALUE = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import lazy_api_pkg
    try:
        assert "lazy_api_pkg.heavy" not in sys.modules and "heavy" in dir(lazy_api_pkg)
        assert lazy_api_pkg.heavy.VALUE == 42 and "lazy_api_pkg.heavy" in sys.modules
        with pytest.raises(AttributeError, match="module 'lazy_api_pkg' has no attribute 'light'"):
            lazy_api_pkg.light
    finally:
        for name in [n for n in sys.modules if n.startswith("lazy_api_pkg")]:
            del sys.modules[name]


# ---- weights: key remapping, the offline switch (DistributionWeights: test_distribution_weights.py) -------

def test_key_map_must_cover_the_checkpoint():
    assert W.rename_keys({"_fc.weight": 1, "_bn0.bias": 2}, [("_fc", "classifier.1"), ("_bn0", "features.0.1")]) \
        == {"classifier.1.weight": 1, "features.0.1.bias": 2}
    with pytest.raises(KeyError, match="'_extra.weight' has no counterpart"):
        W.rename_keys({"_extra.weight": 1}, [("_fc", "classifier.1")])


def test_is_offline(monkeypatch):
    for value, expected in (("1", True), ("yes", True), ("0", False), ("", False)):
        monkeypatch.setenv("EMBER_OFFLINE", value)
        assert W.is_offline() is expected and plugins.is_offline() is expected


def test_a_weights_record_maps_a_foreign_checkpoint(tmp_path):
    path = tmp_path / "foreign.ember"
    ember.save({"_fc.weight": ember.ones(2, 2), "_fc.bias": ember.zeros(2)}, path)
    w = Weights(url=str(path), sha256=sha256_file(path), key_map=lambda sd: W.rename_keys(sd, [("_fc", "0")]))
    model = ember.nn.Sequential(ember.nn.Linear(2, 2))
    model.load_state_dict(w.get_state_dict())
    assert_close(model[0].weight, ember.ones(2, 2))


def test_a_weights_record_for_another_format_overrides_load_file(tmp_path):
    """Fetching, checking and key_map stay the record's; only the reading is the subclass's."""
    path = tmp_path / "weights.txt"
    path.write_text("1.5")

    class TextWeights(Weights):
        def load_file(self, path, map_location=None):
            return {"_fc.bias": ember.tensor([float(Path(path).read_text())])}

    w = TextWeights(url=str(path), sha256=sha256_file(path), key_map=lambda sd: W.rename_keys(sd, [("_fc", "0")]))
    assert_close(w.get_state_dict()["0.bias"], ember.tensor([1.5]))
    path.write_text("2.5")
    with pytest.raises(W.ChecksumError, match="checksum mismatch"):
        w.get_state_dict()


# ---- ember.testing: the op-test harness and docstring examples ----------------------------------------------

class _Doubled(ember.autograd.Function):
    """``2 x`` with a wrong gradient (3 g): the harness must catch it."""

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g * 3


def test_check_op_passes_a_correct_op_and_names_each_failure():
    from ember.testing import check_op
    a = np.linspace(-2, 2, 6).reshape(2, 3)
    check_op(lambda x: (x * x).sum(1), a, reference=lambda x: (x * x).sum(1))
    with pytest.raises(AssertionError, match=r"forward in ember.float32, output 0"):
        check_op(lambda x: x * 2, a, reference=lambda x: x * 3, backward=False, double_backward=False)
    with pytest.raises(AssertionError, match=r"dtype ember.float64, expected ember.float32"):
        check_op(lambda x: x.double(), a, reference=lambda x: x, backward=False, double_backward=False)
    with pytest.raises(AssertionError, match=r"backward \(gradcheck in float64\) failed"):
        check_op(_Doubled.apply, a, reference=lambda x: 2 * x, double_backward=False)


def test_check_op_catches_a_kernel_that_ignores_strides():
    from ember.testing import check_op

    def contiguous_only(x):  # right only for contiguous inputs, as a kernel that ignores strides
        return x * 1 if x.is_contiguous() else x.flip(-1)
    with pytest.raises(AssertionError, match="non-contiguous inputs"):
        check_op(contiguous_only, np.arange(6.0).reshape(2, 3), reference=lambda x: x, backward=False,
                 double_backward=False)


class TestSquareWithTheClassForm(OpTest):
    """The class form: pytest collects test_forward, test_backward and test_double_backward."""

    op = staticmethod(lambda x: x * x)
    reference = staticmethod(np.square)

    def inputs(self):
        return (np.linspace(-1, 1, 5),)


def test_check_docstring_examples_reports_file_line_and_output(tmp_path, monkeypatch):
    from ember.testing import check_docstring_examples
    (tmp_path / "docpkg_api.py").write_text('def f():\n    """\n    >>> 1 + 1\n    3\n    """\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(AssertionError, match=r"docpkg_api.py:3: 1 \+ 1\n    expected: '3'\n    got:      '2'"):
        check_docstring_examples("docpkg_api")
