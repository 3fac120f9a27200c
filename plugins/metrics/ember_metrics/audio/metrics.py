"""Audio metrics: SignalNoiseRatio, ScaleInvariantSignalDistortionRatio (mean over signals, in dB)."""
from __future__ import annotations

from typing import Any

import ember
from ember import Tensor

from ..functional import audio as F
from ..metric import Metric

__all__ = ["SignalNoiseRatio", "ScaleInvariantSignalDistortionRatio"]


class _MeanOverSignals(Metric):
    is_differentiable = True
    higher_is_better = True
    full_state_update = False
    _fn = staticmethod(F.signal_noise_ratio)

    def __init__(self, zero_mean: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(zero_mean, bool):
            raise ValueError(f"Expected argument `zero_mean` to be a bool, but got {zero_mean}")
        self.zero_mean = zero_mean
        self.add_state("sum_value", ember.tensor(0.0), dist_reduce_fx="sum")
        self.add_state("total", ember.tensor(0), dist_reduce_fx="sum")

    def update(self, preds: Tensor, target: Tensor) -> None:
        values = self._fn(preds, target, zero_mean=self.zero_mean)
        self.sum_value = self.sum_value + values.sum().to(self.sum_value.dtype)
        self.total = self.total + values.numel()

    def compute(self) -> Tensor:
        return self.sum_value / self.total


class SignalNoiseRatio(_MeanOverSignals):
    """Mean SNR (dB) of signals along the last dimension (``zero_mean`` removes each signal's mean first)."""

    _fn = staticmethod(F.signal_noise_ratio)


class ScaleInvariantSignalDistortionRatio(_MeanOverSignals):
    """Mean SI-SDR (dB) of signals along the last dimension."""

    _fn = staticmethod(F.scale_invariant_signal_distortion_ratio)
