"""Models, weights, datasets, transforms and metrics from every installed plugin (torchvision-shaped).

With the example plugin ``examples/third_party_plugin`` (``toy``) installed:

>>> from ember import hub
>>> hub.list_models(plugin="toy")                         # canonical names "<plugin>:<name>"
['toy:mlp']
>>> model = hub.get_model("mlp", weights="DEFAULT")     # a bare name works when it is unique
>>> tuned = hub.get_model("toy:mlp", weights="DEFAULT", num_classes=5)  # new head, pretrained body
>>> tuned.head
Linear(in_features=16, out_features=5, bias=True)
>>> hub.get_model_weights("toy:mlp").DEFAULT.meta["metrics"]
{'accuracy': 0.9367}
>>> len(hub.get_dataset("toy:blobs", train=True))
600
>>> hub.list_metrics(plugin="toy", higher_is_better=True)
['toy:accuracy']
>>> model = hub.load("toy", "mlp", weights="DEFAULT")   # torch.hub's shape: a plugin for the repository
>>> hub.list("toy")
['mlp']

Plugins are loaded on the first call into this module (never by ``import ember``).
"""
from __future__ import annotations

import builtins
import functools
import inspect
import json
import os
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

from .plugins import get_registry
from .plugins.registry import AmbiguousNameError, Entry, NotFoundError
from .plugins.weights import Weights, WeightsEnum
from .plugins.weights import WeightsError as _WeightsError

__all__ = ["load", "list", "help", "list_models", "get_model", "get_model_builder", "get_model_weights", "get_weight",
           "list_datasets", "get_dataset", "list_transforms", "get_transform", "get_transform_function", "list_metrics",
           "get_metric", "get_metric_function", "list_backends", "get_entry", "Weights", "WeightsEnum"]


def get_entry(kind: str, name: str) -> Entry:
    """The registry entry (object, metadata, plugin) for ``name`` in ``kind`` (``"models"``, ...)."""
    return get_registry(kind).get(name)


def _list(kind: str, include, exclude, plugin, meta) -> list[str]:
    return get_registry(kind).names(include, exclude, plugin=plugin, **meta)


# ---- models -------------------------------------------------------------------------------------------

def list_models(module: ModuleType | str | None = None, include: str | list[str] | None = None,
                exclude: str | list[str] | None = None, *, plugin: str | list[str] | None = None,
                **metadata) -> list[str]:
    """Sorted canonical names of the registered models.

    ``module`` keeps builders defined in that Python module or package (as in torchvision);
    ``include``/``exclude`` are fnmatch patterns (or lists of them) on the bare or canonical name;
    ``plugin`` keeps one plugin's models; other keywords match metadata (``task="classification"``).

    >>> ember.hub.list_models(include="resnet*", task="image-classification")   # with ember-vision installed
    ['vision:resnet18', 'vision:resnet34', 'vision:resnet50']
    """
    entries = get_registry("models").entries(include, exclude, plugin=plugin, **metadata)
    if module is not None:
        prefix = module if isinstance(module, str) else module.__name__
        entries = [e for e in entries
                   if (getattr(e.obj, "__module__", None) or "") == prefix
                   or (getattr(e.obj, "__module__", None) or "").startswith(prefix + ".")]
    return [e.canonical for e in entries]


def get_model_builder(name: str) -> Callable:
    """The builder registered for ``name``."""
    return get_entry("models", name).obj


def get_model_weights(name: str | Callable) -> type[WeightsEnum] | None:
    """The weights enum of a model (by name or builder), or ``None`` when it has no pretrained weights."""
    if callable(name) and not isinstance(name, str):
        for e in get_registry("models").entries():
            if e.obj is name:
                return e.metadata.get("weights")
        raise NotFoundError(f"builder {getattr(name, '__qualname__', name)!r} is not a registered model")
    return get_entry("models", name).metadata.get("weights")


