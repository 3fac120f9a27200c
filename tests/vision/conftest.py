"""Shared by the ember-vision tests.

``make test`` installs ember-vision (editable) into the test environment; when it isn't installed
(a checkout where only the core is), the package is imported straight from ``plugins/vision``.
"""
import importlib.util
import pathlib
import sys

if importlib.util.find_spec("ember_vision") is None:
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "plugins" / "vision"))
