"""Models, weights, datasets, transforms and metrics from every installed plugin (torchvision-shaped).

>>> from ember import hub
>>> hub.list_models(plugin="toy")                         # canonical names "<plugin>:<name>"
['toy:mlp']
>>> model = hub.get_model("mlp", weights="DEFAULT")     # a bare name works when it is unique
>>> tuned = hub.get_model("toy:mlp", weights="DEFAULT", num_classes=5)  # new head, pretrained body
>>> hub.get_model_weights("toy:mlp").DEFAULT.meta["metrics"]
>>> ds = hub.get_dataset("toy:blobs", train=True)
>>> hub.list_metrics(higher_is_better=True)

Plugins are loaded on the first call into this module (never by ``import ember``).
"""
from __future__ import annotations

import inspect
from types import ModuleType
from typing import Any, Callable

from .plugins import get_registry
from .plugins.registry import Entry, NotFoundError
from .plugins.weights import Weights, WeightsEnum

__all__ = ["list_models", "get_model", "get_model_builder", "get_model_weights", "get_weight", "list_datasets",
           "get_dataset", "list_transforms", "get_transform", "get_transform_function", "list_metrics", "get_metric",
           "get_metric_function", "list_backends", "get_entry", "Weights", "WeightsEnum"]


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

    >>> hub.list_models(include="resnet*", task="image-classification")
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
    """A weights member from its full name, ``"ToyMLP_Weights.BLOBS_V1"``."""
    enum_name, sep, member = name.partition(".")
    if not sep:
        raise ValueError(f"expected '<EnumName>.<MEMBER>', got {name!r}")
    seen = set()
    for e in get_registry("models").entries():
        w = e.metadata.get("weights")
        if w is not None and w.__name__ == enum_name and w not in seen:
            seen.add(w)
            return w.verify(member)
    raise NotFoundError(f"no registered model has weights named {enum_name!r}")


def _resolve_weights(entry: Entry, weights) -> Weights | None:
    if weights is None:
        return None
    if isinstance(weights, Weights):
        return weights
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
              progress: bool = False, **config) -> Any:
    """Build a registered model, optionally with pretrained weights.

    ``weights`` is ``None``, ``"DEFAULT"``, a member of the model's weights enum, its name
    (``"BLOBS_V1"`` or ``"ToyMLP_Weights.BLOBS_V1"``) or a :class:`Weights` record. Weights are fetched
    (into ``$EMBER_HOME`` if remote), checked against their sha256 and loaded. With ``num_classes``
    different from the weights' number of categories the pretrained body is kept and the classifier
    head re-initialised for ``num_classes`` (see the head protocol in
    :func:`ember.plugins.hookspecs.ember_register_models`). Other keywords go to the builder.

    >>> model = hub.get_model("toy:mlp", weights="DEFAULT", num_classes=5)
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
        model.load_state_dict(w.get_state_dict(progress=progress))
        if num_classes is not None and n_weights is not None and num_classes != n_weights:
            _reset_head(model, entry, num_classes, n_weights)
    return model


def _reset_head(model, entry: Entry, num_classes: int, n_weights: int) -> None:
    from . import nn
    reset = getattr(model, "reset_classifier", None)
    if callable(reset):
        reset(num_classes)
        return
    path = entry.metadata.get("head") or getattr(model, "classifier_head", None)
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
