"""Task wrappers: ``Accuracy(task="multiclass", num_classes=10)`` builds a ``MulticlassAccuracy``."""
from __future__ import annotations

from typing import Any

from ..functional.classification import _inputs as I
from ..metric import Metric

__all__ = ["_ClassificationTaskWrapper", "build_for_task"]


def build_for_task(task, classes: tuple, num_classes, num_labels, binary_kw: dict, multiclass_kw: dict,
                   multilabel_kw: dict | None, kwargs: dict) -> Metric:
    """Instantiate ``classes[task]`` (binary, multiclass, multilabel) with that task's arguments."""
    task = I.check_task(task)
    binary_cls, multiclass_cls, multilabel_cls = classes
    if task == "binary":
        return binary_cls(**binary_kw, **kwargs)
    if task == "multiclass":
        if not isinstance(num_classes, int):
            raise ValueError(f"`num_classes` is expected to be `int` but `{type(num_classes)} was passed.`")
        return multiclass_cls(num_classes, **multiclass_kw, **kwargs)
    if multilabel_cls is None:
        raise ValueError(f"Task {task!r} is not supported by this metric (expected 'binary' or 'multiclass')")
    if not isinstance(num_labels, int):
        raise ValueError(f"`num_labels` is expected to be `int` but `{type(num_labels)} was passed.`")
    return multilabel_cls(num_labels, **multilabel_kw, **kwargs)


class _ClassificationTaskWrapper(Metric):
    """Base of the task-dispatching classes; ``__new__`` returns the task-specific metric, so
    instances of the wrapper itself never exist."""

    def update(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(f"{type(self).__name__} metric does not have a 'update' method. Use the task "
                                  "specific class.")

    def compute(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} metric does not have a 'compute' method. Use the task "
                                  "specific class.")
