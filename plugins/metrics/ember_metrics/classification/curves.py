"""Ranking metrics: ROC, PrecisionRecallCurve, AUROC, AveragePrecision (binary, multiclass, multilabel).

With ``thresholds=None`` (default) the metric keeps every score and target ("cat" states, so memory
grows with the data) and computes exact curves; with ``thresholds`` an int / list / 1-d tensor it
keeps a ``(T, ..., 2, 2)`` count state per threshold (constant memory, binned approximation). See
:mod:`ember_metrics.functional.classification.curves` for conventions and edge cases.
"""
from __future__ import annotations

from typing import Any

import ember
from ember import Tensor

from ..functional.classification import _inputs as I
from ..functional.classification import _curves as F
from ..metric import Metric
from ..utilities._array import arr, wrap, array_module
from ..utilities.data import dim_zero_cat
from .base import _ClassificationTaskWrapper, build_for_task

__all__ = ["BinaryPrecisionRecallCurve", "MulticlassPrecisionRecallCurve", "MultilabelPrecisionRecallCurve",
           "PrecisionRecallCurve", "BinaryROC", "MulticlassROC", "MultilabelROC", "ROC",
           "BinaryAUROC", "MulticlassAUROC", "MultilabelAUROC", "AUROC",
           "BinaryAveragePrecision", "MulticlassAveragePrecision", "MultilabelAveragePrecision", "AveragePrecision"]


class _CurveBase(Metric):
    """States and update shared by every ranking metric of one task."""

    is_differentiable = False
    higher_is_better: bool | None = None
    full_state_update = False
    _num = None            # number of classes/labels (None: binary)
    _one_vs_rest = False   # multiclass targets are class indices

    def _init_curve(self, thresholds, ignore_index, validate_args, class_dims: tuple) -> None:
        if validate_args:
            I.check_thresholds(thresholds)
            I.check_ignore_index(ignore_index)
        self.ignore_index, self.validate_args = ignore_index, validate_args
        self._class_dims = class_dims
        if thresholds is None:
            self.thresholds = None
            self.add_state("preds", [], dist_reduce_fx="cat")
            self.add_state("target", [], dist_reduce_fx="cat")
        else:
            thr = F.thresholds_array(array_module(ember.zeros(0)), thresholds)
            self.register_buffer("thresholds", ember.as_tensor(thr), persistent=False)
            self.add_state("confmat", ember.zeros((thr.shape[0],) + class_dims + (2, 2), dtype=ember.int64),
                           dist_reduce_fx="sum")

    def _state_fn(self, preds, target):
        raise NotImplementedError

    def update(self, preds: Tensor, target: Tensor) -> None:
        preds, target = I.as_tensor(preds), I.as_tensor(target)
        xp, state, thr, device = self._state_fn(preds, target)
        if thr is None:
            self.preds.append(wrap(state[0], device))
            self.target.append(wrap(state[1], device))
        else:
            self.confmat = self.confmat + wrap(state, device)

    def _final_state(self):
        """xp, the state as arrays ((preds, target) or counts), the thresholds array (or None) and the
        device the arrays are on (the CPU for list states with ``compute_on_cpu``)."""
        if self.thresholds is not None:
            return array_module(self.confmat), arr(self.confmat), arr(self.thresholds), self.confmat.device
        p = dim_zero_cat(self.preds) if self.preds else ember.zeros((0,) + self._pred_dims(), device=self.device)
        t = dim_zero_cat(self.target) if self.target else ember.zeros((0,) + self._target_dims(), dtype=ember.int64,
                                                                      device=self.device)
        return array_module(p), (arr(p), arr(t)), None, p.device

    def _pred_dims(self) -> tuple:
        return self._class_dims

    def _target_dims(self) -> tuple:
        return () if self._one_vs_rest else self._class_dims

    def _curve(self, kind: str):
        xp, state, thr, dev = self._final_state()
        return F._wrap_all(F.curve_state_compute(xp, kind, state, thr, self._num, self._one_vs_rest), dev)

    _kind = None  # the curve a curve metric computes: "prc" or "roc"

    def compute(self):
        return self._curve(self._kind)


