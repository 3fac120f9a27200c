"""Fixtures for plugin tests: fake *installed* distributions discovered through real entry points.

A fake distribution is a ``<name>-<version>.dist-info`` directory (METADATA + entry_points.txt) next to
the plugin's module in a temporary directory on ``sys.path``: ``importlib.metadata`` finds it exactly
as it finds a pip-installed one, so discovery goes through the ``ember`` entry-point group.
"""
from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path

import pytest

from ember import plugins

EXAMPLE_SRC = Path(__file__).resolve().parents[2] / "examples" / "third_party_plugin" / "src"


class FakeSite:
    """A temporary site directory: ``add(...)`` writes a plugin module and its distribution metadata."""

    def __init__(self, root: Path):
        self.root = root

    def add(self, plugin: str, source: str | None = None, *, dist: str | None = None, version: str = "1.0",
            module: str | None = None, target: str | None = None) -> str:
        """A distribution ``dist`` (default ``ember-<plugin>``) with entry point ``plugin = <target>``.

        ``source`` becomes the module ``module`` (default ``fake_<plugin>``); returns the module name.
        """
        dist = dist or f"ember-{plugin}"
        module = module or f"fake_{plugin.replace('-', '_')}"
        if source is not None:
            (self.root / f"{module}.py").write_text(textwrap.dedent(source))
        info = self.root / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir(exist_ok=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        eps = info / "entry_points.txt"
        old = eps.read_text() if eps.exists() else "[ember]\n"
        eps.write_text(old + f"{plugin} = {target or module}\n")
        importlib.invalidate_caches()
        return module


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A fresh plugin environment: only the fake distributions in ``tmp_path`` are discovered."""
    monkeypatch.delenv("EMBER_STRICT_PLUGINS", raising=False)
    monkeypatch.delenv("EMBER_DISABLE_PLUGINS", raising=False)
    monkeypatch.setenv("EMBER_HOME", str(tmp_path / "ember_home"))
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    plugins.reset(search_path=[tmp_path])
    yield FakeSite(tmp_path)
    plugins.reset()
    for name in set(sys.modules) - before:
        if name.startswith("fake_") or name.startswith("ember_toy"):
            del sys.modules[name]


@pytest.fixture
def example_site(site):
    """The example third-party plugin (examples/third_party_plugin) 'installed' as distribution ember-toy."""
    sys.path.insert(0, str(EXAMPLE_SRC))
    site.add("toy", dist="ember-toy", version="0.1.0", target="ember_toy._plugin")
    yield site
    sys.path.remove(str(EXAMPLE_SRC))


GOOD = '''
    from ember import nn
    from ember.plugins import hookimpl

    class Net(nn.Module):
        def __init__(self, num_classes=3):
            super().__init__()
            self.fc = nn.Linear(4, num_classes)
        def forward(self, x):
            return self.fc(x)

    def net(num_classes=3):
        return Net(num_classes)

    class Data:
        def __init__(self, n=5):
            self.n = n

    class Tf:
        def __init__(self, k=1):
            self.k = k

    def tf(x, k=1):
        return x

    class Metric:
        pass

    def metric(a, b):
        return 1.0

    @hookimpl
    def ember_register_models(registry):
        registry.add("net", net, task="tabular-classification")

    @hookimpl
    def ember_register_datasets(registry):
        registry.add("data", Data, modality="tabular")

    @hookimpl
    def ember_register_transforms(registry):
        registry.add("tf", Tf, functional=tf, modality="tabular")

    @hookimpl
    def ember_register_metrics(registry):
        registry.add("metric", Metric, functional=metric, higher_is_better=True)
'''


@pytest.fixture
def good_source():
    return GOOD
