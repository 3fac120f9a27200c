"""Image metrics: PeakSignalNoiseRatio, StructuralSimilarityIndexMeasure."""
from __future__ import annotations

import warnings
from typing import Any, Sequence

import ember
from ember import Tensor

from ..functional import image as F
from ..functional.regression import as_float, check_same_shape
from ..metric import Metric
from ..utilities.data import dim_zero_cat

__all__ = ["PeakSignalNoiseRatio", "StructuralSimilarityIndexMeasure"]


class PeakSignalNoiseRatio(Metric):
    """PSNR in dB over everything seen (or one per index outside ``dim``, reduced by ``reduction``).

    Without ``data_range`` the range is ``max - min`` of all targets seen (tracked as min/max
    states, so it also works across batches and processes); ``dim`` requires ``data_range``.
    ``data_range`` may be ``(min, max)``: inputs are clamped to it.
    """

    is_differentiable = True
    higher_is_better = True
    full_state_update = False

    def __init__(self, data_range: float | tuple | None = None, base: float = 10.0,
                 reduction: str | None = "elementwise_mean", dim: int | Sequence[int] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        F.check_reduction(reduction)
        if dim is None and reduction != "elementwise_mean":
            warnings.warn(f"The `reduction={reduction}` will not have any effect when `dim` is None.", UserWarning,
                          stacklevel=2)
        if data_range is None and dim is not None:
            raise ValueError("The `data_range` must be given when `dim` is not None.")
        self.data_range, self.base, self.reduction, self.dim = data_range, base, reduction, dim
        if dim is None:
            self.add_state("sum_squared_error", ember.tensor(0.0), dist_reduce_fx="sum")
            self.add_state("total", ember.tensor(0), dist_reduce_fx="sum")
        else:
            self.add_state("sum_squared_error", [], dist_reduce_fx="cat")
            self.add_state("total", [], dist_reduce_fx="cat")
        if data_range is None:
            self.add_state("min_target", ember.tensor(float("inf")), dist_reduce_fx="min")
            self.add_state("max_target", ember.tensor(-float("inf")), dist_reduce_fx="max")

    def update(self, preds: Tensor, target: Tensor) -> None:
        preds, target = as_float(preds), as_float(target)
        check_same_shape(preds, target)
        if isinstance(self.data_range, tuple):
            preds, target, _ = F._clamp_range(preds, target, self.data_range)
        sse, n = F.psnr_update(preds, target, self.dim)
        if self.dim is None:
            self.sum_squared_error = self.sum_squared_error + sse.to(self.sum_squared_error.dtype)
            self.total = self.total + n
        else:
            self.sum_squared_error.append(sse)
            self.total.append(n)
        if self.data_range is None and target.numel():
            self.min_target = ember.minimum(self.min_target, target.detach().min().to(self.min_target.dtype))
            self.max_target = ember.maximum(self.max_target, target.detach().max().to(self.max_target.dtype))

    def compute(self) -> Tensor:
        if self.data_range is None:
            data_range = self.max_target - self.min_target
        else:
            data_range = self.data_range[1] - self.data_range[0] if isinstance(self.data_range, tuple) \
                else self.data_range
        if self.dim is None:
            return F.psnr_compute(self.sum_squared_error, self.total, data_range, self.base, self.reduction)
        return F.psnr_compute(dim_zero_cat(self.sum_squared_error), dim_zero_cat(self.total), data_range, self.base,
                              self.reduction)


class StructuralSimilarityIndexMeasure(Metric):
    """Mean SSIM of (N, C, H, W) images (11x11 Gaussian window, sigma 1.5, ``k1``, ``k2``).

    Without ``data_range`` each batch uses the larger value range of its ``preds`` and ``target``.
    ``reduction`` over images: "elementwise_mean" (default), "sum", "none" (keeps one value per image).
    """

    is_differentiable = True
    higher_is_better = True
    full_state_update = False

    def __init__(self, gaussian_kernel: bool = True, sigma: float | Sequence[float] = 1.5,
                 kernel_size: int | Sequence[int] = 11, reduction: str | None = "elementwise_mean",
                 data_range: float | tuple | None = None, k1: float = 0.01, k2: float = 0.03,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        F.check_reduction(reduction)
        F.check_ssim_args(gaussian_kernel, sigma, kernel_size)
        self.gaussian_kernel, self.sigma, self.kernel_size = gaussian_kernel, sigma, kernel_size
        self.reduction, self.data_range, self.k1, self.k2 = reduction, data_range, k1, k2
        if reduction in ("elementwise_mean", "sum"):
            self.add_state("similarity", ember.tensor(0.0), dist_reduce_fx="sum")
        else:
            self.add_state("similarity", [], dist_reduce_fx="cat")
        self.add_state("total", ember.tensor(0), dist_reduce_fx="sum")

    def update(self, preds: Tensor, target: Tensor) -> None:
        per_image = F.ssim_per_image(preds, target, self.gaussian_kernel, self.sigma, self.kernel_size,
                                     self.data_range, self.k1, self.k2)
        if isinstance(self.similarity, list):
            self.similarity.append(per_image)
        else:
            self.similarity = self.similarity + per_image.sum().to(self.similarity.dtype)
        self.total = self.total + per_image.shape[0]

    def compute(self) -> Tensor:
        if self.reduction == "elementwise_mean":
            return self.similarity / self.total
        if self.reduction == "sum":
            return self.similarity
        return dim_zero_cat(self.similarity) if self.similarity else ember.zeros(0, device=self.device)
