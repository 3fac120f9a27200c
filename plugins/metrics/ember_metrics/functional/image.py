"""Image quality metrics: peak signal-to-noise ratio and structural similarity (differentiable)."""
from __future__ import annotations

import math
import warnings
from typing import Sequence

import ember
from ember import Tensor

from .regression import as_float, check_same_shape

__all__ = ["peak_signal_noise_ratio", "structural_similarity_index_measure"]

IMAGE_REDUCTIONS = ("elementwise_mean", "sum", "none", None)


def check_reduction(reduction) -> None:
    if reduction not in IMAGE_REDUCTIONS:
        raise ValueError(f"Expected argument `reduction` to be one of {IMAGE_REDUCTIONS} but got {reduction}")


def reduce(x: Tensor, reduction) -> Tensor:
    """Reduce per-image values: "elementwise_mean", "sum" or none."""
    if reduction == "elementwise_mean":
        return x.mean()
    if reduction == "sum":
        return x.sum()
    return x


def _clamp_range(preds, target, data_range):
    """A ``(min, max)`` data range clamps both images and gives ``max - min``; a number is the range."""
    if isinstance(data_range, tuple):
        lo, hi = data_range
        return preds.clamp(lo, hi), target.clamp(lo, hi), float(hi - lo)
    return preds, target, data_range


# ---- PSNR --------------------------------------------------------------------------------------------------
def psnr_update(preds: Tensor, target: Tensor, dim=None) -> tuple[Tensor, Tensor]:
    """Sum of squared errors (over everything, or over ``dim`` per remaining index) and element counts."""
    diff = preds - target
    if dim is None:
        return (diff * diff).sum(), ember.tensor(target.numel(), device=target.device)
    dims = [dim] if isinstance(dim, int) else list(dim)
    sse = (diff * diff).sum(dim=tuple(dims))
    n = 1
    for d in dims:
        n *= target.shape[d]
    return sse, ember.full(sse.shape, n, dtype=ember.int64, device=target.device)


def psnr_compute(sse: Tensor, n: Tensor, data_range, base: float = 10.0, reduction="elementwise_mean") -> Tensor:
    """``10 log_base(range² / MSE)``: +inf for identical images."""
    if not isinstance(data_range, Tensor):
        data_range = ember.tensor(float(data_range), dtype=sse.dtype, device=sse.device)
    psnr_e = 2 * data_range.log() - (sse / n).log()
    return reduce(psnr_e * (10 / math.log(base)), reduction)


def peak_signal_noise_ratio(preds: Tensor, target: Tensor, data_range: float | tuple | None = None,
                            base: float = 10.0, reduction: str | None = "elementwise_mean",
                            dim: int | Sequence[int] | None = None) -> Tensor:
    """PSNR in dB (``base`` 10). ``data_range`` defaults to ``target.max() - target.min()``; with
    ``dim`` one PSNR per index of the other dims, reduced by ``reduction``.

    >>> peak_signal_noise_ratio(ember.tensor([[0.0, 1.0], [2.0, 3.0]]), ember.tensor([[3.0, 2.0], [1.0, 0.0]]))
    tensor(2.5527)
    """
    check_reduction(reduction)
    preds, target = as_float(preds), as_float(target)
    check_same_shape(preds, target)
    if dim is None and reduction != "elementwise_mean":
        warnings.warn(f"The `reduction={reduction}` will not have any effect when `dim` is None.", UserWarning,
                      stacklevel=2)
    if data_range is None:
        if dim is not None:
            raise ValueError("The `data_range` must be given when `dim` is not None.")
        data_range = target.max() - target.min()
    preds, target, data_range = _clamp_range(preds, target, data_range)
    sse, n = psnr_update(preds, target, dim)
    return psnr_compute(sse, n, data_range, base, reduction)


# ---- SSIM ----------------------------------------------------------------------------------------------------
def _pair(v, name: str):
    if isinstance(v, (int, float)):
        return (v, v)
    v = tuple(v)
    if len(v) != 2:
        raise ValueError(f"Expected `{name}` to be a number or a pair (one per spatial dimension), got {v}")
    return v


def gaussian_weights(size: int, sigma: float) -> list[float]:
    """Normalised 1-d Gaussian window of ``size`` taps centred on the middle one."""
    g = [math.exp(-0.5 * ((i - (size - 1) / 2) / sigma) ** 2) for i in range(size)]
    s = sum(g)
    return [x / s for x in g]


