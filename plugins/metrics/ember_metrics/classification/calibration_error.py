"""CalibrationError (binary, multiclass): expected / RMS / maximum calibration error.

States: the confidences and correctness of every sample ("cat"); see
:mod:`ember_metrics.functional.classification.calibration_error` for the binning.
"""
from __future__ import annotations

from typing import Any

import ember
from ember import Tensor

from ..functional.classification import _inputs as I
from ..functional.classification import _calibration_error as F
from ..functional.classification._curves import _float_preds
from ..metric import Metric
from ..utilities._array import arr, wrap, array_module
from ..utilities.data import dim_zero_cat
from .base import _ClassificationTaskWrapper, build_for_task

__all__ = ["BinaryCalibrationError", "MulticlassCalibrationError", "CalibrationError"]


class _Calibration(Metric):
    is_differentiable = False
    higher_is_better = False
    full_state_update = False

    def _init_states(self, n_bins, norm, ignore_index, validate_args) -> None:
        if validate_args:
            F.check_calibration_args(n_bins, norm, ignore_index)
        self.n_bins, self.norm, self.ignore_index, self.validate_args = n_bins, norm, ignore_index, validate_args
        self.add_state("confidences", [], dist_reduce_fx="cat")
        self.add_state("accuracies", [], dist_reduce_fx="cat")

    def _append(self, xp_conf, xp_acc, device) -> None:
        self.confidences.append(wrap(xp_conf, device))
        self.accuracies.append(wrap(xp_acc, device))

    def compute(self) -> Tensor:
        if not self.confidences:
            return ember.tensor(0.0, device=self.device)
        conf, acc = dim_zero_cat(self.confidences), dim_zero_cat(self.accuracies)
        return wrap(F.calibration_error_compute(array_module(conf), arr(conf), arr(acc), self.n_bins, self.norm),
                    conf.device)


class BinaryCalibrationError(_Calibration):
    """Calibration error of binary probabilities (``norm`` "l1" = ECE, "l2" = RMSCE, "max" = MCE)."""

    def __init__(self, n_bins: int = 15, norm: str = "l1", ignore_index: int | None = None,
                 validate_args: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._init_states(n_bins, norm, ignore_index, validate_args)

    def update(self, preds: Tensor, target: Tensor) -> None:
        preds, target = I.as_tensor(preds), I.as_tensor(target)
        if self.validate_args:
            I.validate_binary(preds, target, "global", self.ignore_index)
            _float_preds(preds)
        _, conf, acc = F.binary_confidences(preds, target, self.ignore_index)
        self._append(conf, acc, target.device)


class MulticlassCalibrationError(_Calibration):
    """Calibration error of the top-class probability."""

    def __init__(self, num_classes: int, n_bins: int = 15, norm: str = "l1", ignore_index: int | None = None,
                 validate_args: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if validate_args:
            I.check_num(num_classes, "num_classes")
        self.num_classes = num_classes
        self._init_states(n_bins, norm, ignore_index, validate_args)

    def update(self, preds: Tensor, target: Tensor) -> None:
        preds, target = I.as_tensor(preds), I.as_tensor(target)
        if self.validate_args:
            I.validate_multiclass(preds, target, self.num_classes, "global", self.ignore_index, scores_only=True)
        _, conf, acc = F.multiclass_confidences(preds, target, self.num_classes, self.ignore_index)
        self._append(conf, acc, target.device)


class CalibrationError(_ClassificationTaskWrapper):
    """Calibration error for ``task`` in "binary", "multiclass"."""

    _classes = (BinaryCalibrationError, MulticlassCalibrationError, None)

    def __new__(cls, task: str, n_bins: int = 15, norm: str = "l1", num_classes: int | None = None,
                ignore_index: int | None = None, validate_args: bool = True, **kwargs: Any):
        common = dict(n_bins=n_bins, norm=norm, ignore_index=ignore_index, validate_args=validate_args)
        return build_for_task(task, cls._classes, num_classes, None,
                              common, common, None, kwargs)
