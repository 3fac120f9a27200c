"""Metrics over true/false positive/negative counts: StatScores, Accuracy, Precision, Recall,
FBetaScore, F1Score, Specificity (each as Binary*, Multiclass*, Multilabel* and a task wrapper).

See :mod:`ember_metrics.functional.classification.stat_scores` for the input conventions and
averaging rules. States: int64 counts ``tp, fp, tn, fn`` (per class), summed across batches and
processes; with ``multidim_average="samplewise"`` lists of per-sample counts, concatenated.
"""
from __future__ import annotations

from typing import Any

import ember
from ember import Tensor

from ..functional.classification import _inputs as I
from ..functional.classification import _stat_scores as F
from ..metric import Metric
from ..utilities._array import arr, wrap, array_module
from ..utilities.data import dim_zero_cat
from .base import _ClassificationTaskWrapper, build_for_task

_NAMES = ("StatScores", "Accuracy", "Precision", "Recall", "FBetaScore", "F1Score", "Specificity")
__all__ = [f"{task}{name}" for name in _NAMES for task in ("Binary", "Multiclass", "Multilabel", "")]


class _AbstractStatScores(Metric):
    """Count states and their reduction; subclasses set the task and the reducer."""

    is_differentiable = False
    higher_is_better: bool | None = True
    full_state_update = False
    _reduce = staticmethod(F.accuracy_reduce)

    def _create_state(self, size: int | None, multidim_average: str) -> None:
        for name in ("tp", "fp", "tn", "fn"):
            if multidim_average == "samplewise":
                self.add_state(name, [], dist_reduce_fx="cat")
            else:
                shape = () if size is None else (size,)
                self.add_state(name, ember.zeros(shape, dtype=ember.int64), dist_reduce_fx="sum")
        self._class_shape = () if size is None else (size,)

    def _update_state(self, stats, device) -> None:
        for name, value in zip(("tp", "fp", "tn", "fn"), stats):
            value = wrap(value, device)
            if self.multidim_average == "samplewise":
                getattr(self, name).append(value)
            else:
                setattr(self, name, getattr(self, name) + value)

    def _final_state(self):
        """xp, the four count arrays (per-sample lists concatenated) and their device."""
        values = []
        for name in ("tp", "fp", "tn", "fn"):
            v = getattr(self, name)
            if isinstance(v, list):
                v = dim_zero_cat(v) if v else ember.zeros((0,) + self._class_shape, dtype=ember.int64,
                                                           device=self.device)
            values.append(v)
        return array_module(values[0]), [arr(v) for v in values], values[0].device

    def _reduce_kwargs(self) -> dict:
        return {"average": self.average, "zero_division": self.zero_division}

    def compute(self) -> Tensor:
        xp, stats, device = self._final_state()
        return wrap(self._reduce(xp, *stats, **self._reduce_kwargs()), device)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={getattr(self, k)}" for k in ("num_classes", "num_labels", "average")
                         if getattr(self, k, None) is not None)


