"""Ember's plugin system: pluggy hooks discovered through the ``ember`` entry-point group, and the
public surface a plugin is written against.

Writing a plugin (see the "Write a plugin" section of the README and ``examples/third_party_plugin``)::

    from ember.plugins import hookimpl

    @hookimpl
    def ember_register_models(registry):
        registry.add_all(MODELS)          # a RegistrationTable, filled where the builders are defined

and in the distribution's ``pyproject.toml``::

    [project.entry-points.ember]
    toy = "ember_toy._plugin"

The plugin-author API (a plugin needs nothing else from Ember's internals; ``tests/ecosystem`` checks
that the shipped plugins import no private name):

=============================  ===============================================================================
``ember.plugins``              ``hookimpl``; ``RegistrationTable`` (what a plugin registers, written once;
                               ``RegistrationTable.from_classes``: classes under their ``snake_case`` names);
                               ``Weights``/``WeightsEnum``/``DistributionWeights``; ``TASKS``/``check_task``
``ember.plugins.arrays``       ``array_module``, ``to_array``, ``from_array``: a tensor's device array and back
``ember.plugins.pickles``      ``load_pickle``: third-party pickles read without running code from them
``ember.plugins.weights``      weights records, ``rename_keys`` (state-dict key remapping), ``is_offline``,
                               ``ember_home``, ``sha256_file``, ``builder_weights``
``ember.plugins.tasks``        the one task vocabulary (``TASKS``)
``ember.plugins.lazy``         ``lazy_submodules``: a package whose subpackages load on first use
``ember.plugins.datasets``     ``StandardTransform`` (a sample's transforms), ``dataset_repr`` (torchvision's repr),
                               ``find_classes``/``make_dataset`` (a folder per class), ``DatasetNotFoundError``,
                               ``DatasetFormatError``
``ember.testing``              ``assert_close``, ``make_tensor``, ``OpTest`` (the op-test harness),
                               ``NumpyAccelerator``
=============================  ===============================================================================

Using plugins: ``ember.hub`` (``list_models``, ``get_model``, ...), :func:`list_plugins` and the
``ember`` command. Nothing is imported or loaded by ``import ember``: plugins load on first use.
"""
from __future__ import annotations

from .hookspecs import hookimpl, hookspec
from .manager import Command, CommandSet, PluginInfo, PluginManager, PluginWarning, get_manager, reset
from .registry import (AmbiguousNameError, Entry, NotFoundError, PluginRegistry, RegistrationTable, Registry,
                       RegistryError, snake_case)
from .tasks import TASKS, UnknownTaskError, check_task
from .weights import (ChecksumError, DistributionWeights, Weights, WeightsEnum, WeightsError, WeightsNotFoundError,
                      ember_home, is_offline)

__all__ = ["hookimpl", "hookspec", "list_plugins", "load", "register", "unregister", "get_registry", "reset",
           "PluginInfo", "PluginManager", "PluginWarning", "Registry", "PluginRegistry", "Entry", "RegistryError",
           "NotFoundError", "AmbiguousNameError", "Weights", "WeightsEnum", "WeightsError", "WeightsNotFoundError",
           "ChecksumError", "ember_home", "get_manager", "Command", "CommandSet", "TASKS", "UnknownTaskError",
           "check_task", "RegistrationTable", "DistributionWeights", "is_offline", "snake_case"]


def load(strict: bool | None = None) -> None:
    """Discover and load the installed plugins now (otherwise this happens on first use).

    ``strict`` defaults to ``EMBER_STRICT_PLUGINS``: re-raise a failed plugin's error.
    """
    get_manager().load(strict)


def list_plugins() -> list[PluginInfo]:
    """Every discovered plugin with its distribution, version, status, error and registrations.

    >>> [(p.name, p.status) for p in ember.plugins.list_plugins()]  # doctest: +SKIP
    [('toy', 'loaded'), ('vision', 'loaded')]
    """
    m = get_manager()
    m.load()
    return list(m.plugins)


def register(plugin, name: str, **kwargs) -> PluginInfo:
    """Register an in-process plugin (a module or object with ``ember_*`` hooks) under ``name``.

    >>> import types
    >>> def ember_register_models(registry):
    ...     registry.add("net", lambda num_classes=2: ember.nn.Linear(4, num_classes))
    >>> info = ember.plugins.register(types.SimpleNamespace(ember_register_models=ember_register_models), name="mine")
    >>> ember.hub.get_model("mine:net").out_features
    2
    >>> ember.plugins.unregister("mine")
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
