"""The ``vision`` Ember plugin: registers ember-vision's datasets, transforms and models.

Named by the entry point ``[project.entry-points.ember] vision = "ember_vision._plugin"``; the
hooks import what they register only when called, so discovering the plugin stays cheap.
"""
from __future__ import annotations

import importlib

from ember.plugins import hookimpl

_MODELS_REGISTRY = "ember_vision.models._registry"


@hookimpl
def ember_register_datasets(registry) -> None:
    from .datasets import _registry
    _registry.register(registry)


@hookimpl
def ember_register_transforms(registry) -> None:
    from .transforms import _registry
    _registry.register(registry)


@hookimpl
def ember_register_models(registry) -> None:
    try:
        module = importlib.import_module(_MODELS_REGISTRY)
    except ModuleNotFoundError as e:
        # Only the absence of the models package (or its registry module) means "no models yet";
        # any other import error inside it is a real bug and must fail the plugin.
        if e.name not in ("ember_vision.models", _MODELS_REGISTRY):
            raise
        return
    module.register(registry)


@hookimpl
def ember_env_info() -> dict:
    from . import __version__
    try:
        import PIL
        pillow = PIL.__version__
    except ImportError:
        pillow = None
    return {"ember-vision": __version__, "pillow": pillow}
