"""Validation and formatting of classification inputs (shared by every classification metric).

Conventions (torchmetrics'):

* binary: ``preds`` and ``target`` of the same shape ``(N, ...)``; float ``preds`` outside [0, 1]
  are logits (a sigmoid is applied); labels are ``preds > threshold``.
* multiclass: ``target`` ``(N, ...)`` of class indices; ``preds`` either the same shape (labels) or
  ``(N, C, ...)`` scores (argmax, or the ``top_k`` best).
* multilabel: ``preds`` and ``target`` ``(N, L, ...)``; float ``preds`` outside [0, 1] get a sigmoid.

Entries whose target equals ``ignore_index`` take no part in any count. Formatting returns raw
device arrays (``xp`` = NumPy or CuPy) reshaped to ``(N, M)`` / ``(N, C, M)`` with
``M`` = the product of the extra dimensions, plus a validity mask (``None`` when nothing is ignored).
"""
from __future__ import annotations

from ember import Tensor

from ...utilities._array import arr, as_tensor, in_unit_interval, sigmoid, softmax, array_module

TASKS = ("binary", "multiclass", "multilabel")
AVERAGES = ("micro", "macro", "weighted", "none", None)


# ---- argument validation ----------------------------------------------------------------------
def check_task(task) -> str:
    if task not in TASKS:
        raise ValueError(f"Invalid Classification: expected one of {TASKS} but got {task}")
    return task


def check_threshold(threshold) -> None:
    if not (isinstance(threshold, (int, float)) and 0 <= threshold <= 1):
        raise ValueError(f"Expected argument `threshold` to be a float in the [0,1] range, but got {threshold}.")


def check_multidim_average(multidim_average) -> None:
    if multidim_average not in ("global", "samplewise"):
        raise ValueError("Expected argument `multidim_average` to either be 'global' or 'samplewise', but got "
                         f"{multidim_average}")


def check_ignore_index(ignore_index) -> None:
    if ignore_index is not None and not isinstance(ignore_index, int):
        raise ValueError(f"Expected argument `ignore_index` to either be `None` or an integer, but got {ignore_index}")


def check_num(value, name: str, minimum: int = 2) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"Expected argument `{name}` to be an integer larger than {minimum - 1}, but got {value}")


def check_average(average, allowed=AVERAGES) -> None:
    if average not in allowed:
        raise ValueError(f"Expected argument `average` to be one of {allowed}, but got {average}")


def check_top_k(top_k, num_classes: int) -> None:
    if not isinstance(top_k, int) or top_k < 1:
        raise ValueError(f"Expected argument `top_k` to be an integer larger than or equal to 1, but got {top_k}")
    if top_k > num_classes:
        raise ValueError(f"Expected argument `top_k` to be smaller or equal to `num_classes` but got {top_k} "
                         f"and {num_classes}")


def check_thresholds(thresholds) -> None:
    """``None`` (exact curve), an int >= 2 (evenly spaced in [0, 1]), a list of floats in [0, 1] or a 1-d tensor."""
    if thresholds is None:
        return
    if isinstance(thresholds, bool) or not isinstance(thresholds, (int, list, tuple, Tensor)):
        raise ValueError("Expected argument `thresholds` to either be an integer, list of floats or tensor of floats, "
                         f"but got {thresholds}")
    if isinstance(thresholds, int) and thresholds < 2:
        raise ValueError(f"If argument `thresholds` is an integer, expected it to be larger than 1, but got "
                         f"{thresholds}")
    if isinstance(thresholds, (list, tuple)) and not all(isinstance(t, float) and 0 <= t <= 1 for t in thresholds):
        raise ValueError("If argument `thresholds` is a list, expected all elements to be floats in the [0,1] range, "
                         f"but got {thresholds}")
    if isinstance(thresholds, Tensor) and thresholds.ndim != 1:
        raise ValueError("If argument `thresholds` is an tensor, expected the tensor to be 1d")


