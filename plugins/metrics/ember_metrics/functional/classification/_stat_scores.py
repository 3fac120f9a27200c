"""True/false positives/negatives and the metrics reduced from them: accuracy, precision, recall,
F-beta/F1 and specificity (binary, multiclass and multilabel).

Averages: ``"micro"`` sums the counts over classes before dividing; ``"macro"`` is the plain mean of
per-class scores; ``"weighted"`` weights them by support (``tp + fn``); ``"none"``/``None`` returns
per-class scores. For multiclass ``"macro"``, classes that never occur in ``target`` and are never
predicted (``tp + fp + fn == 0``) are left out of the mean (as scikit-learn does with the labels
present). A ratio whose denominator is 0 is ``zero_division`` (default 0), e.g. the precision of a
class never predicted. ``multidim_average="samplewise"`` computes one value per sample over the
extra dimensions (result ``(N,)`` or ``(N, C)``).
"""
from __future__ import annotations

from ember import Tensor

from ...utilities._array import float_np, wrap
from . import _inputs as I

_NAMES = ("stat_scores", "accuracy", "precision", "recall", "fbeta_score", "f1_score", "specificity")
__all__ = [f"{task}{name}" for name in _NAMES for task in ("binary_", "multiclass_", "multilabel_", "")]


# ---- counting ---------------------------------------------------------------------------------------
def _count(xp, p, t, valid, axis):
    """tp, fp, tn, fn (int64) of boolean predictions ``p`` and targets ``t`` summed over ``axis``."""
    if valid is not None:
        p, t = p & valid, t & valid
        total = valid.sum(axis=axis, dtype=xp.int64)
    else:
        total = xp.ones(p.shape, dtype=bool).sum(axis=axis, dtype=xp.int64)
    tp = (p & t).sum(axis=axis, dtype=xp.int64)
    fp = p.sum(axis=axis, dtype=xp.int64) - tp
    fn = t.sum(axis=axis, dtype=xp.int64) - tp
    return tp, fp, total - tp - fp - fn, fn


def binary_stats(preds, target, threshold, multidim_average, ignore_index):
    """-> xp, (tp, fp, tn, fn): scalars globally, (N,) samplewise."""
    xp, p, t, valid = I.binary_labels(preds, target, threshold, ignore_index)
    return xp, _count(xp, p, t, valid, None if multidim_average == "global" else 1)


def multiclass_stats(preds, target, num_classes, top_k, multidim_average, ignore_index):
    """Per-class counts: (C,) globally, (N, C) samplewise."""
    one_hot = multidim_average == "samplewise" or top_k > 1
    xp, p, t, valid = I.multiclass_labels(preds, target, num_classes, top_k, ignore_index, one_hot)
    if one_hot:
        classes = xp.arange(num_classes).reshape(1, num_classes, 1)
        v = None if valid is None else valid[:, None, :]
        return xp, _count(xp, p, t[:, None, :] == classes, v, (0, 2) if multidim_average == "global" else 2)
    # global, top-1: a confusion matrix by bincount is all we need
    p, t = p.reshape(-1), t.reshape(-1)
    if valid is not None:
        keep = valid.reshape(-1)
        p, t = p[keep], t[keep]
    confmat = xp.bincount(t * num_classes + p, minlength=num_classes ** 2).reshape(num_classes, num_classes)
    tp = xp.diagonal(confmat).copy()
    fp = confmat.sum(axis=0) - tp
    fn = confmat.sum(axis=1) - tp
    return xp, (tp, fp, confmat.sum() - tp - fp - fn, fn)


def multilabel_stats(preds, target, num_labels, threshold, multidim_average, ignore_index):
    """Per-label counts: (L,) globally, (N, L) samplewise."""
    xp, p, t, valid = I.multilabel_labels(preds, target, num_labels, threshold, ignore_index)
    return xp, _count(xp, p, t, valid, (0, 2) if multidim_average == "global" else 2)


