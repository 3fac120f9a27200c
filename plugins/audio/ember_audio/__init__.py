"""ember-audio: audio I/O, torchaudio-shaped transforms, speech datasets and pretrained audio models.

Mirrors torchaudio's layout (``load``/``save``/``info`` at the top, ``functional``, ``transforms``,
``datasets``, ``models``), so ``import ember_audio as torchaudio`` runs torchaudio code. Everything is
imported on first access, so ``import ember_audio`` stays cheap (the plugin machinery imports it too).
"""
from __future__ import annotations

import importlib

from ember.plugins.lazy import lazy_submodules

__version__ = "0.1.0"

_SUBPACKAGES = ("functional", "transforms", "datasets", "models")

# Top-level names (torchaudio's) -> the module that defines them, imported on first access.
_NAMES = {"load": "_io", "save": "_io", "info": "_io", "AudioMetaData": "_io", "AudioDecodeError": "_io",
          "get_speech_timestamps": "vad", "VADIterator": "vad"}

__all__ = ["__version__", *_SUBPACKAGES, *_NAMES]

_getattr_submodule, _dir = lazy_submodules(__name__, _SUBPACKAGES)


def __getattr__(name: str):
    if name in _NAMES:
        value = getattr(importlib.import_module(f"{__name__}.{_NAMES[name]}"), name)
        globals()[name] = value
        return value
    return _getattr_submodule(name)


def __dir__() -> list:
    return sorted(set(_dir()) | set(_NAMES))
