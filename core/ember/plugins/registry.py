"""Registries of what plugins provide: models, datasets, transforms, metrics, backends.

Every entry is stamped with the plugin that added it; its canonical name is ``"<plugin>:<name>"``.
A bare name resolves when exactly one plugin provides it; when several do, lookup raises
:class:`AmbiguousNameError` naming each provider. Nothing is ever silently overwritten.
"""
from __future__ import annotations

import difflib
import fnmatch
import re
import threading
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping

from .tasks import check_task

__all__ = ["Entry", "Registry", "PluginRegistry", "RegistryError", "NotFoundError", "AmbiguousNameError", "KINDS"]

KINDS = ("models", "datasets", "transforms", "metrics", "backends")
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")


class RegistryError(LookupError, ValueError):
    """A name could not be resolved (a ``ValueError`` as in torchvision's ``get_model``)."""


class NotFoundError(RegistryError):
    pass


class AmbiguousNameError(RegistryError):
    pass


@dataclass(frozen=True, eq=False)
class Entry:
    """One registration: ``obj`` (builder, class or backend) with its metadata, stamped with its plugin."""

    kind: str
    name: str
    plugin: str
    obj: Any
    metadata: Mapping[str, Any] = field(default_factory=dict)
    distribution: str | None = None

    @property
    def canonical(self) -> str:
        return f"{self.plugin}:{self.name}"

    @property
    def functional(self) -> Callable | None:
        return self.metadata.get("functional")

    def provider(self) -> str:
        return f"{self.canonical} (plugin {self.plugin!r}" + (f", distribution {self.distribution!r})"
                                                              if self.distribution else ")")


def _singular(kind: str) -> str:
    return kind[:-1] if kind.endswith("s") else kind


def _patterns(p) -> list[str]:
    if p is None:
        return []
    return [p] if isinstance(p, str) else list(p)


