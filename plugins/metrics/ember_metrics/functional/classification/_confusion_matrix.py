"""Confusion matrices and the agreement scores computed from them: Cohen's kappa and Matthews'
correlation coefficient.

Layouts: binary ``(2, 2)`` = ``[[tn, fp], [fn, tp]]``; multiclass ``(C, C)`` with rows = target
class and columns = predicted class; multilabel ``(L, 2, 2)`` (one binary matrix per label).
"""
from __future__ import annotations

from ember import Tensor

from ...utilities._array import wrap
from . import _inputs as I
from ._stat_scores import safe_divide

__all__ = ["binary_confusion_matrix", "multiclass_confusion_matrix", "multilabel_confusion_matrix",
           "confusion_matrix", "binary_cohen_kappa", "multiclass_cohen_kappa", "cohen_kappa",
           "binary_matthews_corrcoef", "multiclass_matthews_corrcoef", "multilabel_matthews_corrcoef",
           "matthews_corrcoef"]

NORMALIZE = ("true", "pred", "all", "none", None)
KAPPA_WEIGHTS = ("linear", "quadratic", "none", None)


def _bincount_kept(xp, index, valid, length: int):
    index = index.reshape(-1)
    if valid is not None:
        index = index[valid.reshape(-1)]
    return xp.bincount(index, minlength=length)


def binary_confmat(preds, target, threshold, ignore_index):
    """-> xp, the (2, 2) int64 counts of one batch."""
    xp, p, t, valid = I.binary_labels(preds, target, threshold, ignore_index)
    return xp, _bincount_kept(xp, t.astype(xp.int64) * 2 + p, valid, 4).reshape(2, 2)


def multiclass_confmat(preds, target, num_classes, ignore_index):
    """-> xp, the (C, C) int64 counts of one batch."""
    xp, p, t, valid = I.multiclass_labels(preds, target, num_classes, 1, ignore_index, one_hot=False)
    if valid is not None:  # ignore_index may be a valid class index or anything else
        t = xp.where(valid, t, 0)
    counts = _bincount_kept(xp, t * num_classes + p, valid, num_classes ** 2)
    return xp, counts.reshape(num_classes, num_classes)


def multilabel_confmat(preds, target, num_labels, threshold, ignore_index):
    """-> xp, the (L, 2, 2) int64 counts of one batch."""
    xp, p, t, valid = I.multilabel_labels(preds, target, num_labels, threshold, ignore_index)
    label = xp.arange(num_labels).reshape(1, num_labels, 1)
    return xp, _bincount_kept(xp, label * 4 + t.astype(xp.int64) * 2 + p, valid, 4 * num_labels).reshape(
        num_labels, 2, 2)


def confmat_reduce(xp, confmat, normalize):
    """Normalise over rows ("true"), columns ("pred") or everything ("all"); empty rows give 0."""
    if normalize is None or normalize == "none":
        return confmat
    axis = {"true": (-1,), "pred": (-2,), "all": (-2, -1)}[normalize]
    return safe_divide(xp, confmat, xp.broadcast_to(confmat.sum(axis=axis, keepdims=True), confmat.shape))


def cohen_kappa_reduce(xp, confmat, weights):
    """``1 - sum(w * observed) / sum(w * expected)``; ``nan`` when no disagreement is possible
    (a single class in both ``preds`` and ``target``), as scikit-learn."""
    c = confmat.astype(xp.float64)
    n = c.shape[0]
    expected = c.sum(axis=1, keepdims=True) @ c.sum(axis=0, keepdims=True) / max(c.sum(), 1)
    i = xp.arange(n)
    diff = i[:, None] - i[None, :]
    if weights == "linear":
        w = xp.abs(diff).astype(xp.float64)
    elif weights == "quadratic":
        w = (diff ** 2).astype(xp.float64)
    else:
        w = (diff != 0).astype(xp.float64)
    den = (w * expected).sum()
    if float(den) == 0:
        return xp.asarray(float("nan"), dtype=xp.float32)
    return (1 - (w * c).sum() / den).astype(xp.float32)