def get_weight(name: str) -> WeightsEnum:
    """A weights member from its full name: ``"LeNet5_Weights.FASHIONMNIST_V1"`` (torchvision's spelling) or
    the canonical ``"vision:LeNet5_Weights.FASHIONMNIST_V1"``, which names the plugin when two plugins have
    weights enums of the same name.

    >>> ember.hub.get_weight("toy:ToyMLP_Weights.DEFAULT")
    ToyMLP_Weights.BLOBS_V1
    """
    plugin, colon, qualified = name.rpartition(":")
    enum_name, sep, member = qualified.partition(".")
    if not sep or not enum_name or not member:
        raise ValueError(f"expected '<EnumName>.<MEMBER>' or '<plugin>:<EnumName>.<MEMBER>', got {name!r}")
    found: dict[type, builtins.list[str]] = {}   # enum -> plugins registering it
    for e in get_registry("models").entries(plugin=plugin if colon else None):
        w = e.metadata.get("weights")
        if w is not None and w.__name__ == enum_name:
            found.setdefault(w, []).append(e.plugin)
    if len(found) > 1:
        options = sorted(f"'{p[0]}:{enum_name}.{member}'" for p in found.values())
        raise AmbiguousNameError(f"weights enum {enum_name!r} is defined by several plugins; use one of "
                                 f"{', '.join(options)}")
    if not found:
        where = f" of plugin {plugin!r}" if colon else ""
        raise NotFoundError(f"no registered model{where} has weights named {enum_name!r}")
    return next(iter(found)).verify(member)


def _resolve_weights(entry: Entry, weights) -> Weights | None:
    if weights is None:
        return None
    if isinstance(weights, Weights):
        return weights
    if is_weights_entry(weights):      # the output directory of `ember finetune`
        return load_weights_entry(weights, model=entry.canonical)
    enum_cls = entry.metadata.get("weights")
    if enum_cls is None:
        raise ValueError(f"model {entry.canonical!r} has no pretrained weights; use weights=None")
    if isinstance(weights, WeightsEnum) and not isinstance(weights, enum_cls):
        raise ValueError(f"weights {weights!r} do not belong to model {entry.canonical!r}, whose weights are "
                         f"{enum_cls.__name__} ({', '.join(enum_cls.__members__)})")
    return enum_cls.verify(weights).value


def _accepts(fn: Callable, param: str) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return True
    return param in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def get_model(name: str, weights: WeightsEnum | Weights | str | None = None, num_classes: int | None = None,
              progress: bool = True, **config) -> Any:
    """Build a registered model, optionally with pretrained weights.

    ``weights`` is ``None``, ``"DEFAULT"``, a member of the model's weights enum, its name
    (``"BLOBS_V1"`` or ``"ToyMLP_Weights.BLOBS_V1"``), a :class:`Weights` record, or the output
    directory of a fine-tuning run (``ember finetune ... --out DIR``: its ``weights.json``). Weights are fetched
    (into ``$EMBER_HOME`` if remote, with a progress line on stderr unless ``progress=False``), checked
    against their sha256 and loaded.

    Fine-tuning: with ``num_classes`` different from the weights' number of categories, the pretrained
    body is kept and the classifier head re-initialised for ``num_classes`` (see the head protocol in
    :func:`ember.plugins.hookspecs.ember_register_models`). The model's own builder refuses that
    combination, as torchvision's builders do (``resnet18(weights=W, num_classes=5)`` raises "The
    parameter 'num_classes' expected value ..."); this function is the way to a new head. Other
    keywords go to the builder.

    >>> model = ember.hub.get_model("toy:mlp", weights="DEFAULT", num_classes=5)
    >>> model(ember.zeros(2, 2)).shape
    ember.Size([2, 5])
    """
    entry = get_entry("models", name)
    w = _resolve_weights(entry, weights)
    builder = entry.obj
    n_weights = w.num_classes if w is not None else None
    if w is not None and n_weights is not None:
        if _accepts(builder, "num_classes"):
            config["num_classes"] = n_weights
    elif num_classes is not None:
        config["num_classes"] = num_classes
    model = builder(**config)
    if w is not None:
        _load_pretrained(model, entry, w, progress)
        if num_classes is not None and n_weights is not None and num_classes != n_weights:
            _reset_head(model, entry, num_classes, n_weights)
    return model


