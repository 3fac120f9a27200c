"""Subpackages imported on first access, so importing a plugin's package stays cheap.

Ember's plugin machinery imports a plugin's package to find its hooks, and ``import ember_vision`` in
a script should not pay for Pillow or every model. A plugin's ``__init__.py`` declares its
subpackages once::

    from ember.plugins.lazy import lazy_submodules

    __getattr__, __dir__ = lazy_submodules(__name__, ("datasets", "transforms", "models"))

and ``ember_vision.models`` is imported the first time it is used (``import ember_vision.models`` works
as always).
"""
from __future__ import annotations

import importlib
import sys
from typing import Callable, Iterable

__all__ = ["lazy_submodules"]


def lazy_submodules(package: str, names: Iterable[str]) -> tuple[Callable[[str], object], Callable[[], list]]:
    """The module-level ``__getattr__`` and ``__dir__`` that import ``package.<name>`` on first access.

    >>> getattr_, dir_ = lazy_submodules("json", ("decoder",))
    >>> getattr_("decoder").__name__
    'json.decoder'
    """
    names = tuple(names)

    def __getattr__(name: str):
        if name in names:
            module = importlib.import_module(f"{package}.{name}")
            setattr(sys.modules[package], name, module)  # later lookups skip this function
            return module
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list:
        return sorted(set(vars(sys.modules[package])) | set(names))

    return __getattr__, __dir__