# ---- tensor validation --------------------------------------------------------------------------
def _values_outside(xp, a, allowed_max: int, ignore_index, allowed_min: int = 0):
    bad = (a < allowed_min) | (a > allowed_max)
    if ignore_index is not None:
        bad &= a != ignore_index
    if bool(bad.any()):
        return sorted(set(xp.unique(a[bad]).tolist()))[:10]
    return None


def _check_target_int(target: Tensor) -> None:
    if target.is_floating_point():
        raise ValueError("Expected argument `target` to be an int or long tensor with ground truth labels but got "
                         f"tensor with dtype {target.dtype}")


def _check_binary_values(xp, a, name: str, ignore_index) -> None:
    bad = _values_outside(xp, a, 1, ignore_index)
    if bad is not None:
        allowed = [0, 1] + ([] if ignore_index is None else [ignore_index])
        raise RuntimeError(f"Detected the following values in `{name}`: {bad} but expected only the following values "
                           f"{allowed}.")


def _check_same_shape(preds: Tensor, target: Tensor) -> None:
    if preds.shape != target.shape:
        raise ValueError("The `preds` and `target` should have the same shape, got `preds` with shape="
                         f"{tuple(preds.shape)} and `target` with shape={tuple(target.shape)}.")


def _check_binary_inputs(preds: Tensor, target: Tensor, ignore_index) -> None:
    """Targets (and integer predictions) hold only 0 and 1 (and ``ignore_index``)."""
    xp = array_module(target)
    _check_binary_values(xp, arr(target), "target", ignore_index)
    if not preds.is_floating_point():
        _check_binary_values(xp, arr(preds), "preds", None)


def validate_binary(preds: Tensor, target: Tensor, multidim_average: str = "global", ignore_index=None) -> None:
    """Shapes, dtypes and values of binary inputs (clear errors naming the problem)."""
    _check_same_shape(preds, target)
    _check_target_int(target)
    _check_binary_inputs(preds, target, ignore_index)
    if multidim_average != "global" and preds.ndim < 2:
        raise ValueError("Expected input to be at least 2D when multidim_average is set to `samplewise`")


def validate_multiclass(preds: Tensor, target: Tensor, num_classes: int, multidim_average: str = "global",
                        ignore_index=None, scores_only: bool = False) -> None:
    """``scores_only``: curves and calibration need (N, C, ...) float scores, not labels."""
    _check_target_int(target)
    if preds.ndim == target.ndim + 1:
        if not preds.is_floating_point():
            raise ValueError("If `preds` have one dimension more than `target`, `preds` should be a float tensor.")
        if preds.shape[1] != num_classes:
            raise ValueError("If `preds` have one dimension more than `target`, `preds.shape[1]` should be equal to "
                             f"number of classes ({num_classes}), got {preds.shape[1]}.")
        if tuple(preds.shape[2:]) != tuple(target.shape[1:]) or preds.shape[0] != target.shape[0]:
            raise ValueError("If `preds` have one dimension more than `target`, the shape of `preds` should be "
                             f"(N, C, ...), and the shape of `target` should be (N, ...); got {tuple(preds.shape)} "
                             f"and {tuple(target.shape)}.")
        if multidim_average != "global" and preds.ndim < 3:
            raise ValueError("If `preds` have one dimension more than `target`, the shape of `preds` should be at "
                             "least 3D when multidim_average is set to `samplewise`")
    elif preds.ndim == target.ndim and not scores_only:
        _check_same_shape(preds, target)
        if preds.is_floating_point():
            raise ValueError("If `preds` and `target` have the same shape, `preds` should hold integer class labels, "
                             f"got dtype {preds.dtype}")
        if multidim_average != "global" and preds.ndim < 2:
            raise ValueError("When `preds` and `target` have the same shape, the shape of `preds` should be at least "
                             "2D when multidim_average is set to `samplewise`")
    elif scores_only:
        raise ValueError("Expected `preds` to be a float tensor of shape (N, C, ...) and `target` of shape (N, ...), "
                         f"got {tuple(preds.shape)} and {tuple(target.shape)}.")
    else:
        raise ValueError("Either `preds` and `target` both should have the (same) shape (N, ...), or `target` should "
                         f"be (N, ...) and `preds` should be (N, C, ...); got {tuple(preds.shape)} and "
                         f"{tuple(target.shape)}.")
    xp = array_module(target)
    for t, name in [(target, "target")] + ([] if preds.is_floating_point() else [(preds, "preds")]):
        bad = _values_outside(xp, arr(t), num_classes - 1, ignore_index if name == "target" else None)
        if bad is not None:
            also = "" if ignore_index is None or name != "target" else f" (or ignore_index={ignore_index})"
            raise RuntimeError(f"Detected values in `{name}` outside the valid class indices [0, {num_classes - 1}]"
                               f"{also}: {bad}.")


