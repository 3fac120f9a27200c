"""Regression metrics: MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, R2Score,
ExplainedVariance, PearsonCorrCoef, SpearmanCorrCoef, CosineSimilarity.

Error metrics keep sums and counts. R2Score, ExplainedVariance and PearsonCorrCoef keep counts,
means and centred sums of squares that merge jointly (Chan's formulas) across batches and
processes, which stays accurate when the data has a large offset.
"""
from __future__ import annotations

from typing import Any

import ember
from ember import Tensor

from ..functional import regression as F
from ..metric import Metric
from ..utilities.data import dim_zero_cat

__all__ = ["MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError", "R2Score", "ExplainedVariance",
           "PearsonCorrCoef", "SpearmanCorrCoef", "CosineSimilarity"]


def _zeros(num_outputs: int) -> Tensor:
    return ember.zeros(() if num_outputs == 1 else (num_outputs,))


def _check_num_outputs(num_outputs) -> None:
    if not isinstance(num_outputs, int) or num_outputs < 1:
        raise ValueError(f"Expected num_outputs to be a positive integer but got {num_outputs}")


class _SumMetric(Metric):
    """``sum(f(preds, target)) / count`` metrics."""

    is_differentiable = True
    higher_is_better = False
    full_state_update = False
    _sum_name = "sum_error"

    def _init_states(self, num_outputs: int) -> None:
        _check_num_outputs(num_outputs)
        self.num_outputs = num_outputs
        self.add_state(self._sum_name, _zeros(num_outputs), dist_reduce_fx="sum")
        self.add_state("total", ember.tensor(0), dist_reduce_fx="sum")

    def _accumulate(self, batch_sum: Tensor, count: int) -> None:
        state = getattr(self, self._sum_name)
        setattr(self, self._sum_name, state + batch_sum.to(state.dtype))
        self.total = self.total + count

    def _mean(self) -> Tensor:
        return getattr(self, self._sum_name) / self.total


