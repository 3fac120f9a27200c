"""Discovering, loading and isolating plugins (pluggy + the ``ember`` entry-point group).

Plugins are loaded once, on first use of the registries or the CLI (never by ``import ember``).
Each one is imported, registered with pluggy and asked for its registrations on its own; a failure
marks it failed, withdraws whatever it had registered and emits one :class:`PluginWarning`.

Environment:
  ``EMBER_STRICT_PLUGINS=1``     re-raise a plugin's error (and report unknown hooks as errors)
  ``EMBER_DISABLE_PLUGINS=a,b``  skip these plugins (fnmatch patterns: ``*`` skips all)
"""
from __future__ import annotations

import argparse
import copy
import difflib
import fnmatch
import importlib
import importlib.metadata
import inspect
import os
import re
import threading
import traceback
import warnings
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Iterable

import pluggy

from . import hookspecs
from .registry import KINDS, PluginRegistry, Registry
from .tasks import check_task
from .weights import WeightsEnum, builder_weights

__all__ = ["PluginManager", "PluginInfo", "PluginWarning", "Command", "CommandSet", "get_manager", "GROUP"]

GROUP = "ember"
_REGISTER_HOOKS = {kind: f"ember_register_{kind}" for kind in KINDS}
_SPEC_NAMES = sorted(n for n in dir(hookspecs) if n.startswith("ember_"))
_DEFAULT_IMPL_OPTS = dict(getattr(hookspecs.hookimpl(lambda: None), "ember_impl"))
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")   # plugin and command names

# The plugins that ship with Ember: (distribution, install command, kinds they provide, in words), so a
# lookup that fails because one of them is not installed says how to install it.
FIRST_PARTY = {
    "vision": ("ember-vision", "pip install ./plugins/vision", ("models", "datasets", "transforms"),
               "image models, datasets and transforms"),
    "metrics": ("ember-metrics", "pip install ./plugins/metrics", ("metrics",), "metrics"),
}


class PluginWarning(UserWarning):
    """A plugin failed to load, or implements a hook Ember does not know."""


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _disabled_patterns() -> list[str]:
    return [p.strip() for p in os.environ.get("EMBER_DISABLE_PLUGINS", "").split(",") if p.strip()]


@dataclass
class PluginInfo:
    """What ``ember plugins`` shows about one plugin."""

    name: str
    distribution: str | None = None
    version: str | None = None
    value: str | None = None            # the entry point's target ("ember_toy._plugin")
    status: str = "pending"             # loaded | failed | disabled
    error: str | None = None            # "ImportError: ..." for failed plugins
    stage: str | None = None            # where it failed: "import", "register", a hook name
    traceback: str | None = None
    hooks: list[str] = field(default_factory=list)
    unknown_hooks: list[str] = field(default_factory=list)
    registered: dict[str, list[str]] = field(default_factory=dict)   # kind -> bare names
    exception: BaseException | None = field(default=None, repr=False, compare=False)

    @property
    def label(self) -> str:
        if not self.distribution:
            return f"plugin {self.name!r}"
        return f"plugin {self.name!r} (distribution {self.distribution}" + (f" {self.version})" if self.version else ")")

    def to_dict(self) -> dict:
        """A JSON-ready dict (without the exception object)."""
        return {f.name: copy.copy(getattr(self, f.name)) for f in fields(self) if f.name != "exception"}


@dataclass
class Command:
    """A subcommand added by a plugin through ``ember_register_commands``."""

    plugin: str
    name: str
    func: Callable[[argparse.Namespace], int | None]
    help: str | None
    parser: argparse.ArgumentParser

    @property
    def canonical(self) -> str:
        return f"{self.plugin}:{self.name}"


class CommandSet:
    """The ``cli`` argument of ``ember_register_commands``: ``cli.add(name, func, help=...)``."""

    def __init__(self, plugin: str):
        self.plugin = plugin
        self.commands: list[Command] = []

    def add(self, name: str, func: Callable, help: str | None = None, description: str | None = None
            ) -> argparse.ArgumentParser:
        """Add ``ember <name>``; returns the parser to add the command's arguments to."""
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise ValueError(f"plugin {self.plugin!r}: invalid command name {name!r}")
        if not callable(func):
            raise TypeError(f"plugin {self.plugin!r}: command {name!r} needs a callable func(args), got {func!r}")
        if any(c.name == name for c in self.commands):
            raise ValueError(f"plugin {self.plugin!r} added command {name!r} twice")
        parser = argparse.ArgumentParser(add_help=False, description=description or help)
        self.commands.append(Command(self.plugin, name, func, help, parser))
        return parser


# ---- validation of registrations --------------------------------------------------------------------

def _need_callable(kind: str, name: str, obj) -> None:
    if not callable(obj):
        raise TypeError(f"{kind[:-1]} {name!r}: expected a class or callable, got {type(obj).__name__}")


