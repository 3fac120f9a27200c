"""Aggregation metrics: running mean, sum, max, min and concatenation of values.

``nan_strategy`` decides what happens to NaN inputs: ``"error"`` raises, ``"warn"`` (default)
warns and drops them, ``"ignore"`` drops them silently, ``"disable"`` does no check (NaNs
propagate), a float replaces them (for ``MeanMetric`` a NaN weight is replaced by 1).

>>> m = MeanMetric()
>>> m.update(ember.tensor([1.0, 2.0])); m.update(3.0)
>>> m.compute()
tensor(2.)
"""
from __future__ import annotations

import warnings
from typing import Any, Callable

import ember
from ember import Tensor

from .metric import Metric
from .utilities.data import dim_zero_cat

__all__ = ["BaseAggregator", "MeanMetric", "SumMetric", "MaxMetric", "MinMetric", "CatMetric"]

_NAN_STRATEGIES = ("error", "warn", "ignore", "disable")


class BaseAggregator(Metric):
    """Shared input handling (casting, NaN strategy) of the aggregation metrics."""

    is_differentiable = None
    higher_is_better = None
    full_state_update = False

    def __init__(self, fn: str | Callable, default_value: Tensor | list, nan_strategy: str | float = "warn",
                 state_name: str = "value", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if nan_strategy not in _NAN_STRATEGIES and not isinstance(nan_strategy, float):
            raise ValueError(f"Arg `nan_strategy` should either be a float or one of {_NAN_STRATEGIES} but got "
                             f"{nan_strategy}.")
        self.nan_strategy = nan_strategy
        self._dtype = ember.get_default_dtype()
        self.add_state(state_name, default=default_value, dist_reduce_fx=fn)
        self.state_name = state_name

    def _cast_and_nan_check_input(self, x, weight=None) -> tuple[Tensor, Tensor]:
        """``x`` (and ``weight``, default ones) as float tensors on the metric's device, NaNs handled."""
        state = getattr(self, self.state_name)
        dtype = state.dtype if isinstance(state, Tensor) else self._dtype
        x = ember.as_tensor(x, device=self.device) if not isinstance(x, Tensor) else x
        x = x.detach().to(dtype)
        weight = ember.ones_like(x) if weight is None else ember.broadcast_to(
            ember.as_tensor(weight, device=self.device).detach().to(dtype), x.shape)
        if self.nan_strategy == "disable":
            return x, weight
        nans = ember.isnan(x) | ember.isnan(weight)
        if bool(nans.any()):
            if self.nan_strategy == "error":
                raise RuntimeError("Encountered `nan` values in tensor")
            if self.nan_strategy in ("warn", "ignore"):
                if self.nan_strategy == "warn":
                    warnings.warn("Encountered `nan` values in tensor. Will be removed.", UserWarning, stacklevel=3)
                keep = ~nans
                return x[keep], weight[keep]
            x = ember.where(nans, ember.full_like(x, self.nan_strategy), x)
            weight = ember.where(nans, ember.ones_like(weight), weight)
        return x, weight

    def update(self, value) -> None:
        raise NotImplementedError

    def compute(self) -> Tensor:
        return getattr(self, self.state_name)


class MaxMetric(BaseAggregator):
    """The largest value seen (``-inf`` before any value).

    >>> m = MaxMetric(); m.update(ember.tensor([1.0, 5.0])); m.compute()
    tensor(5.)
    """

    higher_is_better = True

    def __init__(self, nan_strategy: str | float = "warn", **kwargs: Any) -> None:
        super().__init__("max", ember.tensor(-float("inf")), nan_strategy, state_name="max_value", **kwargs)

    def update(self, value) -> None:
        value, _ = self._cast_and_nan_check_input(value)
        if value.numel():
            self.max_value = ember.maximum(self.max_value, value.amax())


class MinMetric(BaseAggregator):
    """The smallest value seen (``inf`` before any value)."""

    higher_is_better = False

    def __init__(self, nan_strategy: str | float = "warn", **kwargs: Any) -> None:
        super().__init__("min", ember.tensor(float("inf")), nan_strategy, state_name="min_value", **kwargs)

    def update(self, value) -> None:
        value, _ = self._cast_and_nan_check_input(value)
        if value.numel():
            self.min_value = ember.minimum(self.min_value, value.amin())


class SumMetric(BaseAggregator):
    """The sum of all values seen."""

    def __init__(self, nan_strategy: str | float = "warn", **kwargs: Any) -> None:
        super().__init__("sum", ember.tensor(0.0), nan_strategy, state_name="sum_value", **kwargs)

    def update(self, value) -> None:
        value, _ = self._cast_and_nan_check_input(value)
        if value.numel():
            self.sum_value = self.sum_value + value.sum()


class CatMetric(BaseAggregator):
    """All values seen, flattened and concatenated (an empty 1-d tensor before any value)."""

    def __init__(self, nan_strategy: str | float = "warn", **kwargs: Any) -> None:
        super().__init__("cat", [], nan_strategy, state_name="value", **kwargs)

    def update(self, value) -> None:
        value, _ = self._cast_and_nan_check_input(value)
        if value.numel():
            self.value.append(value.reshape(-1))

    def compute(self) -> Tensor:
        if not self.value:
            return ember.zeros(0, dtype=self._dtype, device=self.device)
        return dim_zero_cat(self.value)


class MeanMetric(BaseAggregator):
    """The (weighted) mean of all values seen: ``sum(value * weight) / sum(weight)``.

    ``weight`` broadcasts to ``value``'s shape. Before any value the result is ``nan`` (0 / 0).
    """

    def __init__(self, nan_strategy: str | float = "warn", **kwargs: Any) -> None:
        super().__init__("sum", ember.tensor(0.0), nan_strategy, state_name="mean_value", **kwargs)
        self.add_state("weight", default=ember.tensor(0.0), dist_reduce_fx="sum")

    def update(self, value, weight=1.0) -> None:
        value, weight = self._cast_and_nan_check_input(value, weight)
        if value.numel() == 0:
            return
        self.mean_value = self.mean_value + (value * weight).sum()
        self.weight = self.weight + weight.sum()

    def compute(self) -> Tensor:
        return self.mean_value / self.weight
