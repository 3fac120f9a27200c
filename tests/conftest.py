import sys
from pathlib import Path

import numpy as np
import pytest

import ember
from ember import backend
from ember.testing import NumpyAccelerator


@pytest.fixture
def accel():
    """A NumPy-backed stand-in accelerator registered as device type ``accel`` (2 devices)."""
    b = NumpyAccelerator("accel", count=2)
    backend.register_backend(b)
    yield b
    backend.unregister_backend("accel")


@pytest.fixture
def fake_cuda():
    """Pretend CUDA: the stand-in accelerator registered under ``cuda`` (restored afterwards)."""
    previous = backend.registered_backends()["cuda"]
    b = NumpyAccelerator("cuda", count=2)
    backend.register_backend(b)
    yield b
    backend.register_backend(previous)


@pytest.fixture(autouse=True)
def _seed_and_default_dtype():
    np.random.seed(0)
    yield
    ember.set_default_dtype(ember.float32)


def pytest_collection_modifyitems(config, items):
    has_gpu = False
    try:
        has_gpu = backend.get_backend("cuda").is_available() and type(backend.get_backend("cuda")).__name__ == "CuPyBackend"
    except Exception:
        pass
    if not has_gpu:
        skip = pytest.mark.skip(reason="needs a real CUDA GPU with CuPy (ember.cuda.is_available() is False)")
        for item in items:
            if "cuda" in item.keywords:
                item.add_marker(skip)


EXAMPLE_PLUGIN_SRC = Path(__file__).resolve().parents[1] / "examples" / "third_party_plugin" / "src"


@pytest.fixture
def toy_plugin(monkeypatch):
    """The third-party example plugin (examples/third_party_plugin), registered in process as ``toy``."""
    monkeypatch.syspath_prepend(str(EXAMPLE_PLUGIN_SRC))
    import ember_toy._plugin
    ember.plugins.register(ember_toy._plugin, name="toy")
    yield
    ember.plugins.unregister("toy")
    for name in [n for n in sys.modules if n.startswith("ember_toy")]:
        del sys.modules[name]
