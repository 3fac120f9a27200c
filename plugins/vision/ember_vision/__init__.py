"""ember-vision: datasets, transforms, models and image I/O for Ember, shaped like torchvision.

Code written for torchvision runs with ``import ember_vision as torchvision`` next to
``import ember as torch``::

    >>> import ember_vision as torchvision
    >>> ds = torchvision.datasets.FashionMNIST("data", train=False, download=True)  # doctest: +SKIP

The subpackages (``datasets``, ``transforms``, ``models``, ``io``, ``utils``, ``ops``) are imported
on first access, so ``import ember_vision`` stays cheap (the plugin machinery imports it too).
"""
from __future__ import annotations

from ember.plugins.lazy import lazy_submodules

__version__ = "0.1.0"

_SUBPACKAGES = ("datasets", "transforms", "models", "io", "utils", "ops")

__all__ = ["__version__", *_SUBPACKAGES]

__getattr__, __dir__ = lazy_submodules(__name__, _SUBPACKAGES)
