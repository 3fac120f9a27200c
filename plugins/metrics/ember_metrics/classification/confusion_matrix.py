"""Confusion-matrix metrics: ConfusionMatrix, CohenKappa, MatthewsCorrCoef.

State: the int64 confusion matrix (``(2, 2)``, ``(C, C)`` or ``(L, 2, 2)``), summed across
batches and processes.
"""
from __future__ import annotations

from typing import Any

import ember
from ember import Tensor

from ..functional.classification import _inputs as I
from ..functional.classification import _confusion_matrix as F
from ..metric import Metric
from ..utilities._array import arr, wrap, array_module
from .base import _ClassificationTaskWrapper, build_for_task

__all__ = ["BinaryConfusionMatrix", "MulticlassConfusionMatrix", "MultilabelConfusionMatrix", "ConfusionMatrix",
           "BinaryCohenKappa", "MulticlassCohenKappa", "CohenKappa",
           "BinaryMatthewsCorrCoef", "MulticlassMatthewsCorrCoef", "MultilabelMatthewsCorrCoef", "MatthewsCorrCoef"]


class _ConfmatMetric(Metric):
    is_differentiable = False
    higher_is_better: bool | None = None
    full_state_update = False
    normalize = None

    def _init_state(self, shape: tuple) -> None:
        self.add_state("confmat", ember.zeros(shape, dtype=ember.int64), dist_reduce_fx="sum")

    def _add(self, xp_cm, device) -> None:
        self.confmat = self.confmat + wrap(xp_cm, device)

    def _value(self, xp, cm):
        return F.confmat_reduce(xp, cm, self.normalize)

    def compute(self) -> Tensor:
        return wrap(self._value(array_module(self.confmat), arr(self.confmat)), self.device)


