"""Validation metrics: accuracy and loss built in, any registered metric by name (ember-metrics' f1_score, ...).

A registered metric's functional form is called as torchmetrics' are, ``fn(preds, target, task="multiclass",
num_classes=C)`` when it takes those keywords, else ``fn(preds, target)``; ``preds`` are the logits.

>>> logits = ember.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, 0.0]])
>>> target = ember.tensor([0, 1, 1])
>>> round(Metric("accuracy").compute(logits, target, num_classes=2), 4)
0.6667
>>> confusion_matrix(logits.argmax(1), target, 2).tolist()
[[1, 0], [1, 1]]
"""
from __future__ import annotations

import inspect

import numpy as np

from .. import hub
from ..nn import functional as F
from ..plugins.registry import RegistryError

__all__ = ["Metric", "confusion_matrix"]

BUILTIN = {"accuracy": True, "loss": False}   # name -> higher is better


class Metric:
    """The metric that picks the best checkpoint and stops early: ``compute(logits, target, num_classes)``."""

    def __init__(self, name: str, label_smoothing: float = 0.0):
        self.name = name
        self.label_smoothing = label_smoothing
        if name in BUILTIN:
            self.fn, self.higher_is_better = None, BUILTIN[name]
            return
        try:
            entry = hub.get_entry("metrics", name)
        except RegistryError as e:
            raise ValueError(f"--metric {name!r}: not accuracy or loss, and not a registered metric ({e}); "
                             "`ember metrics` lists the registered ones (install ember-metrics for more)") from None
        self.fn = entry.functional
        if self.fn is None:
            raise ValueError(f"--metric {name!r}: {entry.canonical} has no functional form to evaluate with")
        self.higher_is_better = bool(entry.metadata.get("higher_is_better", True))
        params = inspect.signature(self.fn).parameters
        self._torchmetrics_style = "task" in params and "num_classes" in params

    def better(self, new: float, best: float | None) -> bool:
        if best is None:
            return True
        return new > best if self.higher_is_better else new < best

    def compute(self, logits, target, num_classes: int) -> float:
        if self.name == "accuracy" and self.fn is None:
            return float((logits.argmax(1) == target).float().mean().item())
        if self.name == "loss" and self.fn is None:
            return float(F.cross_entropy(logits, target).item())
        if self._torchmetrics_style:
            value = self.fn(logits, target, task="multiclass", num_classes=num_classes)
        else:
            value = self.fn(logits, target)
        return float(value.item() if hasattr(value, "item") else value)


def confusion_matrix(preds, target, num_classes: int) -> np.ndarray:
    """``C[i, j]``: samples of class ``i`` predicted as ``j`` (int64)."""
    p = np.asarray(preds.numpy()).reshape(-1)
    t = np.asarray(target.numpy()).reshape(-1)
    return np.bincount(t * num_classes + p, minlength=num_classes * num_classes).reshape(num_classes, num_classes)