def _head_path(model, entry: Entry) -> str | None:
    """The dotted path of the model's classifier head as its plugin names it (``head=`` at registration,
    or the model's ``classifier_head`` attribute), or ``None``."""
    return entry.metadata.get("head") or getattr(model, "classifier_head", None)


def _head_module(model, entry: Entry):
    """The model's classifier head by the head protocol (``get_classifier()``, ``head=``, ``classifier_head``),
    or ``None`` when it names none (``AttributeError`` when the named path does not exist)."""
    get = getattr(model, "get_classifier", None)
    if callable(get):
        return get()
    path = _head_path(model, entry)
    return model.get_submodule(path) if path else None


def _load_pretrained(model, entry: Entry, w: Weights, progress: bool) -> None:
    """Load ``w`` into ``model``. Weights without categories are a pretrained body only (a sentence encoder,
    a feature extractor): the head the builder made for ``num_classes`` keeps its fresh initialisation, and
    every other key must still match (a strict load)."""
    state = w.get_state_dict(progress=progress)
    head = _head_module(model, entry) if w.num_classes is None else None
    if head is not None:
        prefix = next(name for name, m in model.named_modules() if m is head)
        own = {f"{prefix}.{k}" if prefix else k: v for k, v in head.state_dict().items()}
        state = {**own, **state}
    model.load_state_dict(state)


def _reset_head(model, entry: Entry, num_classes: int, n_weights: int) -> None:
    from . import nn
    reset = getattr(model, "reset_classifier", None)
    if callable(reset):
        reset(num_classes)
        return
    path = _head_path(model, entry)
    if not path:
        raise ValueError(
            f"model {entry.canonical!r}: can't use weights for {n_weights} classes with num_classes={num_classes}: "
            "the model declares no classifier head (register it with head='fc', set the model attribute "
            "classifier_head = 'fc', or give it a reset_classifier(num_classes) method)")
    *parents, attr = path.split(".")
    parent = model
    for p in parents:
        parent = getattr(parent, p)
    old = getattr(parent, attr, None)
    if not isinstance(old, nn.Linear):
        raise TypeError(f"model {entry.canonical!r}: classifier head {path!r} must be an ember.nn.Linear to be "
                        f"re-initialised, got {type(old).__name__}; define reset_classifier(num_classes) instead")
    new = nn.Linear(old.in_features, num_classes, bias=old.bias is not None,
                    device=old.weight.device, dtype=old.weight.dtype)
    setattr(parent, attr, new)


# ---- datasets, transforms, metrics, backends -------------------------------------------------------------

def list_datasets(include=None, exclude=None, *, plugin=None, **metadata) -> list[str]:
    """Sorted canonical names of the registered datasets (filters as in :func:`list_models`)."""
    return _list("datasets", include, exclude, plugin, metadata)


def get_dataset(name: str, *args, **kwargs):
    """Instantiate a registered dataset: ``get_dataset("toy:blobs", train=False)``."""
    return get_entry("datasets", name).obj(*args, **kwargs)


def list_transforms(include=None, exclude=None, *, plugin=None, **metadata) -> list[str]:
    """Sorted canonical names of the registered transforms (``modality="image"`` filters by modality)."""
    return _list("transforms", include, exclude, plugin, metadata)


def get_transform(name: str, *args, **kwargs):
    """Instantiate a registered transform class with ``args``/``kwargs``."""
    return get_entry("transforms", name).obj(*args, **kwargs)