def matthews_corrcoef_reduce(xp, confmat):
    """MCC of a (C, C) matrix, or of the label-summed (L, 2, 2) multilabel matrices.

    Perfect agreement gives 1 and perfect disagreement (binary) gives -1; when the coefficient is
    undefined (a row or column of the matrix is all zero, e.g. constant predictions) it is 0, as
    scikit-learn.
    """
    if confmat.ndim == 3:
        confmat = confmat.sum(axis=0)
    c = confmat.astype(xp.float64)
    if c.shape == (2, 2):
        tn, fp, fn, tp = c.reshape(-1).tolist()
        if tp + tn != 0 and fp + fn == 0:
            return xp.asarray(1.0, dtype=xp.float32)
        if tp + tn == 0 and fp + fn != 0:
            return xp.asarray(-1.0, dtype=xp.float32)
    tk, pk = c.sum(axis=1), c.sum(axis=0)
    correct, s = xp.trace(c), c.sum()
    cov_tp = correct * s - (tk * pk).sum()
    cov_pp = s * s - (pk * pk).sum()
    cov_tt = s * s - (tk * tk).sum()
    den = cov_pp * cov_tt
    if float(den) == 0:
        return xp.asarray(0.0, dtype=xp.float32)
    return (cov_tp / xp.sqrt(den)).astype(xp.float32)


# ---- validation shared by the entry points -------------------------------------------------------------
def _validate_binary(preds, target, threshold, ignore_index):
    I.check_threshold(threshold)
    I.check_ignore_index(ignore_index)
    I.validate_binary(I.as_tensor(preds), I.as_tensor(target), "global", ignore_index)


def _validate_multiclass(preds, target, num_classes, ignore_index):
    I.check_num(num_classes, "num_classes")
    I.check_ignore_index(ignore_index)
    I.validate_multiclass(I.as_tensor(preds), I.as_tensor(target), num_classes, "global", ignore_index)


def _validate_multilabel(preds, target, num_labels, threshold, ignore_index):
    I.check_num(num_labels, "num_labels")
    I.check_threshold(threshold)
    I.check_ignore_index(ignore_index)
    I.validate_multilabel(I.as_tensor(preds), I.as_tensor(target), num_labels, "global", ignore_index)


def check_normalize(normalize) -> None:
    if normalize not in NORMALIZE:
        raise ValueError(f"Expected argument `normalize` to be one of {NORMALIZE}, but got {normalize}")


def check_kappa_weights(weights) -> None:
    if weights not in KAPPA_WEIGHTS:
        raise ValueError(f"Received {weights} for argument ``weights`` but should be either None, 'linear' or "
                         "'quadratic'")


def _device(target):
    return I.as_tensor(target).device


def _need_int(value, name):
    if not isinstance(value, int):
        raise ValueError(f"`{name}` is expected to be `int` but `{type(value)} was passed.`")


# ---- confusion matrix ---------------------------------------------------------------------------------
def binary_confusion_matrix(preds, target, threshold=0.5, normalize=None, ignore_index=None,
                            validate_args=True) -> Tensor:
    """``[[tn, fp], [fn, tp]]`` (int64, or float32 when normalised)."""
    if validate_args:
        check_normalize(normalize)
        _validate_binary(preds, target, threshold, ignore_index)
    xp, cm = binary_confmat(preds, target, threshold, ignore_index)
    return wrap(confmat_reduce(xp, cm, normalize), _device(target))


def multiclass_confusion_matrix(preds, target, num_classes, normalize=None, ignore_index=None,
                                validate_args=True) -> Tensor:
    """(C, C) counts: entry ``[i, j]`` = samples of class ``i`` predicted as ``j``."""
    if validate_args:
        check_normalize(normalize)
        _validate_multiclass(preds, target, num_classes, ignore_index)
    xp, cm = multiclass_confmat(preds, target, num_classes, ignore_index)
    return wrap(confmat_reduce(xp, cm, normalize), _device(target))


def multilabel_confusion_matrix(preds, target, num_labels, threshold=0.5, normalize=None, ignore_index=None,
                                validate_args=True) -> Tensor:
    """(L, 2, 2): one binary confusion matrix per label."""
    if validate_args:
        check_normalize(normalize)
        _validate_multilabel(preds, target, num_labels, threshold, ignore_index)
    xp, cm = multilabel_confmat(preds, target, num_labels, threshold, ignore_index)
    return wrap(confmat_reduce(xp, cm, normalize), _device(target))


