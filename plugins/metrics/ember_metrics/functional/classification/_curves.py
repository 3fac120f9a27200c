"""Ranking metrics: ROC and precision-recall curves, the area under the ROC curve and average precision.

``thresholds=None`` computes exact curves from every distinct score (the inputs are kept); an int
``n`` uses ``n`` evenly spaced thresholds in [0, 1], a list/1-d tensor uses those thresholds: a
constant-memory binned approximation (a sample counts as positive at threshold ``t`` when its
score is ``>= t``). Scores outside [0, 1] are logits (sigmoid; softmax for multiclass).

Multiclass metrics are one-vs-rest per class; exact multiclass/multilabel curves are lists (one
curve per class), binned ones are ``(C, T)`` tensors. Edge cases (as torchmetrics): with no
positive (negative) samples the ROC's true (false) positive rate is all zero, with a warning;
the recall of a precision-recall curve, and so the average precision, is ``nan`` without
positives. Macro/weighted averages leave ``nan`` classes out, with a warning.
"""
from __future__ import annotations

import warnings

from ember import Tensor

from ...utilities._array import arr, wrap
from . import _inputs as I
from ._stat_scores import safe_divide

__all__ = ["binary_roc", "multiclass_roc", "multilabel_roc", "roc",
           "binary_precision_recall_curve", "multiclass_precision_recall_curve",
           "multilabel_precision_recall_curve", "precision_recall_curve",
           "binary_auroc", "multiclass_auroc", "multilabel_auroc", "auroc",
           "binary_average_precision", "multiclass_average_precision", "multilabel_average_precision",
           "average_precision"]


# ---- thresholds and binned state ----------------------------------------------------------------------
def thresholds_array(xp, thresholds):
    """The threshold values as a device array (``None`` stays ``None``)."""
    if thresholds is None:
        return None
    if isinstance(thresholds, int):
        return xp.linspace(0, 1, thresholds, dtype=xp.float32)
    if isinstance(thresholds, Tensor):
        return arr(thresholds).astype(xp.float32)
    return xp.asarray(list(thresholds), dtype=xp.float32)


def binned_state(xp, p, t, thr):
    """Counts (T, *class dims, 2, 2) = ``[[tn, fp], [fn, tp]]`` per threshold (and class).

    ``p`` (K, *D) scores, ``t`` (K, *D) 0/1 targets (entries with target -1 are ignored).
    """
    T = thr.shape[0]
    d = p.shape[1:]
    cells = 1
    for s in d:
        cells *= s
    pos = (p[..., None] >= thr).astype(xp.int64)                          # (K, *D, T)
    cell = xp.arange(cells).reshape((1,) + d + (1,)) * 4
    tidx = xp.arange(T).reshape((1,) * (1 + len(d)) + (T,)) * (4 * cells)
    index = tidx + cell + 2 * t[..., None].astype(xp.int64) + pos
    keep = xp.broadcast_to((t >= 0)[..., None], index.shape)
    counts = xp.bincount(index[keep], minlength=4 * cells * T)
    return counts.reshape((T,) + d + (2, 2))


# ---- single curves ----------------------------------------------------------------------------------
def _clf_curve(xp, p, t):
    """Cumulative false/true positives at each distinct score (descending) and those scores."""
    order = xp.argsort(-p, kind="stable")
    p, t = p[order], t[order]
    last = xp.concatenate([xp.nonzero(p[1:] != p[:-1])[0], xp.asarray([p.shape[0] - 1])])
    tps = xp.cumsum(t.astype(xp.int64))[last]
    return 1 + last - tps, tps, p[last]


def _rate(xp, counts, what: str):
    if counts.shape[0] == 0 or counts[-1] <= 0:
        warnings.warn(f"No {what} samples in targets, {'true' if what == 'positive' else 'false'} positive value "
                      f"should be meaningless. Returning zero tensor in {'true' if what == 'positive' else 'false'} "
                      "positive score", UserWarning, stacklevel=4)
        return xp.zeros(counts.shape, dtype=xp.float32)
    return (counts / counts[-1]).astype(xp.float32)


