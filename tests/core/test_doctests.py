"""The docstring examples of the core packages run and print what they show (``ember.testing``'s
``check_docstring_examples``, which is ``--doctest-modules`` with ``ember`` and ``np`` preloaded).

``ember.hub``'s examples use the example plugin (``examples/third_party_plugin``), registered here in
process; each package runs from a scratch directory, since examples may write files.
"""
import pytest

import ember
from ember.testing import check_docstring_examples


# ember.ops, ember.nn, ember.autograd, ember.serialization and the package root join this list once their
# examples are checked (see the note in ARCHITECTURE.md's "Tests and benchmarks").
PACKAGES = ["ember.optim", "ember.plugins", "ember.testing", "ember.utils", "ember.hub", "ember.distributed",
            "ember.multiprocessing", "ember.ao", "ember.finetune", "ember.fft", "ember.ops.fft", "ember.ops.spectral",
            "ember.ops.complex", "ember.jit", "ember.onnx", "ember.profiler", "ember.autograd.profiler"]


@pytest.mark.parametrize("package", PACKAGES)
def test_docstring_examples(package, toy_plugin, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EMBER_HOME", str(tmp_path / "home"))
    assert check_docstring_examples(package) > 0