# ---- reductions ---------------------------------------------------------------------------------------
def safe_divide(xp, num, den, zero_division: float = 0.0):
    """``num / den`` as floats (float32 for integer counts), ``zero_division`` where ``den == 0``."""
    dtype = float_np(num)
    num, den = num.astype(dtype), den.astype(dtype)
    nonzero = den != 0
    return xp.where(nonzero, num / xp.where(nonzero, den, 1), zero_division).astype(dtype)


def _average(xp, score, average, multilabel, tp, fp, fn, top_k=1):
    """Combine per-class scores (last axis) by ``average``."""
    if average is None or average == "none":
        return score
    if average == "weighted":
        weights = (tp + fn).astype(score.dtype)
    else:
        weights = xp.ones_like(score)
        if not multilabel:  # classes absent from target and predictions take no part
            absent = (tp + fp + fn == 0) if top_k == 1 else (tp + fn == 0)
            weights = xp.where(absent, 0, weights).astype(score.dtype)
    return safe_divide(xp, (weights * score).sum(-1), weights.sum(-1))


def _micro(tp, fp, tn, fn):
    return tp.sum(-1), fp.sum(-1), tn.sum(-1), fn.sum(-1)


def accuracy_reduce(xp, tp, fp, tn, fn, average, multilabel=False, top_k=1, **_):
    """(tp + tn) / all for binary/multilabel scores, tp / (tp + fn) per class for multiclass."""
    if average == "binary":
        return safe_divide(xp, tp + tn, tp + tn + fp + fn)
    if average == "micro":
        tp, fp, tn, fn = _micro(tp, fp, tn, fn)
        if multilabel:
            return safe_divide(xp, tp + tn, tp + tn + fp + fn)
        return safe_divide(xp, tp, tp + fn)
    score = safe_divide(xp, tp + tn, tp + tn + fp + fn) if multilabel else safe_divide(xp, tp, tp + fn)
    return _average(xp, score, average, multilabel, tp, fp, fn, top_k)


def fbeta_reduce(xp, tp, fp, tn, fn, average, multilabel=False, top_k=1, beta=1.0, zero_division=0.0, **_):
    """F-beta score from the counts, averaged by ``average``."""
    b2 = beta ** 2

    def score(tp, fp, fn):  # counts as float32 first: int64 * python float would give float64
        tp, fp, fn = (x.astype(xp.float32) for x in (tp, fp, fn))
        return safe_divide(xp, (1 + b2) * tp, (1 + b2) * tp + b2 * fn + fp, zero_division)
    if average == "binary":
        return score(tp, fp, fn)
    if average == "micro":
        tp, fp, tn, fn = _micro(tp, fp, tn, fn)
        return score(tp, fp, fn)
    return _average(xp, score(tp, fp, fn), average, multilabel, tp, fp, fn, top_k)


def _ratio_reduce(num_of, other_of):
    """Reducer for ``num / (num + other)`` metrics (precision, recall, specificity)."""
    def reduce(xp, tp, fp, tn, fn, average, multilabel=False, top_k=1, zero_division=0.0, **_):
        stats = dict(tp=tp, fp=fp, tn=tn, fn=fn)
        if average == "micro":
            stats = dict(zip(("tp", "fp", "tn", "fn"), _micro(tp, fp, tn, fn)))
        num, other = stats[num_of], stats[other_of]
        score = safe_divide(xp, num, num + other, zero_division)
        if average in ("binary", "micro"):
            return score
        return _average(xp, score, average, multilabel, tp, fp, fn, top_k)
    return reduce


precision_reduce = _ratio_reduce("tp", "fp")
recall_reduce = _ratio_reduce("tp", "fn")
specificity_reduce = _ratio_reduce("tn", "fp")


def stat_scores_reduce(xp, tp, fp, tn, fn, average, **_):
    """[tp, fp, tn, fn, support] stacked on the last axis; over classes "micro" sums, "macro" takes the
    mean and "weighted" the support-weighted mean (floats)."""
    res = xp.stack([tp, fp, tn, fn, tp + fn], axis=-1)
    if average == "micro":
        return res.sum(axis=-2)
    if average == "macro":
        return res.astype(xp.float32).mean(axis=-2)
    if average == "weighted":
        w = safe_divide(xp, tp + fn, (tp + fn).sum(axis=-1, keepdims=True))
        return (res * w[..., None]).sum(axis=-2)
    return res


