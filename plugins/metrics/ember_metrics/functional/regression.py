"""Regression metrics as functions of ``preds`` and ``target`` (Ember tensor ops: differentiable where
the metric is).

Statistics that involve means (R², explained variance, Pearson) are accumulated as counts, means
and centred sums of squares and merged with Chan's parallel formulas, so large offsets in the data
do not cancel catastrophically the way raw sums of squares do.
"""
from __future__ import annotations

import warnings

import ember
from ember import Tensor

from ..utilities._array import arr, as_tensor, wrap, array_module

__all__ = ["mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error", "r2_score",
           "explained_variance", "pearson_corrcoef", "spearman_corrcoef", "cosine_similarity"]

MULTIOUTPUT = ("raw_values", "uniform_average", "variance_weighted")
MAPE_EPS = 1.17e-06


# ---- input handling ---------------------------------------------------------------------------------
def check_same_shape(preds: Tensor, target: Tensor) -> None:
    if preds.shape != target.shape:
        raise RuntimeError(f"Predictions and targets are expected to have the same shape, but got "
                           f"{tuple(preds.shape)} and {tuple(target.shape)}.")


def as_float(x) -> Tensor:
    """A float tensor (integers/bools become the default float dtype)."""
    x = as_tensor(x)
    return x if x.is_floating_point() else x.to(ember.get_default_dtype())


def prepare(preds, target, num_outputs: int | None = 1) -> tuple[Tensor, Tensor]:
    """Float tensors of one shape; flattened for one output, ``(N, num_outputs)`` otherwise."""
    preds, target = as_float(preds), as_float(target)
    check_same_shape(preds, target)
    if num_outputs == 1:
        return preds.reshape(-1), target.reshape(-1)
    if num_outputs is not None and (preds.ndim != 2 or preds.shape[1] != num_outputs):
        raise ValueError(f"Expected `preds` and `target` of shape (N, {num_outputs}) for num_outputs={num_outputs}, "
                         f"got {tuple(preds.shape)}")
    return preds, target


def check_1d_or_2d(preds: Tensor, num_outputs: int) -> None:
    if preds.ndim > 2:
        raise ValueError("Expected both predictions and target to be 1D or 2D tensors, but received tensors with "
                         f"dimension {tuple(preds.shape)}")
    outputs = 1 if preds.ndim < 2 else preds.shape[1]
    if outputs != num_outputs:
        raise ValueError(f"Expected argument `num_outputs` to match the number of outputs in input ({outputs}), "
                         f"but got {num_outputs}")


def check_multioutput(multioutput) -> None:
    if multioutput not in MULTIOUTPUT:
        raise ValueError(f"Invalid input to argument `multioutput`. Choose one of the following: {MULTIOUTPUT}")


# ---- moments -------------------------------------------------------------------------------------------
def batch_moments(x: Tensor) -> tuple[Tensor, Tensor]:
    """Mean and centred sum of squares over dim 0 (zeros for an empty batch)."""
    if x.shape[0] == 0:
        z = ember.zeros(x.shape[1:], dtype=x.dtype, device=x.device)
        return z, z
    mean = x.mean(0)
    d = x - mean
    return mean, (d * d).sum(0)


def merge_moments(n_a, mean_a, m2_a, n_b, mean_b, m2_b):
    """Chan et al.: the mean and centred sum of squares of two groups pooled."""
    n = n_a + n_b
    frac_b = n_b / ember.clamp(n, min=1)
    delta = mean_b - mean_a
    return mean_a + delta * frac_b, m2_a + m2_b + delta * delta * n_a * frac_b


def merge_comoment(n_a, mean_xa, mean_ya, c_a, n_b, mean_xb, mean_yb, c_b):
    """Pooled centred cross-product sum ``sum((x - mx)(y - my))`` of two groups."""
    n = n_a + n_b
    return c_a + c_b + (mean_xb - mean_xa) * (mean_yb - mean_ya) * n_a * n_b / ember.clamp(n, min=1)


def _finite_ratio(num: Tensor, den: Tensor) -> Tensor:
    """``1 - num / den`` with scikit-learn's ``force_finite``: 1 when both are 0, 0 when only den is."""
    safe = ember.where(den != 0, den, ember.ones_like(den))
    score = 1 - num / safe
    return ember.where(den != 0, score, ember.where(num == 0, ember.ones_like(score), ember.zeros_like(score)))


