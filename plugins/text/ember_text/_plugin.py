"""The ``text`` Ember plugin: hands ember-text's registration tables to Ember's registries.

Named by the entry point ``[project.entry-points.ember] text = "ember_text._plugin"``. Each table lives
next to what it registers (``datasets/_registry.py``, ``models/_registry.py``, filled by the builders'
``@register_model``); the hooks import them only when called, so discovering the plugin stays cheap.
"""
from __future__ import annotations

from ember.plugins import hookimpl


@hookimpl
def ember_register_datasets(registry) -> None:
    from .datasets._registry import DATASETS
    registry.add_all(DATASETS)


@hookimpl
def ember_register_models(registry) -> None:
    from .models import MODELS  # importing the package runs every builder's @register_model
    registry.add_all(MODELS)


@hookimpl
def ember_env_info() -> dict:
    from . import __version__
    try:
        import regex
        regex_version = regex.__version__
    except ImportError:
        regex_version = None
    return {"ember-text": __version__, "regex": regex_version}