def validate_multilabel(preds: Tensor, target: Tensor, num_labels: int, multidim_average: str = "global",
                        ignore_index=None) -> None:
    """Shapes, dtypes and values of multilabel inputs."""
    _check_same_shape(preds, target)
    _check_target_int(target)
    if preds.ndim < 2 or preds.shape[1] != num_labels:
        raise ValueError("Expected both `target.shape[1]` and `preds.shape[1]` to be equal to the number of labels "
                         f"but got {preds.shape[1] if preds.ndim > 1 else None} and expected {num_labels}")
    _check_binary_inputs(preds, target, ignore_index)
    if multidim_average != "global" and preds.ndim < 3:
        raise ValueError("Expected input to be at least 3D when multidim_average is set to `samplewise`")


def check_same_device(preds: Tensor, target: Tensor) -> None:
    if preds.device != target.device:
        raise RuntimeError(f"Expected `preds` and `target` on the same device, got {preds.device} and {target.device}")


# ---- formatting to label arrays ------------------------------------------------------------------
def _prod(shape) -> int:
    m = 1
    for s in shape:
        m *= s
    return m


def _rows(a, lead: int = 1):
    """``a`` as (first ``lead`` dims, product of the rest); a 0-d value is one sample. Works for empty
    batches, where ``reshape(n, -1)`` would be ambiguous."""
    if a.ndim == 0:
        a = a.reshape((1,) * (lead + 1))
    return a.reshape(tuple(a.shape[:lead]) + (_prod(a.shape[lead:]),))


def _probabilities(xp, p, to_prob):
    """Float scores as probabilities: values outside [0, 1] are logits (torchmetrics' auto-detection)."""
    return p if in_unit_interval(xp, p) else to_prob(p)


def _thresholded(xp, p, t, threshold: float, ignore_index):
    """-> xp, predicted bool (scores above ``threshold``, logits through a sigmoid first; labels as they are),
    target bool, valid bool or None."""
    if p.dtype.kind == "f":
        p = _probabilities(xp, p, lambda x: sigmoid(xp, x)) > threshold
    else:
        p = p.astype(bool)
    valid = None if ignore_index is None else t != ignore_index
    return xp, p, t == 1, valid


def binary_labels(preds: Tensor, target: Tensor, threshold: float, ignore_index):
    """-> xp, predicted (N, M) bool, target (N, M) bool, valid (N, M) bool or None."""
    preds, target = as_tensor(preds), as_tensor(target)
    check_same_device(preds, target)
    xp, p, t = array_module(preds), _rows(arr(preds)), _rows(arr(target))
    return _thresholded(xp, p, t, threshold, ignore_index)