# ---- functional entry points --------------------------------------------------------------------------
def _device(target):
    return I.as_tensor(target).device


def _binary(reduce, preds, target, threshold, multidim_average, ignore_index, validate_args, **kw) -> Tensor:
    if validate_args:
        I.check_threshold(threshold)
        I.check_multidim_average(multidim_average)
        I.check_ignore_index(ignore_index)
        I.validate_binary(I.as_tensor(preds), I.as_tensor(target), multidim_average, ignore_index)
    xp, stats = binary_stats(preds, target, threshold, multidim_average, ignore_index)
    return wrap(reduce(xp, *stats, average="binary", **kw), _device(target))


def _multiclass(reduce, preds, target, num_classes, average, top_k, multidim_average, ignore_index, validate_args,
                **kw) -> Tensor:
    if validate_args:
        I.check_num(num_classes, "num_classes")
        I.check_average(average)
        I.check_top_k(top_k, num_classes)
        I.check_multidim_average(multidim_average)
        I.check_ignore_index(ignore_index)
        preds, target = I.as_tensor(preds), I.as_tensor(target)
        I.validate_multiclass(preds, target, num_classes, multidim_average, ignore_index)
        if top_k > 1 and preds.ndim != target.ndim + 1:
            raise ValueError("`top_k` > 1 needs `preds` of shape (N, C, ...) with a score for every class")
    xp, stats = multiclass_stats(preds, target, num_classes, top_k, multidim_average, ignore_index)
    return wrap(reduce(xp, *stats, average=average, top_k=top_k, **kw), _device(target))


def _multilabel(reduce, preds, target, num_labels, threshold, average, multidim_average, ignore_index,
                validate_args, **kw) -> Tensor:
    if validate_args:
        I.check_multilabel_args(num_labels, threshold, average, multidim_average, ignore_index)
        I.validate_multilabel(I.as_tensor(preds), I.as_tensor(target), num_labels, multidim_average, ignore_index)
    xp, stats = multilabel_stats(preds, target, num_labels, threshold, multidim_average, ignore_index)
    return wrap(reduce(xp, *stats, average=average, multilabel=True, **kw), _device(target))


def _dispatch(task, binary_fn, multiclass_fn, multilabel_fn, preds, target, threshold, num_classes, num_labels,
              average, multidim_average, top_k, ignore_index, validate_args, **kw) -> Tensor:
    task = I.check_task(task)
    if task == "binary":
        return binary_fn(preds, target, threshold=threshold, multidim_average=multidim_average,
                         ignore_index=ignore_index, validate_args=validate_args, **kw)
    if task == "multiclass":
        if not isinstance(num_classes, int):
            raise ValueError(f"`num_classes` is expected to be `int` but `{type(num_classes)} was passed.`")
        return multiclass_fn(preds, target, num_classes=num_classes, average=average, top_k=top_k,
                             multidim_average=multidim_average, ignore_index=ignore_index,
                             validate_args=validate_args, **kw)
    if not isinstance(num_labels, int):
        raise ValueError(f"`num_labels` is expected to be `int` but `{type(num_labels)} was passed.`")
    return multilabel_fn(preds, target, num_labels=num_labels, threshold=threshold, average=average,
                         multidim_average=multidim_average, ignore_index=ignore_index, validate_args=validate_args,
                         **kw)


# stat scores
def binary_stat_scores(preds, target, threshold=0.5, multidim_average="global", ignore_index=None,
                       validate_args=True) -> Tensor:
    """[tp, fp, tn, fn, support] for binary inputs (``(5,)``, or ``(N, 5)`` samplewise), int64."""
    return _binary(stat_scores_reduce, preds, target, threshold, multidim_average, ignore_index, validate_args)


def multiclass_stat_scores(preds, target, num_classes, average="macro", top_k=1, multidim_average="global",
                           ignore_index=None, validate_args=True) -> Tensor:
    """[tp, fp, tn, fn, support] per class (``(C, 5)`` for ``average="none"``), summed over classes
    ("micro") or averaged over them ("macro", "weighted")."""
    return _multiclass(stat_scores_reduce, preds, target, num_classes, average, top_k, multidim_average, ignore_index,
                       validate_args)


