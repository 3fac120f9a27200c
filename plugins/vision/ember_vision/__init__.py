"""ember-vision: datasets, transforms, models and image I/O for Ember, shaped like torchvision.

Code written for torchvision runs with ``import ember_vision as torchvision`` next to
``import ember as torch``::

    >>> import ember_vision as torchvision
    >>> ds = torchvision.datasets.FashionMNIST("data", train=False, download=True)

The subpackages (``datasets``, ``transforms``, ``models``, ``io``, ``utils``, ``ops``) are imported
on first access, so ``import ember_vision`` stays cheap (the plugin machinery imports it too).
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

_SUBPACKAGES = ("datasets", "transforms", "models", "io", "utils", "ops")

__all__ = ["__version__", *_SUBPACKAGES]


def __getattr__(name: str):
    if name in _SUBPACKAGES:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module  # later lookups skip this function
        return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_SUBPACKAGES))
