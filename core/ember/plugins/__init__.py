"""Ember's plugin system: pluggy hooks discovered through the ``ember`` entry-point group.

Writing a plugin (see the "Write a plugin" section of the README and ``examples/third_party_plugin``)::

    from ember.plugins import hookimpl

    @hookimpl
    def ember_register_models(registry):
        registry.add("mlp", toy_mlp, weights=ToyMLP_Weights, task="tabular-classification", head="head")

and in the distribution's ``pyproject.toml``::

    [project.entry-points.ember]
    toy = "ember_toy.plugin"

Using plugins: ``ember.hub`` (``list_models``, ``get_model``, ...), :func:`list_plugins` and the
``ember`` command. Nothing is imported or loaded by ``import ember``: plugins load on first use.
"""
from __future__ import annotations

from .hookspecs import hookimpl, hookspec
from .manager import Command, CommandSet, PluginInfo, PluginManager, PluginWarning, get_manager, reset
from .registry import AmbiguousNameError, Entry, NotFoundError, PluginRegistry, Registry, RegistryError
from .tasks import TASKS, UnknownTaskError, check_task
from .weights import ChecksumError, Weights, WeightsEnum, WeightsError, WeightsNotFoundError, ember_home

__all__ = ["hookimpl", "hookspec", "list_plugins", "load", "register", "unregister", "get_registry", "reset",
           "PluginInfo", "PluginManager", "PluginWarning", "Registry", "PluginRegistry", "Entry", "RegistryError",
           "NotFoundError", "AmbiguousNameError", "Weights", "WeightsEnum", "WeightsError", "WeightsNotFoundError",
           "ChecksumError", "ember_home", "get_manager", "Command", "CommandSet", "TASKS", "UnknownTaskError",
           "check_task"]


def load(strict: bool | None = None) -> None:
    """Discover and load the installed plugins now (otherwise this happens on first use).

    ``strict`` defaults to ``EMBER_STRICT_PLUGINS``: re-raise a failed plugin's error.
    """
    get_manager().load(strict)


def list_plugins() -> list[PluginInfo]:
    """Every discovered plugin with its distribution, version, status, error and registrations.

    >>> [(p.name, p.status) for p in ember.plugins.list_plugins()]
    [('toy', 'loaded'), ('vision', 'loaded')]
    """
    m = get_manager()
    m.load()
    return list(m.plugins)


def register(plugin, name: str, **kwargs) -> PluginInfo:
    """Register an in-process plugin (a module or object with ``ember_*`` hooks) under ``name``.

    >>> ember.plugins.register(my_module, name="mine")   # then ember.hub.get_model("mine:net")
    """
    return get_manager().register(plugin, name, **kwargs)


def unregister(name: str) -> None:
    """Remove a plugin and everything it registered."""
    get_manager().unregister(name)


def get_registry(kind: str) -> Registry:
    """The (loaded) registry of ``"models"``, ``"datasets"``, ``"transforms"``, ``"metrics"`` or ``"backends"``."""
    m = get_manager()
    if kind not in m.registries:
        raise ValueError(f"unknown registry {kind!r}; expected one of {', '.join(m.registries)}")
    m.load()
    return m.registries[kind]