def multilabel_stat_scores(preds, target, num_labels, threshold=0.5, average="macro", multidim_average="global",
                           ignore_index=None, validate_args=True) -> Tensor:
    """[tp, fp, tn, fn, support] per label (``(L, 5)`` for ``average="none"``), or reduced over labels."""
    return _multilabel(stat_scores_reduce, preds, target, num_labels, threshold, average, multidim_average,
                       ignore_index, validate_args)


def stat_scores(preds, target, task, threshold=0.5, num_classes=None, num_labels=None, average="micro",
                multidim_average="global", top_k=1, ignore_index=None, validate_args=True) -> Tensor:
    """Task-dispatching :func:`binary_stat_scores` / :func:`multiclass_stat_scores` / :func:`multilabel_stat_scores`."""
    return _dispatch(task, binary_stat_scores, multiclass_stat_scores, multilabel_stat_scores, preds, target,
                     threshold, num_classes, num_labels, average, multidim_average, top_k, ignore_index, validate_args)


# accuracy
def binary_accuracy(preds, target, threshold=0.5, multidim_average="global", ignore_index=None,
                    validate_args=True) -> Tensor:
    """Fraction of correct binary predictions.

    >>> binary_accuracy(ember.tensor([0.1, 0.9, 0.6]), ember.tensor([0, 1, 0]))
    tensor(0.6667)
    """
    return _binary(accuracy_reduce, preds, target, threshold, multidim_average, ignore_index, validate_args)


def multiclass_accuracy(preds, target, num_classes, average="macro", top_k=1, multidim_average="global",
                        ignore_index=None, validate_args=True) -> Tensor:
    """Per-class recall averaged by ``average`` ("micro" = fraction of correct predictions)."""
    return _multiclass(accuracy_reduce, preds, target, num_classes, average, top_k, multidim_average, ignore_index,
                       validate_args)


def multilabel_accuracy(preds, target, num_labels, threshold=0.5, average="macro", multidim_average="global",
                        ignore_index=None, validate_args=True) -> Tensor:
    """Per-label fraction of correct predictions, averaged by ``average`` ("micro" = 1 - Hamming loss)."""
    return _multilabel(accuracy_reduce, preds, target, num_labels, threshold, average, multidim_average,
                       ignore_index, validate_args)


def accuracy(preds, target, task, threshold=0.5, num_classes=None, num_labels=None, average="micro",
             multidim_average="global", top_k=1, ignore_index=None, validate_args=True) -> Tensor:
    """Accuracy for ``task`` in "binary", "multiclass", "multilabel".

    >>> accuracy(ember.tensor([2, 1, 0, 0]), ember.tensor([2, 1, 0, 1]), task="multiclass", num_classes=3,
    ...          average="micro")
    tensor(0.7500)
    """
    return _dispatch(task, binary_accuracy, multiclass_accuracy, multilabel_accuracy, preds, target, threshold,
                     num_classes, num_labels, average, multidim_average, top_k, ignore_index, validate_args)


# precision / recall / specificity
def binary_precision(preds, target, threshold=0.5, multidim_average="global", ignore_index=None, validate_args=True,
                     zero_division=0.0) -> Tensor:
    """``tp / (tp + fp)``."""
    return _binary(precision_reduce, preds, target, threshold, multidim_average, ignore_index, validate_args,
                   zero_division=zero_division)


def multiclass_precision(preds, target, num_classes, average="macro", top_k=1, multidim_average="global",
                         ignore_index=None, validate_args=True, zero_division=0.0) -> Tensor:
    """Per-class ``tp / (tp + fp)`` averaged by ``average``."""
    return _multiclass(precision_reduce, preds, target, num_classes, average, top_k, multidim_average, ignore_index,
                       validate_args, zero_division=zero_division)