class BinaryStatScores(_AbstractStatScores):
    """Binary counts. ``compute`` returns ``[tp, fp, tn, fn, support]``."""

    higher_is_better = None
    _reduce = staticmethod(F.stat_scores_reduce)

    def __init__(self, threshold: float = 0.5, multidim_average: str = "global", ignore_index: int | None = None,
                 validate_args: bool = True, zero_division: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if validate_args:
            I.check_threshold(threshold)
            I.check_multidim_average(multidim_average)
            I.check_ignore_index(ignore_index)
        self.threshold, self.multidim_average, self.ignore_index = threshold, multidim_average, ignore_index
        self.validate_args, self.zero_division = validate_args, zero_division
        self.average = "binary"
        self._create_state(None, multidim_average)

    def update(self, preds: Tensor, target: Tensor) -> None:
        preds, target = I.as_tensor(preds), I.as_tensor(target)
        if self.validate_args:
            I.validate_binary(preds, target, self.multidim_average, self.ignore_index)
        _, stats = F.binary_stats(preds, target, self.threshold, self.multidim_average, self.ignore_index)
        self._update_state(stats, target.device)


class MulticlassStatScores(_AbstractStatScores):
    """Per-class counts over ``num_classes`` classes (``top_k`` best scores count as predicted)."""

    higher_is_better = None
    _reduce = staticmethod(F.stat_scores_reduce)

    def __init__(self, num_classes: int, top_k: int = 1, average: str | None = "macro",
                 multidim_average: str = "global", ignore_index: int | None = None, validate_args: bool = True,
                 zero_division: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if validate_args:
            I.check_num(num_classes, "num_classes")
            I.check_top_k(top_k, num_classes)
            I.check_average(average)
            I.check_multidim_average(multidim_average)
            I.check_ignore_index(ignore_index)
        self.num_classes, self.top_k, self.average = num_classes, top_k, average
        self.multidim_average, self.ignore_index = multidim_average, ignore_index
        self.validate_args, self.zero_division = validate_args, zero_division
        self._create_state(num_classes, multidim_average)

    def update(self, preds: Tensor, target: Tensor) -> None:
        preds, target = I.as_tensor(preds), I.as_tensor(target)
        if self.validate_args:
            I.validate_multiclass(preds, target, self.num_classes, self.multidim_average, self.ignore_index)
            if self.top_k > 1 and preds.ndim != target.ndim + 1:
                raise ValueError("`top_k` > 1 needs `preds` of shape (N, C, ...) with a score for every class")
        _, stats = F.multiclass_stats(preds, target, self.num_classes, self.top_k, self.multidim_average,
                                      self.ignore_index)
        self._update_state(stats, target.device)

    def _reduce_kwargs(self) -> dict:
        return {"average": self.average, "top_k": self.top_k, "zero_division": self.zero_division}


class MultilabelStatScores(_AbstractStatScores):
    """Per-label counts over ``num_labels`` labels."""

    higher_is_better = None
    _reduce = staticmethod(F.stat_scores_reduce)

    def __init__(self, num_labels: int, threshold: float = 0.5, average: str | None = "macro",
                 multidim_average: str = "global", ignore_index: int | None = None, validate_args: bool = True,
                 zero_division: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if validate_args:
            I.check_multilabel_args(num_labels, threshold, average, multidim_average, ignore_index)
        self.num_labels, self.threshold, self.average = num_labels, threshold, average
        self.multidim_average, self.ignore_index = multidim_average, ignore_index
        self.validate_args, self.zero_division = validate_args, zero_division
        self._create_state(num_labels, multidim_average)

    def update(self, preds: Tensor, target: Tensor) -> None:
        preds, target = I.as_tensor(preds), I.as_tensor(target)
        if self.validate_args:
            I.validate_multilabel(preds, target, self.num_labels, self.multidim_average, self.ignore_index)
        _, stats = F.multilabel_stats(preds, target, self.num_labels, self.threshold, self.multidim_average,
                                      self.ignore_index)
        self._update_state(stats, target.device)

    def _reduce_kwargs(self) -> dict:
        return {"average": self.average, "multilabel": True, "zero_division": self.zero_division}


class _StatScoresTaskWrapper(_ClassificationTaskWrapper):
    """``Metric(task=...)`` for the stat-scores family: builds the task's class from ``_classes``."""

    def __new__(cls, task: str, threshold: float = 0.5, num_classes: int | None = None,
                num_labels: int | None = None, average: str | None = "micro", multidim_average: str = "global",
                top_k: int = 1, ignore_index: int | None = None, validate_args: bool = True, **kwargs: Any):
        common = dict(multidim_average=multidim_average, ignore_index=ignore_index, validate_args=validate_args)
        return build_for_task(task, cls._classes, num_classes, num_labels,
                              dict(threshold=threshold, **common),
                              dict(top_k=top_k, average=average, **common),
                              dict(threshold=threshold, average=average, **common), kwargs)


class StatScores(_StatScoresTaskWrapper):
    """``[tp, fp, tn, fn, support]`` for ``task`` ("binary", "multiclass", "multilabel")."""

    _classes = (BinaryStatScores, MulticlassStatScores, MultilabelStatScores)


# ---- accuracy ------------------------------------------------------------------------------------------------
class BinaryAccuracy(BinaryStatScores):
    """Fraction of correct binary predictions.

    >>> m = BinaryAccuracy(); m(ember.tensor([0.2, 0.8, 0.6]), ember.tensor([0, 1, 0]))
    tensor(0.6667)
    """

    higher_is_better = True
    _reduce = staticmethod(F.accuracy_reduce)


class MulticlassAccuracy(MulticlassStatScores):
    """Per-class recall averaged by ``average`` (default "macro"); "micro" is the fraction correct."""

    higher_is_better = True
    _reduce = staticmethod(F.accuracy_reduce)


class MultilabelAccuracy(MultilabelStatScores):
    """Per-label fraction correct averaged by ``average`` (default "macro")."""

    higher_is_better = True
    _reduce = staticmethod(F.accuracy_reduce)


class Accuracy(_StatScoresTaskWrapper):
    """Accuracy for ``task``: ``Accuracy(task="multiclass", num_classes=10)`` is a ``MulticlassAccuracy``
    (note the wrapper's default ``average="micro"``, as torchmetrics)."""

    _classes = (BinaryAccuracy, MulticlassAccuracy, MultilabelAccuracy)


# ---- precision / recall / specificity ------------------------------------------------------------------------------
class BinaryPrecision(BinaryStatScores):
    """``tp / (tp + fp)``."""

    higher_is_better = True
    _reduce = staticmethod(F.precision_reduce)


class MulticlassPrecision(MulticlassStatScores):
    """Per-class ``tp / (tp + fp)`` averaged by ``average`` (default "macro")."""

    higher_is_better = True
    _reduce = staticmethod(F.precision_reduce)


class MultilabelPrecision(MultilabelStatScores):
    """Per-label ``tp / (tp + fp)`` averaged by ``average`` (default "macro")."""

    higher_is_better = True
    _reduce = staticmethod(F.precision_reduce)


class Precision(_StatScoresTaskWrapper):
    """Precision for ``task``."""

    _classes = (BinaryPrecision, MulticlassPrecision, MultilabelPrecision)


class BinaryRecall(BinaryStatScores):
    """``tp / (tp + fn)``."""

    higher_is_better = True
    _reduce = staticmethod(F.recall_reduce)


class MulticlassRecall(MulticlassStatScores):
    """Per-class ``tp / (tp + fn)`` averaged by ``average`` (default "macro")."""

    higher_is_better = True
    _reduce = staticmethod(F.recall_reduce)


class MultilabelRecall(MultilabelStatScores):
    """Per-label ``tp / (tp + fn)`` averaged by ``average`` (default "macro")."""

    higher_is_better = True
    _reduce = staticmethod(F.recall_reduce)


class Recall(_StatScoresTaskWrapper):
    """Recall for ``task``."""

    _classes = (BinaryRecall, MulticlassRecall, MultilabelRecall)


class BinarySpecificity(BinaryStatScores):
    """``tn / (tn + fp)``."""

    higher_is_better = True
    _reduce = staticmethod(F.specificity_reduce)


class MulticlassSpecificity(MulticlassStatScores):
    """Per-class ``tn / (tn + fp)`` averaged by ``average`` (default "macro")."""

    higher_is_better = True
    _reduce = staticmethod(F.specificity_reduce)


class MultilabelSpecificity(MultilabelStatScores):
    """Per-label ``tn / (tn + fp)`` averaged by ``average`` (default "macro")."""

    higher_is_better = True
    _reduce = staticmethod(F.specificity_reduce)


class Specificity(_StatScoresTaskWrapper):
    """Specificity for ``task``."""

    _classes = (BinarySpecificity, MulticlassSpecificity, MultilabelSpecificity)


# ---- F-beta / F1 ------------------------------------------------------------------------------------------------
class _FBetaMixin:
    def _set_beta(self, beta: float, validate_args: bool) -> None:
        if validate_args:
            F._check_beta(beta)
        self.beta = beta

    def _reduce_kwargs(self) -> dict:
        return dict(super()._reduce_kwargs(), beta=self.beta)


class BinaryFBetaScore(_FBetaMixin, BinaryStatScores):
    """``(1 + b²) tp / ((1 + b²) tp + b² fn + fp)``."""

    higher_is_better = True
    _reduce = staticmethod(F.fbeta_reduce)

    def __init__(self, beta: float, threshold: float = 0.5, multidim_average: str = "global",
                 ignore_index: int | None = None, validate_args: bool = True, zero_division: float = 0.0,
                 **kwargs: Any) -> None:
        super().__init__(threshold, multidim_average, ignore_index, validate_args, zero_division, **kwargs)
        self._set_beta(beta, validate_args)


class MulticlassFBetaScore(_FBetaMixin, MulticlassStatScores):
    """Per-class F-beta score averaged by ``average`` (default "macro")."""

    higher_is_better = True
    _reduce = staticmethod(F.fbeta_reduce)

    def __init__(self, beta: float, num_classes: int, top_k: int = 1, average: str | None = "macro",
                 multidim_average: str = "global", ignore_index: int | None = None, validate_args: bool = True,
                 zero_division: float = 0.0, **kwargs: Any) -> None:
        super().__init__(num_classes, top_k, average, multidim_average, ignore_index, validate_args, zero_division,
                         **kwargs)
        self._set_beta(beta, validate_args)


class MultilabelFBetaScore(_FBetaMixin, MultilabelStatScores):
    """Per-label F-beta score averaged by ``average`` (default "macro")."""

    higher_is_better = True
    _reduce = staticmethod(F.fbeta_reduce)

    def __init__(self, beta: float, num_labels: int, threshold: float = 0.5, average: str | None = "macro",
                 multidim_average: str = "global", ignore_index: int | None = None, validate_args: bool = True,
                 zero_division: float = 0.0, **kwargs: Any) -> None:
        super().__init__(num_labels, threshold, average, multidim_average, ignore_index, validate_args,
                         zero_division, **kwargs)
        self._set_beta(beta, validate_args)


class FBetaScore(_ClassificationTaskWrapper):
    """F-beta score for ``task``."""

    _classes = (BinaryFBetaScore, MulticlassFBetaScore, MultilabelFBetaScore)

    def __new__(cls, task: str, beta: float = 1.0, threshold: float = 0.5, num_classes: int | None = None,
                num_labels: int | None = None, average: str | None = "micro", multidim_average: str = "global",
                top_k: int = 1, ignore_index: int | None = None, validate_args: bool = True, **kwargs: Any):
        common = dict(multidim_average=multidim_average, ignore_index=ignore_index, validate_args=validate_args)
        task = I.check_task(task)
        if task == "binary":
            return BinaryFBetaScore(beta, threshold=threshold, **common, **kwargs)
        if task == "multiclass":
            if not isinstance(num_classes, int):
                raise ValueError(f"`num_classes` is expected to be `int` but `{type(num_classes)} was passed.`")
            return MulticlassFBetaScore(beta, num_classes, top_k=top_k, average=average, **common, **kwargs)
        if not isinstance(num_labels, int):
            raise ValueError(f"`num_labels` is expected to be `int` but `{type(num_labels)} was passed.`")
        return MultilabelFBetaScore(beta, num_labels, threshold=threshold, average=average, **common, **kwargs)


class BinaryF1Score(BinaryFBetaScore):
    """Harmonic mean of precision and recall."""

    def __init__(self, threshold: float = 0.5, multidim_average: str = "global", ignore_index: int | None = None,
                 validate_args: bool = True, zero_division: float = 0.0, **kwargs: Any) -> None:
        super().__init__(1.0, threshold, multidim_average, ignore_index, validate_args, zero_division, **kwargs)


class MulticlassF1Score(MulticlassFBetaScore):
    """Per-class F1 score averaged by ``average`` (default "macro")."""

    def __init__(self, num_classes: int, top_k: int = 1, average: str | None = "macro",
                 multidim_average: str = "global", ignore_index: int | None = None, validate_args: bool = True,
                 zero_division: float = 0.0, **kwargs: Any) -> None:
        super().__init__(1.0, num_classes, top_k, average, multidim_average, ignore_index, validate_args,
                         zero_division, **kwargs)


class MultilabelF1Score(MultilabelFBetaScore):
    """Per-label F1 score averaged by ``average`` (default "macro")."""

    def __init__(self, num_labels: int, threshold: float = 0.5, average: str | None = "macro",
                 multidim_average: str = "global", ignore_index: int | None = None, validate_args: bool = True,
                 zero_division: float = 0.0, **kwargs: Any) -> None:
        super().__init__(1.0, num_labels, threshold, average, multidim_average, ignore_index, validate_args,
                         zero_division, **kwargs)


class F1Score(_StatScoresTaskWrapper):
    """F1 score for ``task``."""

    _classes = (BinaryF1Score, MulticlassF1Score, MultilabelF1Score)
