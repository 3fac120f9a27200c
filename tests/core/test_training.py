"""End-to-end: an MLP trained with Ember on real data (scikit-learn's 8x8 digits) generalises."""
import importlib.util
import pathlib

import pytest

pytest.importorskip("sklearn", reason="scikit-learn is a test dependency (pip install -e '.[test]')")

EXAMPLE = pathlib.Path(__file__).parents[2] / "examples" / "train_digits.py"


def _load_example():
    spec = importlib.util.spec_from_file_location("train_digits", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mlp_on_digits_reaches_95_percent():
    example = _load_example()
    acc = example.train(epochs=30, seed=0, verbose=False)
    assert acc >= 0.95, f"test accuracy {acc:.3f} is below 0.95"