def confusion_matrix(preds, target, task, threshold=0.5, num_classes=None, num_labels=None, normalize=None,
                     ignore_index=None, validate_args=True) -> Tensor:
    """Confusion matrix for ``task``."""
    task = I.check_task(task)
    if task == "binary":
        return binary_confusion_matrix(preds, target, threshold, normalize, ignore_index, validate_args)
    if task == "multiclass":
        _need_int(num_classes, "num_classes")
        return multiclass_confusion_matrix(preds, target, num_classes, normalize, ignore_index, validate_args)
    _need_int(num_labels, "num_labels")
    return multilabel_confusion_matrix(preds, target, num_labels, threshold, normalize, ignore_index, validate_args)


# ---- Cohen's kappa ---------------------------------------------------------------------------------------
def binary_cohen_kappa(preds, target, threshold=0.5, ignore_index=None, weights=None, validate_args=True) -> Tensor:
    """Agreement between predicted and target labels corrected for chance (float32)."""
    if validate_args:
        check_kappa_weights(weights)
        _validate_binary(preds, target, threshold, ignore_index)
    xp, cm = binary_confmat(preds, target, threshold, ignore_index)
    return wrap(cohen_kappa_reduce(xp, cm, weights), _device(target))


def multiclass_cohen_kappa(preds, target, num_classes, ignore_index=None, weights=None,
                           validate_args=True) -> Tensor:
    """Cohen's kappa over ``num_classes`` classes; ``weights`` "linear"/"quadratic" for ordinal labels."""
    if validate_args:
        check_kappa_weights(weights)
        _validate_multiclass(preds, target, num_classes, ignore_index)
    xp, cm = multiclass_confmat(preds, target, num_classes, ignore_index)
    return wrap(cohen_kappa_reduce(xp, cm, weights), _device(target))


def cohen_kappa(preds, target, task, threshold=0.5, num_classes=None, weights=None, ignore_index=None,
                validate_args=True) -> Tensor:
    """Cohen's kappa for ``task`` in "binary", "multiclass"."""
    task = I.check_task(task)
    if task == "binary":
        return binary_cohen_kappa(preds, target, threshold, ignore_index, weights, validate_args)
    if task == "multiclass":
        _need_int(num_classes, "num_classes")
        return multiclass_cohen_kappa(preds, target, num_classes, ignore_index, weights, validate_args)
    raise ValueError(f"Not handled value: {task}")


# ---- Matthews correlation coefficient ---------------------------------------------------------------------
def binary_matthews_corrcoef(preds, target, threshold=0.5, ignore_index=None, validate_args=True) -> Tensor:
    """Matthews correlation coefficient of binary labels, in [-1, 1] (float32)."""
    if validate_args:
        _validate_binary(preds, target, threshold, ignore_index)
    xp, cm = binary_confmat(preds, target, threshold, ignore_index)
    return wrap(matthews_corrcoef_reduce(xp, cm), _device(target))


def multiclass_matthews_corrcoef(preds, target, num_classes, ignore_index=None, validate_args=True) -> Tensor:
    """Matthews correlation coefficient over ``num_classes`` classes, in [-1, 1]."""
    if validate_args:
        _validate_multiclass(preds, target, num_classes, ignore_index)
    xp, cm = multiclass_confmat(preds, target, num_classes, ignore_index)
    return wrap(matthews_corrcoef_reduce(xp, cm), _device(target))


def multilabel_matthews_corrcoef(preds, target, num_labels, threshold=0.5, ignore_index=None,
                                 validate_args=True) -> Tensor:
    """MCC of all label decisions pooled together."""
    if validate_args:
        _validate_multilabel(preds, target, num_labels, threshold, ignore_index)
    xp, cm = multilabel_confmat(preds, target, num_labels, threshold, ignore_index)
    return wrap(matthews_corrcoef_reduce(xp, cm), _device(target))


def matthews_corrcoef(preds, target, task, threshold=0.5, num_classes=None, num_labels=None, ignore_index=None,
                      validate_args=True) -> Tensor:
    """Matthews correlation coefficient for ``task``."""
    task = I.check_task(task)
    if task == "binary":
        return binary_matthews_corrcoef(preds, target, threshold, ignore_index, validate_args)
    if task == "multiclass":
        _need_int(num_classes, "num_classes")
        return multiclass_matthews_corrcoef(preds, target, num_classes, ignore_index, validate_args)
    _need_int(num_labels, "num_labels")
    return multilabel_matthews_corrcoef(preds, target, num_labels, threshold, ignore_index, validate_args)