def get_transform_function(name: str) -> Callable:
    """The functional form of a registered transform."""
    return _functional(get_entry("transforms", name))


def list_metrics(include=None, exclude=None, *, plugin=None, **metadata) -> list[str]:
    """Sorted canonical names of the registered metrics (``higher_is_better=True`` filters)."""
    return _list("metrics", include, exclude, plugin, metadata)


def get_metric(name: str, *args, **kwargs):
    """Instantiate a registered metric class with ``args``/``kwargs``."""
    return get_entry("metrics", name).obj(*args, **kwargs)


def get_metric_function(name: str) -> Callable:
    """The functional form of a registered metric: ``get_metric_function("toy:accuracy")(preds, target)``."""
    return _functional(get_entry("metrics", name))


def _functional(entry: Entry) -> Callable:
    if entry.functional is None:
        raise ValueError(f"{entry.kind[:-1]} {entry.canonical!r} has no functional form; use the class")
    return entry.functional


def list_backends(include=None, exclude=None, *, plugin=None, **metadata) -> list[str]:
    """Canonical names of device backends registered by plugins (``ember.device(<bare name>)``)."""
    return _list("backends", include, exclude, plugin, metadata)


# ---- torch.hub's shape: a plugin stands where torch.hub takes a GitHub repository ---------------------------
# Defined last: `list` and `help` shadow the builtins inside this module from here on.


def _model_name(repo_or_dir: str, model: str | None) -> str:
    """``("vision", "resnet18")`` or ``("vision:resnet18", None)`` -> ``"vision:resnet18"``."""
    if not isinstance(repo_or_dir, str):
        raise TypeError(f"expected a plugin name such as 'vision', got {type(repo_or_dir).__name__}")
    if "/" in repo_or_dir or "\\" in repo_or_dir:
        raise ValueError(f"ember.hub loads models from installed plugins, not from GitHub repositories or "
                         f"directories: got {repo_or_dir!r}. Name a plugin, as in hub.load('vision', 'resnet18') "
                         "or hub.load('vision:resnet18') (`ember plugins` lists the installed plugins)")
    if model is None:
        return repo_or_dir          # "vision:resnet18", or a bare name that one plugin provides
    if ":" in repo_or_dir:
        raise ValueError(f"give either hub.load({repo_or_dir!r}) or hub.load('<plugin>', {model!r}), not both")
    return f"{repo_or_dir}:{model}"


def _check_source(source: str) -> None:
    if source != "plugin":
        raise ValueError(f"ember.hub loads from installed plugins (source='plugin'), got source={source!r}: "
                         "GitHub repositories and local directories of hubconf.py files are not supported")


def load(repo_or_dir: str, model: str | None = None, *args, source: str = "plugin", trust_repo=None,
         force_reload: bool = False, verbose: bool = True, skip_validation: bool = False, **kwargs) -> Any:
    """Build a model as ``torch.hub.load`` does, with an installed plugin in place of the GitHub repository.

    ``hub.load("vision", "resnet18", weights="DEFAULT")`` and ``hub.load("vision:resnet18",
    weights="DEFAULT")`` are :func:`get_model` (keywords ``weights``, ``num_classes``, ``progress`` and the
    builder's own). ``trust_repo``, ``force_reload``, ``verbose`` and ``skip_validation`` concern
    downloading a repository's code, which plugins never do: they are accepted and ignored.

    >>> model = ember.hub.load("toy", "mlp", weights="DEFAULT")
    >>> type(model).__name__
    'ToyMLP'
    """
    _check_source(source)
    if args:
        raise TypeError(f"ember.hub.load passes keyword arguments only to the model builder; got positional "
                        f"arguments {args!r}")
    return get_model(_model_name(repo_or_dir, model), **kwargs)