def roc_exact(xp, p, t):
    """(fpr, tpr, thresholds) with a first point (0, 0) at threshold 1."""
    if p.shape[0] == 0:
        fps = tps = xp.zeros(0, dtype=xp.int64)
        thr = p
    else:
        fps, tps, thr = _clf_curve(xp, p, t)
    zero = xp.zeros(1, dtype=xp.int64)
    fps, tps = xp.concatenate([zero, fps]), xp.concatenate([zero, tps])
    thr = xp.concatenate([xp.ones(1, dtype=thr.dtype), thr])
    return _rate(xp, fps, "negative"), _rate(xp, tps, "positive"), thr


def prc_exact(xp, p, t):
    """(precision, recall, thresholds): recall decreasing, ending at the point (recall 0, precision 1)."""
    if p.shape[0] == 0:
        fps = tps = xp.zeros(0, dtype=xp.int64)
        thr = p
    else:
        fps, tps, thr = _clf_curve(xp, p, t)
    precision = safe_divide(xp, tps, tps + fps)
    total = tps[-1] if tps.shape[0] else 0
    recall = (tps / total).astype(xp.float32) if total > 0 else xp.full(tps.shape, float("nan"), dtype=xp.float32)
    precision = xp.concatenate([precision[::-1], xp.ones(1, dtype=xp.float32)])
    recall = xp.concatenate([recall[::-1], xp.zeros(1, dtype=xp.float32)])
    return precision, recall, thr[::-1].copy()


def roc_binned(xp, state, thr):
    """From (T, *D, 2, 2) counts: fpr, tpr (*D, T) for increasing rates, thresholds (T,) descending."""
    tps, fps = state[..., 1, 1], state[..., 0, 1]
    fns, tns = state[..., 1, 0], state[..., 0, 0]
    tpr = xp.moveaxis(safe_divide(xp, tps, tps + fns)[::-1], 0, -1)
    fpr = xp.moveaxis(safe_divide(xp, fps, fps + tns)[::-1], 0, -1)
    return fpr.copy(), tpr.copy(), thr[::-1].copy()


def prc_binned(xp, state, thr):
    """From (T, *D, 2, 2) counts: precision, recall (*D, T + 1), thresholds (T,) increasing."""
    tps, fps, fns = state[..., 1, 1], state[..., 0, 1], state[..., 1, 0]
    precision = xp.moveaxis(safe_divide(xp, tps, tps + fps, zero_division=1.0), 0, -1)
    recall = xp.moveaxis(safe_divide(xp, tps, tps + fns), 0, -1)
    lead = precision.shape[:-1]
    precision = xp.concatenate([precision, xp.ones(lead + (1,), dtype=precision.dtype)], axis=-1)
    recall = xp.concatenate([recall, xp.zeros(lead + (1,), dtype=recall.dtype)], axis=-1)
    return precision, recall, thr


def auc(xp, x, y):
    """Trapezoidal area under ``y(x)`` along the last axis."""
    return ((x[..., 1:] - x[..., :-1]) * (y[..., 1:] + y[..., :-1]) / 2).sum(axis=-1)


def partial_auroc(xp, fpr, tpr, max_fpr):
    """AUROC, or McClish-standardised partial AUROC up to ``max_fpr`` (as scikit-learn)."""
    if max_fpr is None or max_fpr == 1 or float(fpr.sum()) == 0 or float(tpr.sum()) == 0:
        return auc(xp, fpr, tpr).astype(xp.float32)
    stop = int(xp.searchsorted(fpr, max_fpr, side="right"))
    w = (max_fpr - fpr[stop - 1]) / (fpr[stop] - fpr[stop - 1])
    tpr_cut = tpr[stop - 1] + w * (tpr[stop] - tpr[stop - 1])
    part = auc(xp, xp.concatenate([fpr[:stop], xp.asarray([max_fpr], dtype=fpr.dtype)]),
               xp.concatenate([tpr[:stop], xp.asarray([tpr_cut], dtype=tpr.dtype)]))
    min_area = 0.5 * max_fpr ** 2
    return (0.5 * (1 + (part - min_area) / (max_fpr - min_area))).astype(xp.float32)