class MeanSquaredError(_SumMetric):
    """Mean squared error (root mean squared error with ``squared=False``).

    >>> m = MeanSquaredError(); m(ember.tensor([2.5, 5.0, 4.0, 8.0]), ember.tensor([3.0, 5.0, 2.5, 7.0]))
    tensor(0.8750)
    """

    _sum_name = "sum_squared_error"

    def __init__(self, squared: bool = True, num_outputs: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(squared, bool):
            raise ValueError(f"Expected argument `squared` to be a boolean but got {squared}")
        self.squared = squared
        self._init_states(num_outputs)

    def update(self, preds: Tensor, target: Tensor) -> None:
        preds, target = F.prepare(preds, target, self.num_outputs)
        diff = preds - target
        self._accumulate((diff * diff).sum(0), target.shape[0])

    def compute(self) -> Tensor:
        mse = self._mean()
        return mse if self.squared else mse.sqrt()


class MeanAbsoluteError(_SumMetric):
    """Mean absolute error."""

    _sum_name = "sum_abs_error"

    def __init__(self, num_outputs: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._init_states(num_outputs)

    def update(self, preds: Tensor, target: Tensor) -> None:
        preds, target = F.prepare(preds, target, self.num_outputs)
        self._accumulate((preds - target).abs().sum(0), target.shape[0])

    def compute(self) -> Tensor:
        return self._mean()


class MeanAbsolutePercentageError(_SumMetric):
    """Mean of ``|preds - target| / max(|target|, 1.17e-6)`` (as a fraction; near-zero targets dominate)."""

    _sum_name = "sum_abs_per_error"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._init_states(1)

    def update(self, preds: Tensor, target: Tensor) -> None:
        preds, target = F.prepare(preds, target, 1)
        self._accumulate(((preds - target).abs() / target.abs().clamp(min=F.MAPE_EPS)).sum(), target.numel())

    def compute(self) -> Tensor:
        return self._mean()


class _MomentMetric(Metric):
    """States merged jointly: ``total`` (count), (mean, centred sum of squares) pairs and co-moments."""

    full_state_update = False
    _moments: tuple = ()     # (mean state, m2 state) pairs
    _comoments: tuple = ()   # (co-moment state, mean x state, mean y state)

    def _init_states(self, names_sum: tuple, num_outputs: int) -> None:
        _check_num_outputs(num_outputs)
        self.num_outputs = num_outputs
        self.add_state("total", ember.tensor(0), dist_reduce_fx="sum")
        for name in names_sum:
            self.add_state(name, _zeros(num_outputs), dist_reduce_fx="sum")
        for mean, m2 in self._moments:
            self.add_state(mean, _zeros(num_outputs), dist_reduce_fx=None)
            self.add_state(m2, _zeros(num_outputs), dist_reduce_fx=None)
        for c, _, _ in self._comoments:
            self.add_state(c, _zeros(num_outputs), dist_reduce_fx=None)

    def _merge_states(self, a: dict, b: dict, count_a: int = 1, count_b: int = 1) -> dict:
        na, nb = a["total"], b["total"]
        out = {"total": na + nb}
        for name, fx in self._reductions.items():
            if fx is not None and name != "total":
                out[name] = a[name] + b[name]
        for mean, m2 in self._moments:
            out[mean], out[m2] = F.merge_moments(na, a[mean], a[m2], nb, b[mean], b[m2])
        for c, mx, my in self._comoments:
            out[c] = F.merge_comoment(na, a[mx], a[my], a[c], nb, b[mx], b[my], b[c])
        return out

    def _add_batch(self, batch: dict) -> None:
        """Merge a batch's statistics (cast to the state dtypes) into the states."""
        state = self.metric_state
        batch = {k: v.to(state[k].dtype) if isinstance(v, Tensor) else ember.tensor(v, device=self.device)
                 for k, v in batch.items()}
        self._set_states(self._merge_states(state, batch))


class R2Score(_MomentMetric):
    """Coefficient of determination (``multioutput``: "uniform_average", "raw_values", "variance_weighted";
    ``adjusted``: number of regressors for the adjusted R²). A constant target gives 1 for a perfect
    fit and 0 otherwise; ``compute`` with fewer than two samples raises ``ValueError``."""

    is_differentiable = True
    higher_is_better = True
    _moments = (("mean_target", "m2_target"),)

    def __init__(self, num_outputs: int = 1, adjusted: int = 0, multioutput: str = "uniform_average",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        F.check_adjusted(adjusted)
        F.check_multioutput(multioutput)
        self.adjusted, self.multioutput = adjusted, multioutput
        self._init_states(("rss",), num_outputs)

    def update(self, preds: Tensor, target: Tensor) -> None:
        preds, target = F.as_float(preds), F.as_float(target)
        F.check_same_shape(preds, target)
        F.check_1d_or_2d(preds, self.num_outputs)
        mean, m2 = F.batch_moments(target)
        diff = target - preds
        self._add_batch({"total": target.shape[0], "rss": (diff * diff).sum(0), "mean_target": mean,
                         "m2_target": m2})

    def compute(self) -> Tensor:
        return F.r2_from_moments(int(self.total), self.m2_target, self.rss, self.adjusted, self.multioutput)


class ExplainedVariance(_MomentMetric):
    """``1 - Var(target - preds) / Var(target)`` (constant targets as in R2Score)."""

    is_differentiable = True
    higher_is_better = True
    _moments = (("mean_error", "m2_error"), ("mean_target", "m2_target"))

    def __init__(self, multioutput: str = "uniform_average", num_outputs: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        F.check_multioutput(multioutput)
        self.multioutput = multioutput
        self._init_states((), num_outputs)

    def update(self, preds: Tensor, target: Tensor) -> None:
        preds, target = F.as_float(preds), F.as_float(target)
        F.check_same_shape(preds, target)
        F.check_1d_or_2d(preds, self.num_outputs)
        me, m2e = F.batch_moments(target - preds)
        mt, m2t = F.batch_moments(target)
        self._add_batch({"total": target.shape[0], "mean_error": me, "m2_error": m2e, "mean_target": mt,
                         "m2_target": m2t})

    def compute(self) -> Tensor:
        return F.explained_variance_from_moments(self.m2_error, self.m2_target, self.multioutput)


class PearsonCorrCoef(_MomentMetric):
    """Pearson correlation coefficient (per output for ``num_outputs > 1``); ``nan`` with a warning
    when either input is constant."""

    is_differentiable = True
    higher_is_better = None  # both -1 and 1 are strong correlations
    _moments = (("mean_x", "var_x"), ("mean_y", "var_y"))
    _comoments = (("corr_xy", "mean_x", "mean_y"),)

    def __init__(self, num_outputs: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._init_states((), num_outputs)

    def update(self, preds: Tensor, target: Tensor) -> None:
        preds, target = F.as_float(preds), F.as_float(target)
        F.check_same_shape(preds, target)
        F.check_1d_or_2d(preds, self.num_outputs)
        mx, vx = F.batch_moments(preds)
        my, vy = F.batch_moments(target)
        self._add_batch({"total": target.shape[0], "mean_x": mx, "var_x": vx, "mean_y": my, "var_y": vy,
                         "corr_xy": ((preds - mx) * (target - my)).sum(0)})

    def compute(self) -> Tensor:
        return F.pearson_from_moments(self.var_x, self.var_y, self.corr_xy)


class SpearmanCorrCoef(Metric):
    """Spearman rank correlation (average ranks for ties; ``nan`` for constant inputs). Keeps all inputs."""

    is_differentiable = False
    higher_is_better = None
    full_state_update = False

    def __init__(self, num_outputs: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _check_num_outputs(num_outputs)
        self.num_outputs = num_outputs
        self.add_state("preds", [], dist_reduce_fx="cat")
        self.add_state("target", [], dist_reduce_fx="cat")

    def update(self, preds: Tensor, target: Tensor) -> None:
        preds, target = F.as_tensor(preds), F.as_tensor(target)
        F.check_spearman_inputs(preds, target)
        F.check_1d_or_2d(preds, self.num_outputs)
        self.preds.append(preds.detach())
        self.target.append(target.detach())

    def compute(self) -> Tensor:
        if not self.preds:
            return ember.full(() if self.num_outputs == 1 else (self.num_outputs,), float("nan"), device=self.device)
        return F.spearman_compute(dim_zero_cat(self.preds), dim_zero_cat(self.target))


class CosineSimilarity(Metric):
    """Cosine similarity of the rows of ``(N, D)`` inputs, reduced by ``reduction`` ("sum" default,
    "mean", "none"). Keeps all inputs."""

    is_differentiable = True
    higher_is_better = True
    full_state_update = False

    def __init__(self, reduction: str | None = "sum", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if reduction not in F.REDUCTIONS:
            raise ValueError(f"Expected reduction to be one of `['mean', 'sum', 'none', None]` but got {reduction}")
        self.reduction = reduction
        self.add_state("preds", [], dist_reduce_fx="cat")
        self.add_state("target", [], dist_reduce_fx="cat")

    def update(self, preds: Tensor, target: Tensor) -> None:
        preds, target = F.as_float(preds), F.as_float(target)
        F.check_cosine_inputs(preds, target, self.reduction)
        self.preds.append(preds)
        self.target.append(target)

    def compute(self) -> Tensor:
        if not self.preds:
            return ember.tensor(0.0, device=self.device) if self.reduction == "sum" else (
                ember.tensor(float("nan"), device=self.device) if self.reduction == "mean"
                else ember.zeros(0, device=self.device))
        return F.cosine_compute(dim_zero_cat(self.preds), dim_zero_cat(self.target), self.reduction)