class Registry:
    """All entries of one kind (``"models"``, ...), from all plugins."""

    def __init__(self, kind: str, validate: Callable[[str, Any, dict], None] | None = None,
                 on_add: Callable[[Entry], None] | None = None, on_remove: Callable[[Entry], None] | None = None,
                 explain: Callable[[str, str], list[str]] | None = None):
        self.kind = kind
        self._validate = validate
        self._explain = explain   # (kind, name) -> notes added to a failed lookup's message
        self._on_add, self._on_remove = on_add, on_remove
        self._entries: dict[str, Entry] = {}       # canonical name -> entry
        self._by_name: dict[str, list[Entry]] = {}  # bare name -> entries
        self._lock = threading.RLock()

    # -- writing (through a PluginRegistry bound to the plugin) ---------------------------------------
    def _add(self, plugin: str, name: str, obj: Any, metadata: dict, distribution: str | None) -> Entry:
        what = _singular(self.kind)
        if not isinstance(name, str):
            raise TypeError(f"plugin {plugin!r}: {what} name must be a string, got {type(name).__name__}")
        prefix, sep, bare = name.rpartition(":")
        if sep:
            if prefix != plugin:
                raise ValueError(f"plugin {plugin!r} can't register {what} {name!r}: a name may carry only its own "
                                 f"plugin's prefix ({plugin + ':' + bare!r})")
            name = bare
        if not _NAME.match(name):
            raise ValueError(f"plugin {plugin!r}: invalid {what} name {name!r} (letters, digits, '_', '-', '.')")
        if self._validate is not None:
            self._validate(name, obj, metadata)
        entry = Entry(self.kind, name, plugin, obj, MappingProxyType(dict(metadata)), distribution)
        with self._lock:
            if entry.canonical in self._entries:
                raise ValueError(f"plugin {plugin!r} registered {what} {name!r} twice")
            if self._on_add is not None:
                self._on_add(entry)
            self._entries[entry.canonical] = entry
            self._by_name.setdefault(name, []).append(entry)
        return entry

    def _remove_plugin(self, plugin: str) -> None:
        """Withdraw every entry of ``plugin`` (a plugin that failed half-way registers nothing)."""
        with self._lock:
            for key in [k for k, e in self._entries.items() if e.plugin == plugin]:
                entry = self._entries.pop(key)
                same = self._by_name[entry.name]
                same.remove(entry)
                if not same:
                    del self._by_name[entry.name]
                if self._on_remove is not None:
                    self._on_remove(entry)

    def _clear(self) -> None:
        for plugin in {e.plugin for e in self._entries.values()}:
            self._remove_plugin(plugin)

    # -- reading ---------------------------------------------------------------------------------
    def get(self, name: str) -> Entry:
        """The entry for a canonical (``"vision:resnet18"``) or unique bare (``"resnet18"``) name."""
        if not isinstance(name, str):
            raise TypeError(f"{_singular(self.kind)} name must be a string, got {type(name).__name__}")
        with self._lock:
            if ":" in name:
                entry = self._entries.get(name)
                if entry is not None:
                    return entry
            else:
                found = self._by_name.get(name, [])
                if len(found) == 1:
                    return found[0]
                if len(found) > 1:
                    providers = "; ".join(e.provider() for e in sorted(found, key=lambda e: e.plugin))
                    raise AmbiguousNameError(
                        f"{_singular(self.kind)} name {name!r} is provided by {len(found)} plugins: {providers}. "
                        f"Use a canonical name: {' or '.join(repr(e.canonical) for e in found)}")
            raise NotFoundError(self._unknown(name))

    def _unknown(self, name: str) -> str:
        what = _singular(self.kind)
        close = difflib.get_close_matches(name, list(self._entries) + list(self._by_name), n=3, cutoff=0.6)
        msg = f"unknown {what} {name!r}"
        if close:
            msg += f"; did you mean {' or '.join(map(repr, close))}?"
        elif self._entries:
            msg += f"; {len(self._entries)} registered {self.kind} (see ember.hub.list_{self.kind}() or `ember {self.kind}`)"
        else:
            msg += f"; no {self.kind} are registered: install a plugin that provides them (see `ember plugins`)"
        notes = self._explain(self.kind, name) if self._explain is not None else []
        return msg + "".join(f". Note: {n}" for n in notes)

    def __contains__(self, name: str) -> bool:
        try:
            self.get(name)
            return True
        except RegistryError:
            return False

    def __len__(self) -> int:
        return len(self._entries)

    def entries(self, include=None, exclude=None, *, plugin: str | Iterable[str] | None = None,
                **metadata) -> list[Entry]:
        """Entries sorted by canonical name, filtered by plugin, by fnmatch patterns (matched against the
        bare and the canonical name) and by metadata equality (``task="image-classification"``)."""
        if "task" in metadata:  # a misspelled task would silently match nothing
            check_task(metadata["task"])
        inc, exc = _patterns(include), _patterns(exclude)
        plugins = None if plugin is None else ({plugin} if isinstance(plugin, str) else set(plugin))
        out = []
        with self._lock:
            entries = sorted(self._entries.values(), key=lambda e: e.canonical)
        for e in entries:
            if plugins is not None and e.plugin not in plugins:
                continue
            names = (e.name, e.canonical)
            if inc and not any(fnmatch.fnmatchcase(n, p) for p in inc for n in names):
                continue
            if exc and any(fnmatch.fnmatchcase(n, p) for p in exc for n in names):
                continue
            if any(e.metadata.get(k) != v for k, v in metadata.items()):
                continue
            out.append(e)
        return out

    def names(self, *args, **kwargs) -> list[str]:
        return [e.canonical for e in self.entries(*args, **kwargs)]

    def clashes(self) -> dict[str, list[str]]:
        """Bare names provided by more than one plugin -> their canonical names."""
        with self._lock:
            return {n: sorted(e.canonical for e in es) for n, es in sorted(self._by_name.items()) if len(es) > 1}

    def __repr__(self) -> str:
        return f"<Registry {self.kind}: {len(self)} entries>"


class PluginRegistry:
    """What a registration hook receives: a :class:`Registry` bound to one plugin.

    ``registry.add(name, obj, **metadata)`` registers ``obj`` as ``"<plugin>:<name>"``.
    """

    __slots__ = ("_registry", "plugin", "distribution", "added")

    def __init__(self, registry: Registry, plugin: str, distribution: str | None = None):
        self._registry, self.plugin, self.distribution = registry, plugin, distribution
        self.added: list[str] = []

    @property
    def kind(self) -> str:
        return self._registry.kind

    def add(self, name: str, obj: Any, **metadata) -> str:
        """Register ``obj`` under ``name``; returns the canonical name."""
        entry = self._registry._add(self.plugin, name, obj, metadata, self.distribution)
        self.added.append(entry.name)
        return entry.canonical

    def get(self, name: str) -> Entry:
        return self._registry.get(name)

    def __contains__(self, name: str) -> bool:
        return name in self._registry

    def __repr__(self) -> str:
        return f"<{self.kind} registry for plugin {self.plugin!r}>"