def average_precision_from_curve(xp, precision, recall):
    """Step-wise area ``sum((r[i] - r[i+1]) * p[i])`` over the decreasing-recall curve (last axis)."""
    return (-((recall[..., 1:] - recall[..., :-1]) * precision[..., :-1]).sum(axis=-1)).astype(xp.float32)


def reduce_scores(xp, scores, average, weights=None, what: str = "score"):
    """Average per-class scores ("macro", "weighted" by ``weights``) leaving ``nan`` classes out."""
    if average is None or average == "none":
        return scores
    ok = ~xp.isnan(scores)
    if not bool(ok.all()):
        warnings.warn(f"{what} for one or more classes was `nan`. Ignoring these classes in {average}-average",
                      UserWarning, stacklevel=4)
    if average == "weighted":
        w = xp.where(ok, weights, 0).astype(xp.float32)
        return safe_divide(xp, (xp.where(ok, scores, 0) * w).sum(), w.sum())
    return safe_divide(xp, xp.where(ok, scores, 0).sum(), ok.sum())


# ---- per-task state -> values (shared with the metric classes) ----------------------------------------------
def _columns(xp, p, t, k: int, one_vs_rest: bool):
    """Scores and 0/1 targets of class ``k`` (multiclass: one vs rest; multilabel: column, ignored dropped)."""
    if one_vs_rest:
        return p[:, k], (t == k).astype(xp.int64)
    keep = t[:, k] >= 0
    return p[keep, k], t[keep, k]


def curve_state_compute(xp, kind: str, state, thr, num_classes: int | None, one_vs_rest: bool):
    """``kind`` "roc" or "prc" for binary (``num_classes`` None) or per class: exact -> lists."""
    if thr is not None:
        return (roc_binned if kind == "roc" else prc_binned)(xp, state, thr)
    p, t = state
    single = roc_exact if kind == "roc" else prc_exact
    if num_classes is None:
        return single(xp, p, t)
    curves = [single(xp, *_columns(xp, p, t, k, one_vs_rest)) for k in range(num_classes)]
    return tuple(list(c) for c in zip(*curves))


def micro_state(xp, state, thr, num_classes: int, one_vs_rest: bool):
    """Pool every class decision into one binary problem (the "micro" average)."""
    if thr is not None:
        return state.sum(axis=1)
    p, t = state
    if one_vs_rest:
        t = (t[:, None] == xp.arange(num_classes)[None, :]).astype(xp.int64)
    p, t = p.reshape(-1), t.reshape(-1)
    keep = t >= 0
    return p[keep], t[keep]


def class_support(xp, state, thr, num_classes: int, one_vs_rest: bool):
    """Positives per class (weights of the "weighted" average)."""
    if thr is not None:
        return state[0, ..., 1, :].sum(axis=-1)
    _, t = state
    if one_vs_rest:
        return xp.bincount(t, minlength=num_classes)[:num_classes]
    return (t == 1).sum(axis=0)


def auroc_compute(xp, state, thr, num_classes, average, max_fpr=None, one_vs_rest=False):
    """AUROC from a curve state (binary when ``num_classes`` is None), averaged by ``average``."""
    if num_classes is None:
        fpr, tpr, _ = curve_state_compute(xp, "roc", state, thr, None, False)
        return partial_auroc(xp, fpr, tpr, max_fpr)
    if average == "micro":
        return auroc_compute(xp, micro_state(xp, state, thr, num_classes, one_vs_rest), thr, None, None)
    fpr, tpr, _ = curve_state_compute(xp, "roc", state, thr, num_classes, one_vs_rest)
    scores = auc(xp, fpr, tpr) if thr is not None else xp.stack([auc(xp, f, r) for f, r in zip(fpr, tpr)])
    return reduce_scores(xp, scores.astype(xp.float32), average,
                         class_support(xp, state, thr, num_classes, one_vs_rest), "AUROC")