class _BinaryConfmat(_ConfmatMetric):
    def __init__(self, threshold: float = 0.5, ignore_index: int | None = None, validate_args: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if validate_args:
            I.check_threshold(threshold)
            I.check_ignore_index(ignore_index)
        self.threshold, self.ignore_index, self.validate_args = threshold, ignore_index, validate_args
        self._init_state((2, 2))

    def update(self, preds: Tensor, target: Tensor) -> None:
        preds, target = I.as_tensor(preds), I.as_tensor(target)
        if self.validate_args:
            I.validate_binary(preds, target, "global", self.ignore_index)
        self._add(F.binary_confmat(preds, target, self.threshold, self.ignore_index)[1], target.device)


class _MulticlassConfmat(_ConfmatMetric):
    def __init__(self, num_classes: int, ignore_index: int | None = None, validate_args: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if validate_args:
            I.check_num(num_classes, "num_classes")
            I.check_ignore_index(ignore_index)
        self.num_classes, self.ignore_index, self.validate_args = num_classes, ignore_index, validate_args
        self._init_state((num_classes, num_classes))

    def update(self, preds: Tensor, target: Tensor) -> None:
        preds, target = I.as_tensor(preds), I.as_tensor(target)
        if self.validate_args:
            I.validate_multiclass(preds, target, self.num_classes, "global", self.ignore_index)
        self._add(F.multiclass_confmat(preds, target, self.num_classes, self.ignore_index)[1], target.device)


class _MultilabelConfmat(_ConfmatMetric):
    def __init__(self, num_labels: int, threshold: float = 0.5, ignore_index: int | None = None,
                 validate_args: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if validate_args:
            I.check_num(num_labels, "num_labels")
            I.check_threshold(threshold)
            I.check_ignore_index(ignore_index)
        self.num_labels, self.threshold = num_labels, threshold
        self.ignore_index, self.validate_args = ignore_index, validate_args
        self._init_state((num_labels, 2, 2))

    def update(self, preds: Tensor, target: Tensor) -> None:
        preds, target = I.as_tensor(preds), I.as_tensor(target)
        if self.validate_args:
            I.validate_multilabel(preds, target, self.num_labels, "global", self.ignore_index)
        self._add(F.multilabel_confmat(preds, target, self.num_labels, self.threshold, self.ignore_index)[1],
                  target.device)


def _set_normalize(self, normalize, validate_args) -> None:
    if validate_args:
        F.check_normalize(normalize)
    self.normalize = normalize


# ---- ConfusionMatrix -------------------------------------------------------------------------------------
class BinaryConfusionMatrix(_BinaryConfmat):
    """``[[tn, fp], [fn, tp]]``; ``normalize`` "true" (rows), "pred" (columns), "all" gives float32."""

    def __init__(self, threshold: float = 0.5, ignore_index: int | None = None, normalize: str | None = None,
                 validate_args: bool = True, **kwargs: Any) -> None:
        super().__init__(threshold, ignore_index, validate_args, **kwargs)
        _set_normalize(self, normalize, validate_args)


class MulticlassConfusionMatrix(_MulticlassConfmat):
    """(C, C) counts with rows = target class, columns = predicted class."""

    def __init__(self, num_classes: int, ignore_index: int | None = None, normalize: str | None = None,
                 validate_args: bool = True, **kwargs: Any) -> None:
        super().__init__(num_classes, ignore_index, validate_args, **kwargs)
        _set_normalize(self, normalize, validate_args)


class MultilabelConfusionMatrix(_MultilabelConfmat):
    """(L, 2, 2): a binary confusion matrix per label."""

    def __init__(self, num_labels: int, threshold: float = 0.5, ignore_index: int | None = None,
                 normalize: str | None = None, validate_args: bool = True, **kwargs: Any) -> None:
        super().__init__(num_labels, threshold, ignore_index, validate_args, **kwargs)
        _set_normalize(self, normalize, validate_args)


class ConfusionMatrix(_ClassificationTaskWrapper):
    """Confusion matrix for ``task``."""

    _classes = (BinaryConfusionMatrix, MulticlassConfusionMatrix, MultilabelConfusionMatrix)

    def __new__(cls, task: str, threshold: float = 0.5, num_classes: int | None = None,
                num_labels: int | None = None, normalize: str | None = None, ignore_index: int | None = None,
                validate_args: bool = True, **kwargs: Any):
        common = dict(ignore_index=ignore_index, normalize=normalize, validate_args=validate_args)
        return build_for_task(task, cls._classes, num_classes, num_labels, dict(threshold=threshold, **common), common,
                              dict(threshold=threshold, **common), kwargs)


# ---- Cohen's kappa ---------------------------------------------------------------------------------------------
class BinaryCohenKappa(_BinaryConfmat):
    """Chance-corrected agreement of binary labels (``nan`` when only one class occurs at all)."""

    higher_is_better = True

    def __init__(self, threshold: float = 0.5, ignore_index: int | None = None, weights: str | None = None,
                 validate_args: bool = True, **kwargs: Any) -> None:
        super().__init__(threshold, ignore_index, validate_args, **kwargs)
        if validate_args:
            F.check_kappa_weights(weights)
        self.weights = weights

    def _value(self, xp, cm):
        return F.cohen_kappa_reduce(xp, cm, self.weights)


class MulticlassCohenKappa(_MulticlassConfmat):
    """Cohen's kappa; ``weights`` "linear"/"quadratic" penalise distant classes more (ordinal labels)."""

    higher_is_better = True

    def __init__(self, num_classes: int, ignore_index: int | None = None, weights: str | None = None,
                 validate_args: bool = True, **kwargs: Any) -> None:
        super().__init__(num_classes, ignore_index, validate_args, **kwargs)
        if validate_args:
            F.check_kappa_weights(weights)
        self.weights = weights

    def _value(self, xp, cm):
        return F.cohen_kappa_reduce(xp, cm, self.weights)


class CohenKappa(_ClassificationTaskWrapper):
    """Cohen's kappa for ``task`` in "binary", "multiclass"."""

    _classes = (BinaryCohenKappa, MulticlassCohenKappa, None)

    def __new__(cls, task: str, threshold: float = 0.5, num_classes: int | None = None, weights: str | None = None,
                ignore_index: int | None = None, validate_args: bool = True, **kwargs: Any):
        common = dict(ignore_index=ignore_index, weights=weights, validate_args=validate_args)
        return build_for_task(task, cls._classes, num_classes, None,
                              dict(threshold=threshold, **common), common, None, kwargs)


# ---- Matthews correlation coefficient -----------------------------------------------------------------------------
class BinaryMatthewsCorrCoef(_BinaryConfmat):
    """Matthews correlation coefficient in [-1, 1]; 0 when undefined (e.g. constant predictions)."""

    higher_is_better = True

    def _value(self, xp, cm):
        return F.matthews_corrcoef_reduce(xp, cm)


class MulticlassMatthewsCorrCoef(_MulticlassConfmat):
    """Matthews correlation coefficient over ``num_classes`` classes (Gorodkin's R_K)."""

    higher_is_better = True

    def _value(self, xp, cm):
        return F.matthews_corrcoef_reduce(xp, cm)


class MultilabelMatthewsCorrCoef(_MultilabelConfmat):
    """MCC of all label decisions pooled."""

    higher_is_better = True

    def _value(self, xp, cm):
        return F.matthews_corrcoef_reduce(xp, cm)


class MatthewsCorrCoef(_ClassificationTaskWrapper):
    """Matthews correlation coefficient for ``task``."""

    _classes = (BinaryMatthewsCorrCoef, MulticlassMatthewsCorrCoef, MultilabelMatthewsCorrCoef)

    def __new__(cls, task: str, threshold: float = 0.5, num_classes: int | None = None,
                num_labels: int | None = None, ignore_index: int | None = None, validate_args: bool = True,
                **kwargs: Any):
        common = dict(ignore_index=ignore_index, validate_args=validate_args)
        return build_for_task(task, cls._classes, num_classes, num_labels, dict(threshold=threshold, **common), common,
                              dict(threshold=threshold, **common), kwargs)