class _Binary(_CurveBase):
    def __init__(self, thresholds=None, ignore_index: int | None = None, validate_args: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._init_curve(thresholds, ignore_index, validate_args, ())

    def _state_fn(self, preds, target):
        return F.binary_state(preds, target, self.thresholds, self.ignore_index, self.validate_args)


class _Multiclass(_CurveBase):
    _one_vs_rest = True

    def __init__(self, num_classes: int, thresholds=None, average: str | None = None,
                 ignore_index: int | None = None, validate_args: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if validate_args:
            I.check_num(num_classes, "num_classes")
            if average is not None:
                I.check_average(average, ("micro", "macro", "weighted", "none"))
        self.num_classes = self._num = num_classes
        self.average = average
        self._init_curve(thresholds, ignore_index, validate_args, (num_classes,))

    def _state_fn(self, preds, target):
        return F.multiclass_state(preds, target, self.num_classes, self.thresholds, self.ignore_index,
                                  self.validate_args)


class _Multilabel(_CurveBase):
    def __init__(self, num_labels: int, thresholds=None, average: str | None = None,
                 ignore_index: int | None = None, validate_args: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if validate_args:
            I.check_num(num_labels, "num_labels")
            if average is not None:
                I.check_average(average, ("micro", "macro", "weighted", "none"))
        self.num_labels = self._num = num_labels
        self.average = average
        self._init_curve(thresholds, ignore_index, validate_args, (num_labels,))

    def _state_fn(self, preds, target):
        return F.multilabel_state(preds, target, self.num_labels, self.thresholds, self.ignore_index,
                                  self.validate_args)


def _curve_wrapper(classes, task, thresholds, num_classes, num_labels, ignore_index, validate_args, kwargs,
                   **class_kw):
    common = dict(thresholds=thresholds, ignore_index=ignore_index, validate_args=validate_args)
    return build_for_task(task, classes, num_classes, num_labels, dict(common), dict(common, **class_kw),
                          dict(common, **class_kw), kwargs)


class _MulticlassScore(_Multiclass):
    """A one-vs-rest score per class, averaged ("macro" by default, "weighted", "micro", "none"): ``_score``
    is its functional computation."""

    higher_is_better = True
    _score = None

    def __init__(self, num_classes: int, average: str | None = "macro", thresholds=None,
                 ignore_index: int | None = None, validate_args: bool = True, **kwargs: Any) -> None:
        super().__init__(num_classes, thresholds, average, ignore_index, validate_args, **kwargs)

    def compute(self) -> Tensor:
        xp, state, thr, dev = self._final_state()
        return wrap(type(self)._score(xp, state, thr, self.num_classes, self.average, one_vs_rest=True), dev)


class _MultilabelScore(_Multilabel):
    """A score per label, averaged ("macro" by default, "weighted", "micro", "none")."""

    higher_is_better = True
    _score = None

    def __init__(self, num_labels: int, average: str | None = "macro", thresholds=None,
                 ignore_index: int | None = None, validate_args: bool = True, **kwargs: Any) -> None:
        super().__init__(num_labels, thresholds, average, ignore_index, validate_args, **kwargs)

    def compute(self) -> Tensor:
        xp, state, thr, dev = self._final_state()
        return wrap(type(self)._score(xp, state, thr, self.num_labels, self.average), dev)


# ---- precision-recall curve ----------------------------------------------------------------------------------------
class _CurveTaskWrapper(_ClassificationTaskWrapper):
    """``Curve(task=...)``: builds the task's curve class from ``_classes``."""

    def __new__(cls, task: str, thresholds=None, num_classes: int | None = None, num_labels: int | None = None,
                ignore_index: int | None = None, validate_args: bool = True, **kwargs: Any):
        return _curve_wrapper(cls._classes, task, thresholds, num_classes, num_labels,
                              ignore_index, validate_args, kwargs)


class BinaryPrecisionRecallCurve(_Binary):
    """(precision, recall, thresholds) of binary scores."""

    _kind = "prc"


class MulticlassPrecisionRecallCurve(_Multiclass):
    """One-vs-rest precision-recall curve per class."""

    _kind = "prc"


class MultilabelPrecisionRecallCurve(_Multilabel):
    """Precision-recall curve per label."""

    _kind = "prc"


class PrecisionRecallCurve(_CurveTaskWrapper):
    """Precision-recall curve for ``task``."""

    _classes = (BinaryPrecisionRecallCurve, MulticlassPrecisionRecallCurve, MultilabelPrecisionRecallCurve)


# ---- ROC -------------------------------------------------------------------------------------------------------
class BinaryROC(_Binary):
    """(fpr, tpr, thresholds) of binary scores."""

    _kind = "roc"


class MulticlassROC(_Multiclass):
    """One-vs-rest ROC per class."""

    _kind = "roc"


class MultilabelROC(_Multilabel):
    """ROC per label."""

    _kind = "roc"


class ROC(_CurveTaskWrapper):
    """ROC curve for ``task``."""

    _classes = (BinaryROC, MulticlassROC, MultilabelROC)


# ---- AUROC -----------------------------------------------------------------------------------------------------
class BinaryAUROC(_Binary):
    """Area under the ROC curve (``max_fpr``: standardised partial area up to that false positive rate).

    >>> m = BinaryAUROC(); m(ember.tensor([0.1, 0.4, 0.35, 0.8]), ember.tensor([0, 0, 1, 1]))
    tensor(0.7500)
    """

    higher_is_better = True

    def __init__(self, max_fpr: float | None = None, thresholds=None, ignore_index: int | None = None,
                 validate_args: bool = True, **kwargs: Any) -> None:
        super().__init__(thresholds, ignore_index, validate_args, **kwargs)
        if validate_args:
            F.check_max_fpr(max_fpr)
        self.max_fpr = max_fpr

    def compute(self) -> Tensor:
        xp, state, thr, dev = self._final_state()
        return wrap(F.auroc_compute(xp, state, thr, None, None, self.max_fpr), dev)


class MulticlassAUROC(_MulticlassScore):
    """One-vs-rest AUROC averaged over classes ("macro", "weighted", "micro", "none")."""

    _score = staticmethod(F.auroc_compute)


class MultilabelAUROC(_MultilabelScore):
    """AUROC per label, averaged ("macro", "weighted", "micro", "none")."""

    _score = staticmethod(F.auroc_compute)


class AUROC(_ClassificationTaskWrapper):
    """AUROC for ``task``."""

    _classes = (BinaryAUROC, MulticlassAUROC, MultilabelAUROC)

    def __new__(cls, task: str, thresholds=None, num_classes: int | None = None, num_labels: int | None = None,
                average: str | None = "macro", max_fpr: float | None = None, ignore_index: int | None = None,
                validate_args: bool = True, **kwargs: Any):
        common = dict(thresholds=thresholds, ignore_index=ignore_index, validate_args=validate_args)
        return build_for_task(task, cls._classes, num_classes, num_labels,
                              dict(common, max_fpr=max_fpr), dict(common, average=average),
                              dict(common, average=average), kwargs)


# ---- average precision ---------------------------------------------------------------------------------------------
class BinaryAveragePrecision(_Binary):
    """Average precision ``sum_n (R_n - R_{n-1}) P_n`` (scikit-learn's definition)."""

    higher_is_better = True

    def compute(self) -> Tensor:
        xp, state, thr, dev = self._final_state()
        return wrap(F.average_precision_compute(xp, state, thr, None, None), dev)


class MulticlassAveragePrecision(_MulticlassScore):
    """One-vs-rest average precision per class, averaged ("macro", "weighted", "micro", "none")."""

    _score = staticmethod(F.average_precision_compute)


class MultilabelAveragePrecision(_MultilabelScore):
    """Average precision per label, averaged ("macro", "weighted", "micro", "none")."""

    _score = staticmethod(F.average_precision_compute)


class AveragePrecision(_ClassificationTaskWrapper):
    """Average precision for ``task``."""

    _classes = (BinaryAveragePrecision, MulticlassAveragePrecision, MultilabelAveragePrecision)

    def __new__(cls, task: str, thresholds=None, num_classes: int | None = None, num_labels: int | None = None,
                average: str | None = "macro", ignore_index: int | None = None, validate_args: bool = True,
                **kwargs: Any):
        common = dict(thresholds=thresholds, ignore_index=ignore_index, validate_args=validate_args)
        return build_for_task(task, cls._classes, num_classes, num_labels, dict(common), dict(common, average=average),
                              dict(common, average=average), kwargs)