def average_precision_compute(xp, state, thr, num_classes, average, one_vs_rest=False):
    """Average precision from a curve state, averaged by ``average``."""
    if num_classes is None:
        precision, recall, _ = curve_state_compute(xp, "prc", state, thr, None, False)
        return average_precision_from_curve(xp, precision, recall)
    if average == "micro":
        return average_precision_compute(xp, micro_state(xp, state, thr, num_classes, one_vs_rest), thr, None, None)
    precision, recall, _ = curve_state_compute(xp, "prc", state, thr, num_classes, one_vs_rest)
    scores = average_precision_from_curve(xp, precision, recall) if thr is not None else xp.stack(
        [average_precision_from_curve(xp, p, r) for p, r in zip(precision, recall)])
    return reduce_scores(xp, scores, average, class_support(xp, state, thr, num_classes, one_vs_rest),
                         "Average precision score")


# ---- formatting + validation of the functional inputs -------------------------------------------------------
def _float_preds(preds) -> None:
    if not preds.is_floating_point():
        raise ValueError("Expected argument `preds` to be an floating tensor with probability/logit scores, but got "
                         f"tensor with dtype {preds.dtype}")


def binary_state(preds, target, thresholds, ignore_index, validate_args):
    """Validate and format binary inputs -> xp, state (scores/targets or binned counts), thresholds, device."""
    preds, target = I.as_tensor(preds), I.as_tensor(target)
    if validate_args:
        I.check_thresholds(thresholds)
        I.check_ignore_index(ignore_index)
        I._check_same_shape(preds, target)
        I._check_target_int(target)
        I._check_binary_values(I.array_module(target), arr(target), "target", ignore_index)
        _float_preds(preds)
    xp, p, t = I.binary_scores(preds, target, ignore_index)
    thr = thresholds_array(xp, thresholds)
    return xp, (binned_state(xp, p, t, thr) if thr is not None else (p, t)), thr, target.device


def multiclass_state(preds, target, num_classes, thresholds, ignore_index, validate_args):
    """Validate and format multiclass inputs -> xp, state, thresholds, device."""
    preds, target = I.as_tensor(preds), I.as_tensor(target)
    if validate_args:
        I.check_num(num_classes, "num_classes")
        I.check_thresholds(thresholds)
        I.check_ignore_index(ignore_index)
        I.validate_multiclass(preds, target, num_classes, "global", ignore_index, scores_only=True)
    xp, p, t = I.multiclass_scores(preds, target, num_classes, ignore_index)
    thr = thresholds_array(xp, thresholds)
    if thr is not None:
        t_oh = (t[:, None] == xp.arange(num_classes)[None, :]).astype(xp.int64)
        return xp, binned_state(xp, p, t_oh, thr), thr, target.device
    return xp, (p, t), thr, target.device


def multilabel_state(preds, target, num_labels, thresholds, ignore_index, validate_args):
    """Validate and format multilabel inputs -> xp, state, thresholds, device."""
    preds, target = I.as_tensor(preds), I.as_tensor(target)
    if validate_args:
        I.check_num(num_labels, "num_labels")
        I.check_thresholds(thresholds)
        I.check_ignore_index(ignore_index)
        I.validate_multilabel(preds, target, num_labels, "global", ignore_index)
        _float_preds(preds)
    xp, p, t = I.multilabel_scores(preds, target, num_labels, ignore_index)
    thr = thresholds_array(xp, thresholds)
    return xp, (binned_state(xp, p, t, thr) if thr is not None else (p, t)), thr, target.device


def _wrap_all(value, device):
    if isinstance(value, (tuple, list)):
        return type(value)(_wrap_all(v, device) for v in value)
    return wrap(value, device)


def check_max_fpr(max_fpr) -> None:
    if max_fpr is not None and not (isinstance(max_fpr, float) and 0 < max_fpr <= 1):
        raise ValueError(f"Arguments `max_fpr` should be a float in range (0, 1], but got: {max_fpr}")


def _check_avg(average, validate_args, allowed=("micro", "macro", "weighted", "none", None)):
    if validate_args:
        I.check_average(average, allowed)