def multilabel_precision(preds, target, num_labels, threshold=0.5, average="macro", multidim_average="global",
                         ignore_index=None, validate_args=True, zero_division=0.0) -> Tensor:
    """Per-label ``tp / (tp + fp)`` averaged by ``average``."""
    return _multilabel(precision_reduce, preds, target, num_labels, threshold, average, multidim_average,
                       ignore_index, validate_args, zero_division=zero_division)


def precision(preds, target, task, threshold=0.5, num_classes=None, num_labels=None, average="micro",
              multidim_average="global", top_k=1, ignore_index=None, validate_args=True, zero_division=0.0) -> Tensor:
    """Precision ``tp / (tp + fp)`` for ``task``."""
    return _dispatch(task, binary_precision, multiclass_precision, multilabel_precision, preds, target, threshold,
                     num_classes, num_labels, average, multidim_average, top_k, ignore_index, validate_args,
                     zero_division=zero_division)


def binary_recall(preds, target, threshold=0.5, multidim_average="global", ignore_index=None, validate_args=True,
                  zero_division=0.0) -> Tensor:
    """``tp / (tp + fn)``."""
    return _binary(recall_reduce, preds, target, threshold, multidim_average, ignore_index, validate_args,
                   zero_division=zero_division)


def multiclass_recall(preds, target, num_classes, average="macro", top_k=1, multidim_average="global",
                      ignore_index=None, validate_args=True, zero_division=0.0) -> Tensor:
    """Per-class ``tp / (tp + fn)`` averaged by ``average``."""
    return _multiclass(recall_reduce, preds, target, num_classes, average, top_k, multidim_average, ignore_index,
                       validate_args, zero_division=zero_division)


def multilabel_recall(preds, target, num_labels, threshold=0.5, average="macro", multidim_average="global",
                      ignore_index=None, validate_args=True, zero_division=0.0) -> Tensor:
    """Per-label ``tp / (tp + fn)`` averaged by ``average``."""
    return _multilabel(recall_reduce, preds, target, num_labels, threshold, average, multidim_average,
                       ignore_index, validate_args, zero_division=zero_division)


def recall(preds, target, task, threshold=0.5, num_classes=None, num_labels=None, average="micro",
           multidim_average="global", top_k=1, ignore_index=None, validate_args=True, zero_division=0.0) -> Tensor:
    """Recall ``tp / (tp + fn)`` for ``task``."""
    return _dispatch(task, binary_recall, multiclass_recall, multilabel_recall, preds, target, threshold,
                     num_classes, num_labels, average, multidim_average, top_k, ignore_index, validate_args,
                     zero_division=zero_division)


def binary_specificity(preds, target, threshold=0.5, multidim_average="global", ignore_index=None,
                       validate_args=True, zero_division=0.0) -> Tensor:
    """``tn / (tn + fp)``."""
    return _binary(specificity_reduce, preds, target, threshold, multidim_average, ignore_index, validate_args,
                   zero_division=zero_division)


def multiclass_specificity(preds, target, num_classes, average="macro", top_k=1, multidim_average="global",
                           ignore_index=None, validate_args=True, zero_division=0.0) -> Tensor:
    """Per-class ``tn / (tn + fp)`` averaged by ``average``."""
    return _multiclass(specificity_reduce, preds, target, num_classes, average, top_k, multidim_average,
                       ignore_index, validate_args, zero_division=zero_division)


def multilabel_specificity(preds, target, num_labels, threshold=0.5, average="macro", multidim_average="global",
                           ignore_index=None, validate_args=True, zero_division=0.0) -> Tensor:
    """Per-label ``tn / (tn + fp)`` averaged by ``average``."""
    return _multilabel(specificity_reduce, preds, target, num_labels, threshold, average, multidim_average,
                       ignore_index, validate_args, zero_division=zero_division)


def specificity(preds, target, task, threshold=0.5, num_classes=None, num_labels=None, average="micro",
                multidim_average="global", top_k=1, ignore_index=None, validate_args=True,
                zero_division=0.0) -> Tensor:
    """Specificity ``tn / (tn + fp)`` for ``task``."""
    return _dispatch(task, binary_specificity, multiclass_specificity, multilabel_specificity, preds, target,
                     threshold, num_classes, num_labels, average, multidim_average, top_k, ignore_index,
                     validate_args, zero_division=zero_division)