def _filter_valid(x: Tensor, wh: list[float], ww: list[float]) -> Tensor:
    """Separable 'valid' correlation of (N, C, H, W) ``x`` with the outer product of ``wh`` and ``ww``:
    one shifted slice per tap (the taps loop, every pixel is vectorised)."""
    h = x.shape[2] - len(wh) + 1
    rows = sum(w * x[:, :, i:i + h, :] for i, w in enumerate(wh))
    wdt = x.shape[3] - len(ww) + 1
    return sum(w * rows[:, :, :, j:j + wdt] for j, w in enumerate(ww))


def check_ssim_args(gaussian_kernel, sigma, kernel_size) -> tuple:
    ks = _pair(kernel_size, "kernel_size")
    sg = _pair(sigma, "sigma")
    if any(not isinstance(k, int) or k <= 0 or k % 2 == 0 for k in ks):
        raise ValueError(f"Expected `kernel_size` to have odd positive number. Got {kernel_size}.")
    if gaussian_kernel and any(s <= 0 for s in sg):
        raise ValueError(f"Expected `sigma` to have positive number. Got {sigma}.")
    return ks, sg


def ssim_per_image(preds: Tensor, target: Tensor, gaussian_kernel: bool = True, sigma=1.5, kernel_size=11,
                   data_range=None, k1: float = 0.01, k2: float = 0.03) -> Tensor:
    """Mean SSIM of each (N, C, H, W) image over the windows that lie inside it: shape (N,)."""
    preds, target = as_float(preds), as_float(target)
    if preds.ndim != 4:
        raise ValueError(f"Expected `preds` and `target` to have BxCxHxW shape. Got preds: {tuple(preds.shape)} "
                         f"and target: {tuple(target.shape)}.")
    check_same_shape(preds, target)
    if preds.dtype != target.dtype:
        raise TypeError(f"Expected `preds` and `target` to have the same data type. Got preds: {preds.dtype} and "
                        f"target: {target.dtype}.")
    (kh, kw), (sh, sw) = check_ssim_args(gaussian_kernel, sigma, kernel_size)
    if preds.shape[2] < kh or preds.shape[3] < kw:
        raise ValueError(f"Expected images of at least the kernel size {(kh, kw)}, got {tuple(preds.shape[2:])}")
    if data_range is None:
        data_range = ember.maximum(preds.max() - preds.min(), target.max() - target.min())
    preds, target, data_range = _clamp_range(preds, target, data_range)
    c1 = (k1 * data_range) ** 2
    c2 = (k2 * data_range) ** 2
    wh, ww = (gaussian_weights(kh, sh), gaussian_weights(kw, sw)) if gaussian_kernel else ([1 / kh] * kh,
                                                                                           [1 / kw] * kw)
    n = preds.shape[0]
    stats = _filter_valid(ember.cat([preds, target, preds * preds, target * target, preds * target]), wh, ww)
    mu_p, mu_t, e_pp, e_tt, e_pt = stats.split(n)
    mu_pp, mu_tt, mu_pt = mu_p * mu_p, mu_t * mu_t, mu_p * mu_t
    var_p = (e_pp - mu_pp).clamp(min=0.0)
    var_t = (e_tt - mu_tt).clamp(min=0.0)
    cov = e_pt - mu_pt
    ssim_map = ((2 * mu_pt + c1) * (2 * cov + c2)) / ((mu_pp + mu_tt + c1) * (var_p + var_t + c2))
    return ssim_map.reshape(n, -1).mean(-1)


def structural_similarity_index_measure(preds: Tensor, target: Tensor, gaussian_kernel: bool = True,
                                        sigma: float | Sequence[float] = 1.5,
                                        kernel_size: int | Sequence[int] = 11,
                                        reduction: str | None = "elementwise_mean",
                                        data_range: float | tuple | None = None, k1: float = 0.01,
                                        k2: float = 0.03) -> Tensor:
    """SSIM of (N, C, H, W) images (Wang et al. 2004) with an 11x11 Gaussian window (sigma 1.5).

    Windows are only placed fully inside the image. ``data_range`` defaults to the larger value range
    of ``preds`` and ``target``; ``reduction`` over images: "elementwise_mean", "sum", "none".
    """
    check_reduction(reduction)
    return reduce(ssim_per_image(preds, target, gaussian_kernel, sigma, kernel_size, data_range, k1, k2), reduction)