def _multioutput(scores: Tensor, weights: Tensor, multioutput: str) -> Tensor:
    if multioutput == "raw_values":
        return scores
    if multioutput == "uniform_average":
        return scores.mean()
    total = weights.sum()
    return (scores * weights / ember.where(total != 0, total, ember.ones_like(total))).sum()


# ---- errors ---------------------------------------------------------------------------------------------
def mean_squared_error(preds, target, squared: bool = True, num_outputs: int = 1) -> Tensor:
    """Mean of ``(preds - target)²`` (its square root with ``squared=False``).

    >>> mean_squared_error(ember.tensor([0., 1, 2, 3]), ember.tensor([0., 1, 2, 2]))
    tensor(0.2500)
    """
    preds, target = prepare(preds, target, num_outputs)
    diff = preds - target
    mse = (diff * diff).sum(0) / target.shape[0]
    return mse if squared else mse.sqrt()


def mean_absolute_error(preds, target, num_outputs: int = 1) -> Tensor:
    """Mean of ``|preds - target|``."""
    preds, target = prepare(preds, target, num_outputs)
    return (preds - target).abs().sum(0) / target.shape[0]


def mean_absolute_percentage_error(preds, target) -> Tensor:
    """Mean of ``|preds - target| / max(|target|, 1.17e-6)`` (a fraction, not a percentage)."""
    preds, target = prepare(preds, target, 1)
    return ((preds - target).abs() / target.abs().clamp(min=MAPE_EPS)).sum() / target.numel()


# ---- R², explained variance -------------------------------------------------------------------------------
def r2_from_moments(n: int, target_m2: Tensor, rss: Tensor, adjusted: int, multioutput: str) -> Tensor:
    """R² = 1 - RSS / TSS per output, averaged; optionally adjusted for ``adjusted`` regressors.

    A constant target (TSS = 0) gives 1 for a perfect fit and 0 otherwise (scikit-learn's
    ``force_finite``). Fewer than two samples raise ``ValueError``.
    """
    if n < 2:
        raise ValueError("Needs at least two samples to calculate r2 score.")
    r2 = _multioutput(_finite_ratio(rss, target_m2), target_m2, multioutput)
    if adjusted != 0:
        if adjusted > n - 1:
            warnings.warn("More independent regressions than data points in adjusted r2 score. Falls back to "
                          "standard r2 score.", UserWarning, stacklevel=3)
        elif adjusted == n - 1:
            warnings.warn("Division by zero in adjusted r2 score. Falls back to standard r2 score.", UserWarning,
                          stacklevel=3)
        else:
            r2 = 1 - (1 - r2) * (n - 1) / (n - adjusted - 1)
    return r2


def check_adjusted(adjusted) -> None:
    if not isinstance(adjusted, int) or adjusted < 0:
        raise ValueError("`adjusted` parameter should be an integer larger or equal to 0.")


def r2_score(preds, target, adjusted: int = 0, multioutput: str = "uniform_average") -> Tensor:
    """Coefficient of determination for 1-d ``(N,)`` or multi-output ``(N, D)`` inputs."""
    check_adjusted(adjusted)
    check_multioutput(multioutput)
    preds, target = as_float(preds), as_float(target)
    check_same_shape(preds, target)
    if preds.ndim > 2:
        check_1d_or_2d(preds, 1)
    _, m2 = batch_moments(target)
    diff = target - preds
    return r2_from_moments(target.shape[0], m2, (diff * diff).sum(0), adjusted, multioutput)


def explained_variance_from_moments(err_m2: Tensor, target_m2: Tensor, multioutput: str) -> Tensor:
    """``1 - Var(target - preds) / Var(target)`` with scikit-learn's ``force_finite`` for constant targets."""
    return _multioutput(_finite_ratio(err_m2, target_m2), target_m2, multioutput)


def explained_variance(preds, target, multioutput: str = "uniform_average") -> Tensor:
    """Explained variance for ``(N,)`` or ``(N, D)`` inputs."""
    check_multioutput(multioutput)
    preds, target = as_float(preds), as_float(target)
    check_same_shape(preds, target)
    _, err_m2 = batch_moments(target - preds)
    _, t_m2 = batch_moments(target)
    return explained_variance_from_moments(err_m2, t_m2, multioutput)


