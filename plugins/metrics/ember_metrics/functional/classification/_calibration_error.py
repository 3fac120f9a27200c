"""Calibration error: how far predicted confidences are from observed accuracies.

Confidences are split into ``n_bins`` equal-width bins over [0, 1] (the right edge of each bin
belongs to the next one, so a confidence of exactly 1 has a bin of its own). With ``acc_b`` and
``conf_b`` the mean accuracy and confidence in bin ``b`` and ``p_b`` its share of the samples:
``"l1"`` (expected calibration error) ``sum_b p_b |acc_b - conf_b|``; ``"l2"`` (RMS calibration
error) ``sqrt(sum_b p_b (acc_b - conf_b)^2)``; ``"max"`` (maximum calibration error)
``max_b |acc_b - conf_b|`` (empty bins count as 0). Without samples the error is 0.
"""
from __future__ import annotations

from ember import Tensor

from ...utilities._array import wrap
from . import _inputs as I
from ._curves import _float_preds

__all__ = ["binary_calibration_error", "multiclass_calibration_error", "calibration_error"]

NORMS = ("l1", "l2", "max")


def check_calibration_args(n_bins, norm, ignore_index) -> None:
    if not isinstance(n_bins, int) or n_bins < 1:
        raise ValueError(f"Expected argument `n_bins` to be an integer larger than 0, but got {n_bins}")
    if norm not in NORMS:
        raise ValueError(f"Expected argument `norm` to be one of {NORMS}, but got {norm}.")
    I.check_ignore_index(ignore_index)


def binary_confidences(preds, target, ignore_index):
    """(confidence, correct) of binary scores: the probability of the positive class, and the target."""
    xp, p, t = I.binary_scores(preds, target, ignore_index)
    return xp, p, t.astype(p.dtype)


def multiclass_confidences(preds, target, num_classes, ignore_index):
    """(confidence, correct): the top class probability, and whether the top class is the target."""
    xp, p, t = I.multiclass_scores(preds, target, num_classes, ignore_index)
    return xp, p.max(axis=1), (p.argmax(axis=1) == t).astype(p.dtype)


def calibration_error_compute(xp, confidences, accuracies, n_bins: int, norm: str):
    """The calibration error of ``confidences`` against 0/1 ``accuracies`` (device arrays)."""
    edges = xp.linspace(0, 1, n_bins + 1, dtype=confidences.dtype)
    bins = xp.searchsorted(edges, confidences, side="right") - 1          # 0 .. n_bins
    count = xp.bincount(bins, minlength=n_bins + 1).astype(confidences.dtype)
    seen = count > 0
    safe = xp.where(seen, count, 1)
    conf_bin = xp.where(seen, xp.bincount(bins, weights=confidences, minlength=n_bins + 1) / safe, 0)
    acc_bin = xp.where(seen, xp.bincount(bins, weights=accuracies, minlength=n_bins + 1) / safe, 0)
    gap = xp.abs(acc_bin - conf_bin)
    if norm == "max":
        return gap.max().astype(xp.float32)
    prop = count / max(float(count.sum()), 1.0)
    if norm == "l1":
        return (gap * prop).sum().astype(xp.float32)
    return xp.sqrt((gap ** 2 * prop).sum()).astype(xp.float32)


def binary_calibration_error(preds, target, n_bins=15, norm="l1", ignore_index=None, validate_args=True) -> Tensor:
    """Calibration error of binary probabilities (logits get a sigmoid).

    >>> binary_calibration_error(ember.tensor([0.25, 0.25, 0.55, 0.75, 0.75]), ember.tensor([0, 0, 1, 1, 1]))
    tensor(0.2900)
    """
    preds, target = I.as_tensor(preds), I.as_tensor(target)
    if validate_args:
        check_calibration_args(n_bins, norm, ignore_index)
        I.validate_binary(preds, target, "global", ignore_index)
        _float_preds(preds)
    xp, conf, acc = binary_confidences(preds, target, ignore_index)
    return wrap(calibration_error_compute(xp, conf, acc, n_bins, norm), target.device)


def multiclass_calibration_error(preds, target, num_classes, n_bins=15, norm="l1", ignore_index=None,
                                 validate_args=True) -> Tensor:
    """Calibration error of the top-class probability (logits get a softmax)."""
    preds, target = I.as_tensor(preds), I.as_tensor(target)
    if validate_args:
        I.check_num(num_classes, "num_classes")
        check_calibration_args(n_bins, norm, ignore_index)
        I.validate_multiclass(preds, target, num_classes, "global", ignore_index, scores_only=True)
    xp, conf, acc = multiclass_confidences(preds, target, num_classes, ignore_index)
    return wrap(calibration_error_compute(xp, conf, acc, n_bins, norm), target.device)


def calibration_error(preds, target, task, n_bins=15, norm="l1", num_classes=None, ignore_index=None,
                      validate_args=True) -> Tensor:
    """Calibration error for ``task`` in "binary", "multiclass"."""
    task = I.check_task(task)
    if task == "binary":
        return binary_calibration_error(preds, target, n_bins, norm, ignore_index, validate_args)
    if task == "multiclass":
        if not isinstance(num_classes, int):
            raise ValueError(f"`num_classes` is expected to be `int` but `{type(num_classes)} was passed.`")
        return multiclass_calibration_error(preds, target, num_classes, n_bins, norm, ignore_index, validate_args)
    raise ValueError(f"Expected argument `task` to either be `'binary'` or `'multiclass'` but got {task}")