# F-beta / F1
def _check_beta(beta) -> None:
    if not (isinstance(beta, (int, float)) and beta > 0):
        raise ValueError(f"Expected argument `beta` to be a float larger than 0, but got {beta}.")


def binary_fbeta_score(preds, target, beta, threshold=0.5, multidim_average="global", ignore_index=None,
                       validate_args=True, zero_division=0.0) -> Tensor:
    """``(1 + b²) tp / ((1 + b²) tp + b² fn + fp)``."""
    if validate_args:
        _check_beta(beta)
    return _binary(fbeta_reduce, preds, target, threshold, multidim_average, ignore_index, validate_args,
                   beta=beta, zero_division=zero_division)


def multiclass_fbeta_score(preds, target, beta, num_classes, average="macro", top_k=1, multidim_average="global",
                           ignore_index=None, validate_args=True, zero_division=0.0) -> Tensor:
    """Per-class F-beta score averaged by ``average``."""
    if validate_args:
        _check_beta(beta)
    return _multiclass(fbeta_reduce, preds, target, num_classes, average, top_k, multidim_average, ignore_index,
                       validate_args, beta=beta, zero_division=zero_division)


def multilabel_fbeta_score(preds, target, beta, num_labels, threshold=0.5, average="macro",
                           multidim_average="global", ignore_index=None, validate_args=True,
                           zero_division=0.0) -> Tensor:
    """Per-label F-beta score averaged by ``average``."""
    if validate_args:
        _check_beta(beta)
    return _multilabel(fbeta_reduce, preds, target, num_labels, threshold, average, multidim_average, ignore_index,
                       validate_args, beta=beta, zero_division=zero_division)


def fbeta_score(preds, target, task, beta=1.0, threshold=0.5, num_classes=None, num_labels=None, average="micro",
                multidim_average="global", top_k=1, ignore_index=None, validate_args=True,
                zero_division=0.0) -> Tensor:
    """F-beta score for ``task``."""
    return _dispatch(task, _swap_beta(binary_fbeta_score, beta), _swap_beta(multiclass_fbeta_score, beta),
                     _swap_beta(multilabel_fbeta_score, beta), preds, target, threshold, num_classes, num_labels,
                     average, multidim_average, top_k, ignore_index, validate_args, zero_division=zero_division)


def _swap_beta(fn, beta):
    return lambda preds, target, **kw: fn(preds, target, beta, **kw)


def binary_f1_score(preds, target, threshold=0.5, multidim_average="global", ignore_index=None, validate_args=True,
                    zero_division=0.0) -> Tensor:
    """Harmonic mean of precision and recall."""
    return binary_fbeta_score(preds, target, 1.0, threshold, multidim_average, ignore_index, validate_args,
                              zero_division)


def multiclass_f1_score(preds, target, num_classes, average="macro", top_k=1, multidim_average="global",
                        ignore_index=None, validate_args=True, zero_division=0.0) -> Tensor:
    """Per-class F1 score averaged by ``average``."""
    return multiclass_fbeta_score(preds, target, 1.0, num_classes, average, top_k, multidim_average, ignore_index,
                                  validate_args, zero_division)


def multilabel_f1_score(preds, target, num_labels, threshold=0.5, average="macro", multidim_average="global",
                        ignore_index=None, validate_args=True, zero_division=0.0) -> Tensor:
    """Per-label F1 score averaged by ``average``."""
    return multilabel_fbeta_score(preds, target, 1.0, num_labels, threshold, average, multidim_average, ignore_index,
                                  validate_args, zero_division)


def f1_score(preds, target, task, threshold=0.5, num_classes=None, num_labels=None, average="micro",
             multidim_average="global", top_k=1, ignore_index=None, validate_args=True, zero_division=0.0) -> Tensor:
    """F1 score for ``task``."""
    return fbeta_score(preds, target, task, 1.0, threshold, num_classes, num_labels, average, multidim_average,
                       top_k, ignore_index, validate_args, zero_division)