def _validate_model(name, obj, meta) -> dict:
    """Check a model's registration and complete it: ``weights`` is the enum its builder declares."""
    _need_callable("models", name, obj)
    check_task(meta.get("task"), f"model {name!r}")
    w = meta.get("weights")
    if w is not None and not (isinstance(w, type) and issubclass(w, WeightsEnum)):
        hint = " (pass the enum class, not one of its members)" if isinstance(w, WeightsEnum) else ""
        raise TypeError(f"model {name!r}: weights= must be a WeightsEnum subclass or None, got {w!r}{hint}")
    declared = builder_weights(obj)
    if w is not None and declared is not None and w is not declared:
        raise TypeError(f"model {name!r}: registered with weights={w.__name__}, but its builder's weights parameter "
                        f"declares {declared.__name__}; a model has one weights enum (drop weights= to use the "
                        "builder's)")
    head = meta.get("head")
    if head is not None and not isinstance(head, str):
        raise TypeError(f"model {name!r}: head= must be the dotted name of the classifier submodule, got {head!r}")
    return {**meta, "weights": declared} if w is None and declared is not None else meta


def _validate_with_functional(kind):
    def validate(name, obj, meta):
        _need_callable(kind, name, obj)
        check_task(meta.get("task"), f"{kind[:-1]} {name!r}")
        fn = meta.get("functional")
        if fn is not None and not callable(fn):
            raise TypeError(f"{kind[:-1]} {name!r}: functional= must be callable, got {type(fn).__name__}")
        hib = meta.get("higher_is_better")
        if hib is not None and not isinstance(hib, bool):
            raise TypeError(f"{kind[:-1]} {name!r}: higher_is_better= must be a bool, got {hib!r}")
    return validate


def _validate_backend(name, obj, meta):
    from ..backend import Backend
    if not isinstance(obj, Backend):
        raise TypeError(f"backend {name!r}: expected an ember.backend.Backend instance, got {type(obj).__name__}")


def _add_backend(entry):
    from .. import backend
    existing = backend.registered_backends().get(entry.name)
    if existing is not None:
        raise ValueError(f"{entry.provider()} can't register device type {entry.name!r}: it is already provided "
                         f"by {type(existing).__module__}.{type(existing).__qualname__}")
    backend.register_backend(entry.obj, entry.name)


def _remove_backend(entry):
    from .. import backend
    if backend.registered_backends().get(entry.name) is entry.obj:
        backend.unregister_backend(entry.name)


class _PluggyManager(pluggy.PluginManager):
    """pluggy's manager, also picking up unmarked ``ember_*`` functions (as pytest does for ``pytest_*``)."""

    def parse_hookimpl_opts(self, plugin, name):
        opts = super().parse_hookimpl_opts(plugin, name)
        if opts is None and name.startswith("ember_"):
            obj = inspect.getattr_static(plugin, name, None)
            if inspect.isfunction(obj) or inspect.isbuiltin(obj):
                return dict(_DEFAULT_IMPL_OPTS)
        return opts


