"""The model side of fine-tuning: pretrained weights, a head for the data's classes, freezing, parameter groups.

The classification head is found through the registry's head protocol (see
:func:`ember.plugins.hookspecs.ember_register_models`): ``get_classifier()``, else the registration's
``head=`` or the model's ``classifier_head`` dotted path. Layer groups (what ``--freeze N`` counts) are
the model's top-level children, with ``Sequential``/``ModuleList`` containers opened one level, in
registration order, leaving out the head.

>>> model = ember.nn.Sequential(ember.nn.Linear(2, 4), ember.nn.ReLU(), ember.nn.Linear(4, 3))
>>> head = model[2]
>>> [name for name, _ in layer_groups(model, head)]
['0']
>>> frozen = apply_freeze(model, head, "all-but-head")
>>> sorted(frozen)
['0.bias', '0.weight']
"""
from __future__ import annotations

from typing import Any

from .. import hub, nn
from ..plugins.registry import Entry

__all__ = ["ModelError", "resolve_weights", "build_model", "find_head", "layer_groups", "apply_freeze",
           "train_mode", "param_groups"]


class ModelError(ValueError):
    """The model can't be fine-tuned as asked; the message says what to do."""


def resolve_weights(entry: Entry, weights: Any):
    """The :class:`~ember.plugins.Weights` record for ``weights`` (``None``: from scratch)."""
    if weights is None:
        return None
    if entry.metadata.get("weights") is None:
        raise ModelError(f"model {entry.canonical!r} has no pretrained weights; train it from scratch with "
                         "--weights none, or pick a model with weights (`ember weights`)")
    return hub._resolve_weights(entry, weights)


def find_head(model, entry: Entry):
    """The model's final classification layer, by the head protocol (the hub's)."""
    try:
        head = hub._head_module(model, entry)
    except AttributeError as e:
        raise ModelError(f"model {entry.canonical!r}: its classification head {hub._head_path(model, entry)!r} "
                         f"does not exist ({e})") from e
    if head is None:
        raise ModelError(
            f"model {entry.canonical!r} has no classification head to swap: its plugin must name it (register the "
            "model with head='<dotted path of the final Linear>', or give the model a classifier_head attribute or "
            "get_classifier()/reset_classifier(num_classes) methods)")
    return head


def build_model(entry: Entry, weights, classes: list[str], progress: bool = True):
    """The model with ``weights`` loaded and a head for ``classes``.

    The pretrained head is kept only when the data's classes are the weights' categories (training on
    for the same labels); otherwise it is re-initialised for ``len(classes)`` outputs.
    """
    n = len(classes)
    try:
        model = hub.get_model(entry.canonical, weights=weights, num_classes=n, progress=progress)
    except (ValueError, TypeError) as e:
        if "classifier head" in str(e) or "classifier_head" in str(e):
            raise ModelError(f"model {entry.canonical!r} has no classification head to swap for {n} classes: {e}") \
                from e
        raise
    if weights is not None and weights.num_classes == n and list(weights.meta.get("categories") or []) != classes:
        hub._reset_head(model, entry, n, -1)   # same count, other classes: a fresh head all the same
    head = find_head(model, entry)
    out = getattr(head, "out_features", None)
    if out is not None and out != n:
        raise ModelError(f"model {entry.canonical!r}: its head has {out} outputs but the data has {n} classes; "
                         "the builder did not take num_classes (the plugin should accept it)")
    return model, head


def layer_groups(model, head) -> list[tuple[str, Any]]:
    """``(name, module)`` of the body's layer groups that hold parameters, in order (the head excluded)."""
    head_ids = {id(p) for p in head.parameters()}
    groups = []
    for name, child in model.named_children():
        parts = (list(child.named_children()) if isinstance(child, (nn.Sequential, nn.ModuleList)) else [])
        for sub_name, sub in (((f"{name}.{n}", m) for n, m in parts) if parts else [(name, child)]):
            if any(id(p) not in head_ids for p in sub.parameters()):
                groups.append((sub_name, sub))
    return groups


def apply_freeze(model, head, spec: str | int) -> set[str]:
    """Set ``requires_grad`` for ``spec`` (``"all-but-head"``, ``"none"`` or N leading layer groups);
    returns the names of the frozen parameters. The head always trains."""
    head_ids = {id(p) for p in head.parameters()}
    if spec == "none":
        frozen_ids = set()
    elif spec == "all-but-head":
        frozen_ids = {id(p) for p in model.parameters()} - head_ids
    else:
        groups = layer_groups(model, head)
        if spec > len(groups):
            raise ModelError(f"--freeze {spec}: the model has {len(groups)} layer groups "
                             f"({', '.join(n for n, _ in groups)})")
        frozen_ids = {id(p) for _, g in groups[:spec] for p in g.parameters()} - head_ids
    frozen = set()
    for name, p in model.named_parameters():
        p.requires_grad_(id(p) not in frozen_ids)
        if id(p) in frozen_ids:
            frozen.add(name)
    return frozen


def train_mode(model) -> None:
    """Training mode, except for normalisation layers whose parameters are all frozen: their running
    statistics stay the pretrained ones, so a frozen body computes exactly what it did."""
    model.train()
    for m in model.modules():
        params = list(m.parameters())
        if getattr(m, "running_mean", None) is not None and params and not any(p.requires_grad for p in params):
            m.eval()


def param_groups(model, head, lr: float, head_lr: float | None, weight_decay: float) -> list[dict]:
    """Body and head at their own learning rates; no weight decay on biases and norm weights (1-D tensors).

    Every parameter is in a group, frozen or not, so unfreezing later needs no new optimizer: a
    parameter without a gradient is skipped by the optimizer's step.
    """
    head_ids = {id(p) for p in head.parameters()}
    buckets: dict[tuple[bool, bool], list] = {}
    for p in model.parameters():
        buckets.setdefault((id(p) in head_ids, p.dim() > 1), []).append(p)
    groups = []
    for (is_head, decay), params in sorted(buckets.items()):
        groups.append({"params": params, "lr": (head_lr if head_lr is not None else lr) if is_head else lr,
                       "weight_decay": weight_decay if decay else 0.0, "name": ("head" if is_head else "body")
                       + ("" if decay else "_no_decay")})
    return groups