def list(github: str, force_reload: bool = False, skip_validation: bool = False, trust_repo=None,  # noqa: A001
         verbose: bool = True) -> builtins.list[str]:
    """The models a plugin provides, as bare names (``torch.hub.list`` lists a repository's entry points).

    >>> ember.hub.list("toy")
    ['mlp']
    """
    registry = get_registry("models")
    names = [e.name for e in registry.entries(plugin=github)]
    if not names:
        from .plugins import get_manager
        known = sorted(p.name for p in get_manager().plugins)
        notes = get_manager().lookup_notes("models", f"{github}:")
        raise NotFoundError(f"plugin {github!r} provides no models; installed plugins: {', '.join(known) or 'none'}"
                            + "".join(f". Note: {n}" for n in notes))
    return names


def help(github: str, model: str, force_reload: bool = False, skip_validation: bool = False,  # noqa: A001
         trust_repo=None) -> str:
    """The documentation of a plugin's model (``torch.hub.help``): its builder's docstring, followed by the
    pretrained weights it offers.

    >>> print(ember.hub.help("toy", "mlp"))
    Build a :class:`ToyMLP`, optionally with pretrained weights (``"DEFAULT"`` or a member).
    <BLANKLINE>
    Pretrained weights: ToyMLP_Weights.BLOBS_V1 (DEFAULT)
    """
    entry = get_entry("models", _model_name(github, model))
    doc = inspect.getdoc(entry.obj) or f"{entry.canonical}: no documentation"
    weights = entry.metadata.get("weights")
    if weights is not None:
        default = weights.__members__.get("DEFAULT")
        members = [f"{weights.__name__}.{m.name}" + (" (DEFAULT)" if m is default else "") for m in weights]
        doc += "\n\nPretrained weights: " + ", ".join(members)
    return doc


# ---------------------------------------------------------------------------------------------------------
# Fine-tuned weights: `ember finetune` writes OUT/best.ember and OUT/weights.json, a Weights record that
# get_model(name, weights="OUT") reads (ember.finetune.checkpoint writes it).
# ---------------------------------------------------------------------------------------------------------
FINETUNED_ENTRY = "weights.json"
FINETUNED_FORMAT = "ember-finetune-weights/1"


def is_weights_entry(value) -> bool:
    """Whether ``value`` names a fine-tuning output directory or its ``weights.json``."""
    if not isinstance(value, (str, os.PathLike)):
        return False
    p = Path(value).expanduser()
    return (p.is_dir() and (p / FINETUNED_ENTRY).is_file()) or (p.name == FINETUNED_ENTRY and p.is_file())


def load_weights_entry(path, model: str | None = None) -> Weights:
    """The :class:`Weights` record of a fine-tuning output (a directory or its ``weights.json``)."""
    p = Path(path).expanduser()
    entry_file = p / FINETUNED_ENTRY if p.is_dir() else p
    try:
        doc = json.loads(entry_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise _WeightsError(f"can't read the fine-tuned weights entry {entry_file}: {e}") from e
    if doc.get("format") != FINETUNED_FORMAT:
        raise _WeightsError(f"{entry_file} is not a fine-tuned weights entry (format {doc.get('format')!r})")
    if model is not None and doc["model"] != model:
        raise _WeightsError(f"{entry_file} holds weights of {doc['model']!r}, not of {model!r}; build that model: "
                           f"ember.hub.get_model({doc['model']!r}, weights={str(path)!r})")
    transforms = None
    if doc.get("base_weights"):
        base = get_weight(doc["base_weights"]).value.transforms
        if base is not None and doc.get("image_size"):
            transforms = functools.partial(base, crop_size=doc["image_size"], resize_size=doc["image_size"])
        else:
            transforms = base
    meta = {"categories": doc["categories"], "dataset": doc.get("dataset"), "metrics": doc.get("metrics", {}),
            "recipe": doc.get("recipe"), "base_weights": doc.get("base_weights")}
    return Weights(url=str((entry_file.parent / doc["file"]).resolve()), sha256=doc["sha256"], size=doc["size"],
                   meta=meta, transforms=transforms)