def _dispatch(task, binary_fn, multiclass_fn, multilabel_fn, preds, target, num_classes, num_labels, binary_kw,
              class_kw):
    task = I.check_task(task)
    if task == "binary":
        return binary_fn(preds, target, **binary_kw)
    if task == "multiclass":
        if not isinstance(num_classes, int):
            raise ValueError(f"`num_classes` is expected to be `int` but `{type(num_classes)} was passed.`")
        return multiclass_fn(preds, target, num_classes, **class_kw)
    if not isinstance(num_labels, int):
        raise ValueError(f"`num_labels` is expected to be `int` but `{type(num_labels)} was passed.`")
    return multilabel_fn(preds, target, num_labels, **class_kw)


# ---- ROC ---------------------------------------------------------------------------------------------------
def binary_roc(preds, target, thresholds=None, ignore_index=None, validate_args=True):
    """(fpr, tpr, thresholds) of binary scores; thresholds descending, starting at 1.

    >>> fpr, tpr, thr = binary_roc(ember.tensor([0.1, 0.4, 0.35, 0.8]), ember.tensor([0, 0, 1, 1]))
    """
    xp, state, thr, dev = binary_state(preds, target, thresholds, ignore_index, validate_args)
    return _wrap_all(curve_state_compute(xp, "roc", state, thr, None, False), dev)


def multiclass_roc(preds, target, num_classes, thresholds=None, ignore_index=None, validate_args=True):
    """One-vs-rest ROC per class: lists of per-class curves (exact) or (C, T) tensors (binned)."""
    xp, state, thr, dev = multiclass_state(preds, target, num_classes, thresholds, ignore_index, validate_args)
    return _wrap_all(curve_state_compute(xp, "roc", state, thr, num_classes, True), dev)


def multilabel_roc(preds, target, num_labels, thresholds=None, ignore_index=None, validate_args=True):
    """ROC per label: lists of per-label curves (exact) or (L, T) tensors (binned)."""
    xp, state, thr, dev = multilabel_state(preds, target, num_labels, thresholds, ignore_index, validate_args)
    return _wrap_all(curve_state_compute(xp, "roc", state, thr, num_labels, False), dev)


def roc(preds, target, task, thresholds=None, num_classes=None, num_labels=None, ignore_index=None,
        validate_args=True):
    """ROC curve for ``task``."""
    kw = dict(thresholds=thresholds, ignore_index=ignore_index, validate_args=validate_args)
    return _dispatch(task, binary_roc, multiclass_roc, multilabel_roc, preds, target, num_classes, num_labels, kw,
                     kw)


# ---- precision-recall curve ----------------------------------------------------------------------------------
def binary_precision_recall_curve(preds, target, thresholds=None, ignore_index=None, validate_args=True):
    """(precision, recall, thresholds): one more precision/recall point (1, 0) than thresholds."""
    xp, state, thr, dev = binary_state(preds, target, thresholds, ignore_index, validate_args)
    return _wrap_all(curve_state_compute(xp, "prc", state, thr, None, False), dev)


def multiclass_precision_recall_curve(preds, target, num_classes, thresholds=None, ignore_index=None,
                                      validate_args=True):
    """One-vs-rest precision-recall curve per class (lists, or (C, T + 1) tensors when binned)."""
    xp, state, thr, dev = multiclass_state(preds, target, num_classes, thresholds, ignore_index, validate_args)
    return _wrap_all(curve_state_compute(xp, "prc", state, thr, num_classes, True), dev)


def multilabel_precision_recall_curve(preds, target, num_labels, thresholds=None, ignore_index=None,
                                      validate_args=True):
    """Precision-recall curve per label (lists, or (L, T + 1) tensors when binned)."""
    xp, state, thr, dev = multilabel_state(preds, target, num_labels, thresholds, ignore_index, validate_args)
    return _wrap_all(curve_state_compute(xp, "prc", state, thr, num_labels, False), dev)


def precision_recall_curve(preds, target, task, thresholds=None, num_classes=None, num_labels=None,
                           ignore_index=None, validate_args=True):
    """Precision-recall curve for ``task``."""
    kw = dict(thresholds=thresholds, ignore_index=ignore_index, validate_args=validate_args)
    return _dispatch(task, binary_precision_recall_curve, multiclass_precision_recall_curve,
                     multilabel_precision_recall_curve, preds, target, num_classes, num_labels, kw, kw)