def multiclass_labels(preds: Tensor, target: Tensor, num_classes: int, top_k: int, ignore_index, one_hot: bool):
    """-> xp, predictions, target (N, M) int, valid (N, M) bool or None.

    Predictions are labels (N, M) when ``one_hot`` is False (needs top_k == 1), else a one-hot/top-k
    mask (N, C, M) bool.
    """
    preds, target = as_tensor(preds), as_tensor(target)
    check_same_device(preds, target)
    xp, p = array_module(preds), arr(preds)
    t = _rows(arr(target)).astype(xp.int64)
    classes = xp.arange(num_classes).reshape(1, num_classes, 1)
    if p.ndim == target.ndim + 1:  # scores (N, C, ...)
        scores = p.reshape(t.shape[0], num_classes, t.shape[1])
        if top_k == 1:
            p = scores.argmax(axis=1)
            p_oh = None
        else:  # rank of each class per position; the k best are predicted
            ranks = xp.argsort(xp.argsort(-scores, axis=1, kind="stable"), axis=1, kind="stable")
            p_oh = ranks < top_k
    else:
        p = _rows(p).astype(xp.int64)
        p_oh = None
    if one_hot and p_oh is None:
        p_oh = p[:, None, :] == classes
    valid = None if ignore_index is None else t != ignore_index
    return xp, (p_oh if one_hot else p), t, valid


def multilabel_labels(preds: Tensor, target: Tensor, num_labels: int, threshold: float, ignore_index):
    """-> xp, predicted (N, L, M) bool, target (N, L, M) bool, valid (N, L, M) bool or None."""
    preds, target = as_tensor(preds), as_tensor(target)
    check_same_device(preds, target)
    xp, p, t = array_module(preds), _rows(arr(preds), 2), _rows(arr(target), 2)
    return _thresholded(xp, p, t, threshold, ignore_index)


# ---- formatting to scores (curves, calibration) -----------------------------------------------------
def binary_scores(preds: Tensor, target: Tensor, ignore_index):
    """-> xp, probabilities (K,) and int64 targets (K,) of the kept entries (flattened)."""
    preds, target = as_tensor(preds), as_tensor(target)
    check_same_device(preds, target)
    xp, p, t = array_module(preds), arr(preds).reshape(-1), arr(target).reshape(-1).astype("int64")
    if ignore_index is not None:
        keep = t != ignore_index
        p, t = p[keep], t[keep]
    if p.dtype.kind != "f":
        p = p.astype("float32")
    return xp, _probabilities(xp, p, lambda x: sigmoid(xp, x)), t


def multiclass_scores(preds: Tensor, target: Tensor, num_classes: int, ignore_index):
    """-> xp, probabilities (K, C) and int64 targets (K,) of the kept entries."""
    preds, target = as_tensor(preds), as_tensor(target)
    check_same_device(preds, target)
    xp, p, t = array_module(preds), arr(preds), arr(target).reshape(-1).astype("int64")
    p = xp.moveaxis(p, 1, -1).reshape(-1, num_classes)
    if ignore_index is not None:
        keep = t != ignore_index
        p, t = p[keep], t[keep]
    return xp, _probabilities(xp, p, lambda x: softmax(xp, x, axis=1)), t


def multilabel_scores(preds: Tensor, target: Tensor, num_labels: int, ignore_index):
    """-> xp, probabilities (K, L) and int64 targets (K, L); ignored entries get target -1."""
    preds, target = as_tensor(preds), as_tensor(target)
    check_same_device(preds, target)
    xp, p, t = array_module(preds), arr(preds), arr(target).astype("int64")
    p = xp.moveaxis(p, 1, -1).reshape(-1, num_labels)
    t = xp.moveaxis(t, 1, -1).reshape(-1, num_labels)
    if ignore_index is not None:
        t = xp.where(t == ignore_index, -1, t)
    if p.dtype.kind != "f":
        p = p.astype("float32")
    return xp, _probabilities(xp, p, lambda x: sigmoid(xp, x)), t


def check_multilabel_args(num_labels: int, threshold: float, average, multidim_average: str, ignore_index) -> None:
    """The arguments every multilabel stat-score metric takes."""
    check_num(num_labels, "num_labels")
    check_threshold(threshold)
    check_average(average)
    check_multidim_average(multidim_average)
    check_ignore_index(ignore_index)
