"""The core imports one way: no module of ``ember`` imports a module of a layer above its own.

The layers, lowest first, are fixed below. Imports are read from the source with ``ast``, the
ones inside functions included (an import deferred into a function still makes the lower module
depend on the higher one; it only hides the cycle). The few deliberate exceptions are listed in
``ALLOWED`` with their reason.
"""
from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2] / "core" / "ember"

# Lowest first. A module belongs to the first layer with a prefix that matches its dotted name
# (relative to ``ember``); a module may import its own layer and the layers below it.
LAYERS = (
    ("foundation", ("_version", "_op_hooks", "_dtype", "_qscheme", "_shared_memory", "backend", "_threads", "_determinism",
                    "autograd.grad_mode")),
    ("tensor", ("_tensor", "_format")),
    ("autograd", ("autograd.function", "autograd.engine")),
    # The op families, in the order they build on one another; the package module ``ember.ops``
    # comes last: it sets every family's Tensor methods once all have loaded.
    ("op basics", ("ops._erf", "ops._registry", "ops.creation")),
    ("op recording", ("ops._dispatch", "ops._views", "ops._inplace")),
    ("element-wise ops", ("ops.elementwise",)),
    ("conversions and reductions", ("ops.conversion", "ops.reduction")),
    ("shape, indexing, linalg and random ops", ("ops.shape", "ops.indexing", "ops.linalg", "ops.random",
                                                "ops.complex")),
    ("spectral ops", ("ops.fft", "ops.spectral")),
    ("ops", ("ops",)),
    ("autograd tools", ("autograd.gradcheck", "autograd.functional", "autograd", "profiler")),
    ("namespaces", ("cuda", "accelerator", "backends", "_compile", "distributed", "fft")),
    ("nn", ("nn",)),
    ("training", ("optim", "utils.data", "utils")),
    ("serialization", ("serialization",)),
    ("processes and deployment", ("multiprocessing", "ao", "jit", "onnx")),
    ("plugins", ("plugins", "hub", "testing")),
    ("entry points", ("cli", "__main__", "")),
)

# (importing module, imported module): why this upward import is deliberate.
ALLOWED: dict = {}


def _layer_of(module: str) -> int:
    for i, (_, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if module == p or module.startswith(p + ".") or p == "":
                return i
    raise AssertionError(f"ember.{module} is in no layer: add it to LAYERS in {__file__}")


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported(path: pathlib.Path, module: str):
    """Every ember module that ``path`` imports (relative or absolute), with its line number."""
    is_pkg = path.name == "__init__.py"
    package = module.split(".") if is_pkg else module.split(".")[:-1]
    if module == "":
        package = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and (node.module == "ember" or node.module.startswith("ember.")):
                target = node.module[len("ember."):] if node.module != "ember" else ""
            else:
                continue
            if node.module is None or target == "":
                # ``from . import x`` / ``from ember import x``: x may be a submodule
                for alias in node.names:
                    yield node.lineno, ".".join(filter(None, [target, alias.name]))
            else:
                yield node.lineno, target
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("ember."):
                    yield node.lineno, alias.name[len("ember."):]


def _is_module(name: str) -> bool:
    p = ROOT.joinpath(*name.split(".")) if name else ROOT
    return p.with_suffix(".py").exists() or (p / "__init__.py").exists()


def upward_imports():
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        module = _module_name(path)
        mine = _layer_of(module)
        for line, target in _imported(path, module):
            while target and not _is_module(target):   # ``from .x import name``: the module is x
                target = target.rpartition(".")[0]
            if not target and not _is_module(target):
                continue
            theirs = _layer_of(target)
            if theirs > mine and (module, target) not in ALLOWED:
                found.append(f"{path.relative_to(ROOT.parent)}:{line}: ember.{module} ({LAYERS[mine][0]}) imports "
                             f"ember.{target} ({LAYERS[theirs][0]})")
    return found


def test_no_module_imports_a_layer_above_its_own():
    found = upward_imports()
    assert not found, "upward imports:\n" + "\n".join(found)


def test_the_allowed_exceptions_still_exist():
    # An exception that is no longer needed must leave the list (so the list stays the truth).
    wanted = set(ALLOWED)
    present = set()
    for path in ROOT.rglob("*.py"):
        module = _module_name(path)
        for _, target in _imported(path, module):
            present.add((module, target))
    assert wanted <= present, f"stale entries in ALLOWED: {sorted(wanted - present)}"


@pytest.mark.parametrize("module, expected", [("ops.shape", "shape, indexing, linalg and random ops"), ("ops", "ops"), ("nn.modules.conv", "nn"),
                                              ("autograd.engine", "autograd"), ("cli", "entry points")])
def test_layer_lookup(module, expected):
    assert LAYERS[_layer_of(module)][0] == expected


def test_the_checker_sees_an_upward_import_inside_a_function(tmp_path, monkeypatch):
    pkg = tmp_path / "ember"
    (pkg / "ops").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "_tensor.py").write_text("def f():\n    from .ops import shape\n")
    (pkg / "ops" / "__init__.py").write_text("")
    (pkg / "ops" / "shape.py").write_text("")
    monkeypatch.setitem(globals(), "ROOT", pkg)
    found = upward_imports()
    assert len(found) == 1 and "ember/_tensor.py:2: ember._tensor (tensor) imports ember.ops" in found[0]
