"""The ``text`` Ember plugin: registers ember-text's datasets and models.

Named by the entry point ``[project.entry-points.ember] text = "ember_text._plugin"``; the hooks
import what they register only when called, so discovering the plugin stays cheap.
"""
from __future__ import annotations

import importlib

from ember.plugins import hookimpl


def _register_from(module_name: str, registry) -> None:
    """Call ``register(registry)`` of a registration-table module, if that part of the plugin exists."""
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        # Only the absence of the subpackage (or its table) means "nothing to register yet"; any
        # other import error inside it is a real bug and must fail the plugin.
        if e.name not in (module_name, module_name.rsplit(".", 1)[0]):
            raise
        return
    module.register(registry)


@hookimpl
def ember_register_datasets(registry) -> None:
    _register_from("ember_text.datasets._registry", registry)


@hookimpl
def ember_register_models(registry) -> None:
    _register_from("ember_text.models._registry", registry)


@hookimpl
def ember_env_info() -> dict:
    from . import __version__
    try:
        import regex
        regex_version = regex.__version__
    except ImportError:
        regex_version = None
    return {"ember-text": __version__, "regex": regex_version}