# ---- AUROC ----------------------------------------------------------------------------------------------------
def binary_auroc(preds, target, max_fpr=None, thresholds=None, ignore_index=None, validate_args=True) -> Tensor:
    """Area under the ROC curve; with ``max_fpr`` the standardised partial area (McClish)."""
    if validate_args:
        check_max_fpr(max_fpr)
    xp, state, thr, dev = binary_state(preds, target, thresholds, ignore_index, validate_args)
    return wrap(auroc_compute(xp, state, thr, None, None, max_fpr), dev)


def multiclass_auroc(preds, target, num_classes, average="macro", thresholds=None, ignore_index=None,
                     validate_args=True) -> Tensor:
    """One-vs-rest AUROC per class, averaged ("macro", "weighted" by support, "micro" pooled, "none")."""
    _check_avg(average, validate_args)
    xp, state, thr, dev = multiclass_state(preds, target, num_classes, thresholds, ignore_index, validate_args)
    return wrap(auroc_compute(xp, state, thr, num_classes, average, one_vs_rest=True), dev)


def multilabel_auroc(preds, target, num_labels, average="macro", thresholds=None, ignore_index=None,
                     validate_args=True) -> Tensor:
    """AUROC per label, averaged ("macro", "weighted" by positives, "micro" pooled, "none")."""
    _check_avg(average, validate_args)
    xp, state, thr, dev = multilabel_state(preds, target, num_labels, thresholds, ignore_index, validate_args)
    return wrap(auroc_compute(xp, state, thr, num_labels, average), dev)


def auroc(preds, target, task, thresholds=None, num_classes=None, num_labels=None, average="macro", max_fpr=None,
          ignore_index=None, validate_args=True) -> Tensor:
    """AUROC for ``task``."""
    base = dict(thresholds=thresholds, ignore_index=ignore_index, validate_args=validate_args)
    return _dispatch(task, binary_auroc, multiclass_auroc, multilabel_auroc, preds, target, num_classes, num_labels,
                     dict(base, max_fpr=max_fpr), dict(base, average=average))


# ---- average precision ----------------------------------------------------------------------------------------
def binary_average_precision(preds, target, thresholds=None, ignore_index=None, validate_args=True) -> Tensor:
    """Area under the precision-recall curve as ``sum_n (R_n - R_{n-1}) P_n`` (scikit-learn's definition)."""
    xp, state, thr, dev = binary_state(preds, target, thresholds, ignore_index, validate_args)
    return wrap(average_precision_compute(xp, state, thr, None, None), dev)


def multiclass_average_precision(preds, target, num_classes, average="macro", thresholds=None, ignore_index=None,
                                 validate_args=True) -> Tensor:
    """One-vs-rest average precision per class, averaged ("macro", "weighted", "micro", "none")."""
    _check_avg(average, validate_args)
    xp, state, thr, dev = multiclass_state(preds, target, num_classes, thresholds, ignore_index, validate_args)
    return wrap(average_precision_compute(xp, state, thr, num_classes, average, one_vs_rest=True), dev)


def multilabel_average_precision(preds, target, num_labels, average="macro", thresholds=None, ignore_index=None,
                                 validate_args=True) -> Tensor:
    """Average precision per label, averaged ("macro", "weighted", "micro", "none")."""
    _check_avg(average, validate_args)
    xp, state, thr, dev = multilabel_state(preds, target, num_labels, thresholds, ignore_index, validate_args)
    return wrap(average_precision_compute(xp, state, thr, num_labels, average), dev)


def average_precision(preds, target, task, thresholds=None, num_classes=None, num_labels=None, average="macro",
                      ignore_index=None, validate_args=True) -> Tensor:
    """Average precision for ``task``."""
    base = dict(thresholds=thresholds, ignore_index=ignore_index, validate_args=validate_args)
    return _dispatch(task, binary_average_precision, multiclass_average_precision, multilabel_average_precision,
                     preds, target, num_classes, num_labels, base, dict(base, average=average))