class PluginManager:
    """Loads plugins from entry points (or :meth:`register`) into the registries.

    ``search_path`` restricts discovery to distributions found on those directories (tests use it);
    ``None`` means everything installed.
    """

    def __init__(self, search_path: Iterable[str] | None = None):
        self.search_path = None if search_path is None else [os.fspath(p) for p in search_path]
        self.pm = _PluggyManager(GROUP)
        self.pm.add_hookspecs(hookspecs)
        explain = self.lookup_notes   # a failed lookup says which plugins failed or are missing
        self.registries: dict[str, Registry] = {
            "models": Registry("models", _validate_model, explain=explain),
            "datasets": Registry("datasets", _validate_with_functional("datasets"), explain=explain),
            "transforms": Registry("transforms", _validate_with_functional("transforms"), explain=explain),
            "metrics": Registry("metrics", _validate_with_functional("metrics"), explain=explain),
            "backends": Registry("backends", _validate_backend, _add_backend, _remove_backend, explain=explain),
        }
        self.plugins: list[PluginInfo] = []
        self.commands: list[Command] = []
        self._loaded = False
        self._lock = threading.RLock()

    # ---- loading ----------------------------------------------------------------------------------
    def entry_points(self) -> list[importlib.metadata.EntryPoint]:
        """The ``ember`` entry points of installed distributions (one per distribution name)."""
        if self.search_path is None:
            eps = list(importlib.metadata.entry_points(group=GROUP))
        else:
            eps, seen = [], set()
            for dist in importlib.metadata.distributions(path=self.search_path):
                key = re.sub(r"[-_.]+", "-", (dist.metadata["Name"] or "")).lower()
                if key in seen:
                    continue
                seen.add(key)
                eps.extend(ep for ep in dist.entry_points if ep.group == GROUP)
        return sorted(eps, key=lambda ep: (ep.name, ep.value))

    def load(self, strict: bool | None = None) -> None:
        """Discover and load every plugin once; later calls only re-raise in strict mode."""
        strict = _flag("EMBER_STRICT_PLUGINS") if strict is None else strict
        with self._lock:
            if not self._loaded:
                self._loaded = True  # set first: a plugin hook using the hub must not recurse into loading
                disabled = _disabled_patterns()
                for ep in self.entry_points():
                    dist = getattr(ep, "dist", None)
                    info = PluginInfo(ep.name, dist.metadata["Name"] if dist else None,
                                      dist.version if dist else None, ep.value)
                    if any(fnmatch.fnmatchcase(ep.name, p) for p in disabled):
                        info.status = "disabled"
                        self.plugins.append(info)
                        continue
                    self._load_one(info, ep.load, strict=False, warn=not strict)
        if strict:
            self.raise_failures()

    def register(self, plugin: Any, name: str, *, distribution: str | None = None, version: str | None = None,
                 strict: bool | None = None) -> PluginInfo:
        """Register an in-process plugin object (a module or any object with ``ember_*`` hooks) as ``name``.

        It goes through the same isolation as an entry-point plugin; returns its :class:`PluginInfo`.
        """
        strict = _flag("EMBER_STRICT_PLUGINS") if strict is None else strict
        self.load(strict=False)
        with self._lock:
            info = PluginInfo(name, distribution, version, getattr(plugin, "__name__", None) or repr(plugin))
            return self._load_one(info, lambda: plugin, strict=strict)

    def unregister(self, name: str) -> None:
        """Remove a plugin and everything it registered."""
        with self._lock:
            self._withdraw(name)
            self.plugins = [p for p in self.plugins if p.name != name]

    def _load_one(self, info: PluginInfo, loader: Callable[[], Any], strict: bool, warn: bool = True) -> PluginInfo:
        """Import, register and call one plugin's hooks; on failure withdraw it (``strict``: and re-raise)."""
        self.plugins.append(info)
        stage, owned = "import", False
        try:
            obj = loader()
            stage = "register"
            if not _NAME_RE.match(info.name):
                raise ValueError(f"invalid plugin name {info.name!r} (letters, digits, '_', '-', '.'; it prefixes "
                                 "canonical names such as '<plugin>:<name>')")
            if self.pm.has_plugin(info.name):
                other = next((p.label for p in self.plugins if p.name == info.name and p.status == "loaded"), "another")
                raise ValueError(f"the plugin name {info.name!r} is already used by {other}")
            self.pm.register(obj, name=info.name)
            owned = True
            info.hooks = sorted(hc.name for hc in self.pm.get_hookcallers(obj) or [])
            info.unknown_hooks = self.check_pending(obj)
            for kind, hook in _REGISTER_HOOKS.items():
                stage = hook
                view = PluginRegistry(self.registries[kind], info.name, info.distribution)
                self._call(obj, hook, registry=view)
                if view.added:
                    info.registered[kind] = view.added
            stage = "ember_register_commands"
            cli = CommandSet(info.name)
            self._call(obj, stage, cli=cli)
            self.commands.extend(cli.commands)
            if cli.commands:
                info.registered["commands"] = [c.name for c in cli.commands]
        except Exception as e:
            if owned:
                self._withdraw(info.name)
            info.status, info.stage, info.exception = "failed", stage, e
            info.error = f"{type(e).__name__}: {e}"
            info.traceback = traceback.format_exc()
            info.registered = {}
            where = {"import": f"importing {info.value}", "register": "registering it"}.get(stage, f"in hook {stage}")
            if strict:
                e.add_note(f"while loading ember {info.label}, {where}")
                raise
            if warn:
                warnings.warn(f"ember {info.label} failed to load and was skipped ({where}): {info.error}. "
                              f"Disable it with EMBER_DISABLE_PLUGINS={info.name}; see `ember plugins -v`.",
                              PluginWarning, stacklevel=4)
            return info
        info.status = "loaded"
        if info.unknown_hooks:
            msg = f"ember {info.label} implements unknown hook(s) " + ", ".join(
                self._suggest(h) for h in info.unknown_hooks) + "; they are never called"
            if strict:
                raise pluggy.PluginValidationError(obj, msg)
            if warn:
                warnings.warn(msg, PluginWarning, stacklevel=4)
        return info

    def _call(self, obj, hook: str, **kwargs):
        """Call ``obj``'s implementation(s) of ``hook`` only (other plugins are isolated from it)."""
        results = []
        for impl in getattr(self.pm.hook, hook).get_hookimpls():
            if impl.plugin is obj:
                results.append(impl.function(*[kwargs[a] for a in impl.argnames]))
        return results

    def _withdraw(self, name: str) -> None:
        for registry in self.registries.values():
            registry._remove_plugin(name)
        self.commands = [c for c in self.commands if c.plugin != name]
        if self.pm.has_plugin(name):
            self.pm.unregister(name=name)

    def check_pending(self, plugin=None) -> list[str]:
        """Hooks with no specification (typos) implemented by ``plugin`` (by every plugin if None).

        pluggy's ``check_pending`` raises on the first one; this lists them all, so the manager can
        report them for the plugin at fault.
        """
        unknown = []
        for name in [n for n in vars(self.pm.hook) if not n.startswith("_")]:
            hc = getattr(self.pm.hook, name)
            if hc.has_spec():
                continue
            if any(not impl.optionalhook and (plugin is None or impl.plugin is plugin) for impl in hc.get_hookimpls()):
                unknown.append(name)
        return sorted(unknown)

    @staticmethod
    def _suggest(hook: str) -> str:
        close = difflib.get_close_matches(hook, _SPEC_NAMES, n=1)
        return f"{hook!r}" + (f" (did you mean {close[0]!r}?)" if close else "")

    def raise_failures(self) -> None:
        """Strict mode: re-raise the first failed plugin's error (or report unknown hooks)."""
        for info in self.plugins:
            if info.status == "failed" and info.exception is not None:
                e = info.exception
                if not any("while loading ember" in n for n in getattr(e, "__notes__", ())):
                    e.add_note(f"while loading ember {info.label} (stage: {info.stage})")
                raise e
        for info in self.plugins:
            if info.unknown_hooks:
                raise pluggy.PluginValidationError(
                    self.pm.get_plugin(info.name),
                    f"ember {info.label} implements unknown hook(s) " + ", ".join(map(self._suggest, info.unknown_hooks)))

    # ---- queries ----------------------------------------------------------------------------------
    def lookup_notes(self, kind: str, name: str) -> list[str]:
        """Why a lookup of ``name`` in ``kind`` may have failed: plugins that failed to load or are disabled
        (they may provide it), and Ember's own plugins that would provide it but are not installed."""
        notes = [f"{p.label} failed to load ({p.stage}: {p.error}), so nothing it provides is available; "
                 f"see `ember plugins -v`" for p in self.plugins if p.status == "failed"]
        notes += [f"plugin {p.name!r} is disabled by EMBER_DISABLE_PLUGINS" for p in self.plugins
                  if p.status == "disabled"]
        present = {p.name for p in self.plugins}
        prefix, sep, _ = name.rpartition(":")
        for plugin, (dist, install, kinds, what) in FIRST_PARTY.items():
            if kind in kinds and plugin not in present and (not sep or prefix == plugin):
                notes.append(f"Ember's {what} come from the {plugin!r} plugin, which is not installed: "
                             f"install {dist} (`{install}`, run in Ember's source tree)")
        return notes

    def env_info(self) -> dict[str, dict]:
        """``ember_env_info()`` of each loaded plugin (an error entry where the hook raises)."""
        out = {}
        for info in self.plugins:
            if info.status != "loaded":
                continue
            obj = self.pm.get_plugin(info.name)
            try:
                merged = {}
                for r in self._call(obj, "ember_env_info"):
                    if r is not None:
                        merged.update(dict(r))
                if merged:
                    out[info.name] = merged
            except Exception as e:
                out[info.name] = {"error": f"{type(e).__name__}: {e}"}
        return out

    def problems(self, clashes: bool = True) -> list[str]:
        """Everything ``ember plugins check`` fails on: failed plugins, unknown hooks, (``clashes``) name clashes."""
        out = [f"{p.label} failed ({p.stage}): {p.error}" for p in self.plugins if p.status == "failed"]
        out += [f"{p.label} implements unknown hook(s) " + ", ".join(map(self._suggest, p.unknown_hooks))
                for p in self.plugins if p.unknown_hooks]
        for kind, registry in (self.registries.items() if clashes else ()):
            for bare, names in registry.clashes().items():
                out.append(f"{kind[:-1]} name {bare!r} is provided by several plugins: {', '.join(names)}")
        return out


_manager: PluginManager | None = None
_manager_lock = threading.Lock()


def get_manager() -> PluginManager:
    """The process-wide manager (created on first use; plugins load on first registry use)."""
    global _manager
    if _manager is None:
        with _manager_lock:
            if _manager is None:
                _manager = PluginManager()
    return _manager


def reset(search_path: Iterable[str] | None = None) -> PluginManager:
    """Forget every plugin and registration (withdrawing plugin backends); the next use rediscovers.

    ``search_path`` restricts discovery to distributions in those directories (for tests).
    """
    global _manager
    with _manager_lock:
        if _manager is not None:
            for registry in _manager.registries.values():
                registry._clear()
        importlib.invalidate_caches()
        _manager = PluginManager(search_path)
    return _manager
