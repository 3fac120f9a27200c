"""Registries of what plugins provide: models, datasets, transforms, metrics, backends.

Every entry is stamped with the plugin that added it; its canonical name is ``"<plugin>:<name>"``.
A bare name resolves when exactly one plugin provides it; when several do, lookup raises
:class:`AmbiguousNameError` naming each provider. Nothing is ever silently overwritten.

A plugin writes what it registers once, in a :class:`RegistrationTable` per kind next to the objects
(a model builder is added by decorating it), and its hook hands the table over::

    MODELS = RegistrationTable("models", task="image-classification")

    @MODELS.register(family="lenet")
    def lenet5(*, weights: LeNet5_Weights | None = None, **kwargs): ...

    @hookimpl
    def ember_register_models(registry):
        registry.add_all(MODELS)
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

__all__ = ["Entry", "Registry", "PluginRegistry", "RegistrationTable", "RegistryError", "NotFoundError",
           "AmbiguousNameError", "KINDS", "snake_case"]

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


def snake_case(name: str) -> str:
    """A class name as a registry name (torchvision's builder style): a capital starts a word, and a run of
    capitals (an acronym) is one word.

    >>> snake_case("RandomResizedCrop"), snake_case("PILToTensor"), snake_case("AmplitudeToDB"), snake_case("MFCC")
    ('random_resized_crop', 'pil_to_tensor', 'amplitude_to_db', 'mfcc')
    """
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)       # end of an acronym: "PILTo" -> "PIL_To"
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def _singular(kind: str) -> str:
    return kind[:-1] if kind.endswith("s") else kind


def _patterns(p) -> list[str]:
    if p is None:
        return []
    return [p] if isinstance(p, str) else list(p)


class Registry:
    """All entries of one kind (``"models"``, ...), from all plugins."""

    def __init__(self, kind: str, validate: Callable[[str, Any, dict], dict | None] | None = None,
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
        if self._validate is not None:  # it may complete the metadata (a model's weights, read from its builder)
            metadata = self._validate(name, obj, metadata) or metadata
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

    def add_all(self, table: "RegistrationTable") -> list[str]:
        """Register every row of ``table`` (a :class:`RegistrationTable` of this kind); the canonical names."""
        if not isinstance(table, RegistrationTable):
            raise TypeError(f"add_all expects a RegistrationTable, got {type(table).__name__}")
        if table.kind != self.kind:
            raise ValueError(f"plugin {self.plugin!r}: a table of {table.kind} can't be added to the {self.kind} "
                             "registry")
        return [self.add(name, obj, **metadata) for name, obj, metadata in table]

    def get(self, name: str) -> Entry:
        return self._registry.get(name)

    def __contains__(self, name: str) -> bool:
        return name in self._registry

    def __repr__(self) -> str:
        return f"<{self.kind} registry for plugin {self.plugin!r}>"


class RegistrationTable:
    """What one plugin registers of one kind, written once, next to the objects it registers.

    ``defaults`` are metadata every row shares (``task="image-classification"``). Rows are added with
    :meth:`add` or, for a model builder or a class, with the :meth:`register` decorator; the plugin's
    hook hands the table to the registry with ``registry.add_all(table)``. A model's weights enum is
    read from its builder (the annotation of its ``weights`` parameter, torchvision's convention), so a
    builder and its weights can't be registered apart.

    >>> def accuracy(preds, target): return (preds == target).float().mean()
    >>> METRICS = RegistrationTable("metrics")
    >>> METRICS.add("accuracy", accuracy, functional=accuracy, higher_is_better=True)  # doctest: +ELLIPSIS
    <function accuracy at ...>
    >>> MODELS = RegistrationTable("models", task="tabular-classification")
    >>> @MODELS.register("mlp", head="2")
    ... def toy_mlp(*, weights=None, num_classes: int = 3):
    ...     return ember.nn.Sequential(ember.nn.Linear(2, 8), ember.nn.ReLU(), ember.nn.Linear(8, num_classes))
    >>> MODELS.names()
    ['mlp']
    """

    def __init__(self, kind: str, **defaults):
        if kind not in KINDS:
            raise ValueError(f"unknown registration kind {kind!r}; expected one of {', '.join(KINDS)}")
        self.kind = kind
        self.defaults = defaults
        self._rows: dict[str, tuple[Any, dict]] = {}

    @classmethod
    def from_classes(cls, kind: str, functional: Mapping[type, Callable | None], **defaults) -> "RegistrationTable":
        """A table of classes, each under its :func:`snake_case` name with its function form (``functional``
        maps a class to it, or to ``None`` where it has none): how a plugin registers its transforms.

        >>> class Scale:
        ...     def __init__(self, factor): self.factor = factor
        >>> def scale(x, factor): return x * factor
        >>> class MuLawEncoding: pass
        >>> table = RegistrationTable.from_classes("transforms", {Scale: scale, MuLawEncoding: None}, modality="audio")
        >>> [(name, obj.__name__, meta["functional"], meta["modality"]) for name, obj, meta in table]
        [('scale', 'Scale', <function scale at 0x...>, 'audio'), ('mu_law_encoding', 'MuLawEncoding', None, 'audio')]
        """
        table = cls(kind, **defaults)
        for klass, fn in functional.items():
            table.add(snake_case(klass.__name__), klass, functional=fn)
        return table

    def add(self, name: str, obj: Any, **metadata) -> Any:
        """Add ``obj`` under ``name`` with ``metadata`` (over the table's defaults); returns ``obj``."""
        if name in self._rows:
            raise ValueError(f"{_singular(self.kind)} {name!r} is already in this table")
        self._rows[name] = (obj, {**self.defaults, **metadata})
        return obj

    def register(self, name: str | None = None, **metadata) -> Callable[[Any], Any]:
        """Decorator form of :meth:`add`; ``name`` defaults to the object's ``__name__``."""
        def decorator(obj):
            return self.add(obj.__name__ if name is None else name, obj, **metadata)
        return decorator

    def names(self) -> list[str]:
        return list(self._rows)

    def __iter__(self):
        for name, (obj, metadata) in self._rows.items():
            yield name, obj, dict(metadata)

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, name: str) -> bool:
        return name in self._rows

    def __repr__(self) -> str:
        return f"<RegistrationTable of {self.kind}: {', '.join(self._rows) or 'empty'}>"