# ---- correlation ----------------------------------------------------------------------------------------------
def pearson_from_moments(m2_x: Tensor, m2_y: Tensor, c_xy: Tensor) -> Tensor:
    """``c / sqrt(m2_x m2_y)`` clipped to [-1, 1]; ``nan`` when either input is constant."""
    if bool(((m2_x == 0) | (m2_y == 0)).any()):
        warnings.warn("The variance of predictions or target is zero; the Pearson correlation coefficient is "
                      "undefined (nan).", UserWarning, stacklevel=3)
    return (c_xy / (m2_x.sqrt() * m2_y.sqrt())).clamp(-1.0, 1.0)


def pearson_corrcoef(preds, target) -> Tensor:
    """Pearson correlation of ``(N,)`` (or per column of ``(N, D)``) inputs."""
    preds, target = as_float(preds), as_float(target)
    check_same_shape(preds, target)
    check_1d_or_2d(preds, 1 if preds.ndim < 2 else preds.shape[1])
    mx, m2x = batch_moments(preds)
    my, m2y = batch_moments(target)
    return pearson_from_moments(m2x, m2y, ((preds - mx) * (target - my)).sum(0))


def rank_data(xp, x):
    """Ranks 1..n along axis 0 with ties sharing their average rank (scipy.stats.rankdata "average")."""
    if x.ndim == 2:
        return xp.stack([rank_data(xp, x[:, j]) for j in range(x.shape[1])], axis=1)
    n = x.shape[0]
    order = xp.argsort(x, kind="stable")
    xs = x[order]
    group = xp.cumsum(xp.concatenate([xp.ones(min(n, 1), dtype=bool), xs[1:] != xs[:-1]])) - 1
    mean_rank = xp.bincount(group, weights=xp.arange(1, n + 1, dtype=xp.float64)) / xp.bincount(group)
    ranks = xp.empty(n, dtype=xp.float64)
    ranks[order] = mean_rank[group]
    return ranks


def spearman_compute(preds: Tensor, target: Tensor) -> Tensor:
    """Pearson correlation of the ranks (``nan`` for constant inputs)."""
    xp = array_module(preds)
    rp = wrap(rank_data(xp, arr(preds)), preds.device)
    rt = wrap(rank_data(xp, arr(target)), target.device)
    return pearson_corrcoef(rp, rt).to(preds.dtype)


def check_spearman_inputs(preds: Tensor, target: Tensor) -> None:
    if not (preds.is_floating_point() and target.is_floating_point()):
        raise TypeError("Expected `preds` and `target` both to be floating point tensors, but got "
                        f"{preds.dtype} and {target.dtype}")
    check_same_shape(preds, target)
    check_1d_or_2d(preds, 1 if preds.ndim < 2 else preds.shape[1])


def spearman_corrcoef(preds, target) -> Tensor:
    """Spearman rank correlation (ties get average ranks) of ``(N,)`` or ``(N, D)`` float inputs."""
    preds, target = as_tensor(preds), as_tensor(target)
    check_spearman_inputs(preds, target)
    return spearman_compute(preds.detach(), target.detach())


# ---- cosine similarity ----------------------------------------------------------------------------------------
REDUCTIONS = ("sum", "mean", "none", None)


def check_cosine_inputs(preds: Tensor, target: Tensor, reduction) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"Expected reduction to be one of `['mean', 'sum', 'none', None]` but got {reduction}")
    check_same_shape(preds, target)
    if preds.ndim != 2:
        raise ValueError("Expected input to cosine similarity to be 2D tensors of shape `[N,D]` where `N` is the "
                         "number of samples and `D` is the number of dimensions, but got tensor of shape "
                         f"{tuple(preds.shape)}")


def cosine_compute(preds: Tensor, target: Tensor, reduction) -> Tensor:
    """Row-wise cosine similarity (``nan`` for an all-zero row), reduced by ``reduction``."""
    sim = (preds * target).sum(-1) / (preds.norm(dim=-1) * target.norm(dim=-1))
    if reduction == "sum":
        return sim.sum()
    if reduction == "mean":
        return sim.mean()
    return sim


def cosine_similarity(preds, target, reduction: str | None = "sum") -> Tensor:
    """Cosine similarity of the rows of ``(N, D)`` inputs, summed (default), averaged or per row."""
    preds, target = as_float(preds), as_float(target)
    check_cosine_inputs(preds, target, reduction)
    return cosine_compute(preds, target, reduction)
