"""Shared by the ember-audio tests.

``make test`` installs ember-audio (editable) into the test environment; when it isn't installed
(a checkout where only the core is), the package is imported straight from ``plugins/text``.
"""
import importlib.util
import pathlib
import sys

if importlib.util.find_spec("ember_audio") is None:
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "plugins" / "audio"))
