"""Audio metrics: signal-to-noise ratio and scale-invariant signal-to-distortion ratio (in dB, along the
last dimension; differentiable)."""
from __future__ import annotations

from ember import Tensor

from ..utilities._array import eps_of
from .regression import as_float, check_same_shape

__all__ = ["signal_noise_ratio", "scale_invariant_signal_distortion_ratio"]


def _prepare(preds, target, zero_mean: bool):
    preds, target = as_float(preds), as_float(target)
    check_same_shape(preds, target)
    if zero_mean:
        preds = preds - preds.mean(-1, keepdim=True)
        target = target - target.mean(-1, keepdim=True)
    return preds, target, eps_of(preds)


def signal_noise_ratio(preds: Tensor, target: Tensor, zero_mean: bool = False) -> Tensor:
    """``10 log10(|target|² / |target - preds|²)`` per signal (shape: the leading dims).

    A machine epsilon is added to both energies, so a perfect estimate gives a large finite value.
    """
    preds, target, eps = _prepare(preds, target, zero_mean)
    noise = target - preds
    return 10 * (((target * target).sum(-1) + eps) / ((noise * noise).sum(-1) + eps)).log10()


def scale_invariant_signal_distortion_ratio(preds: Tensor, target: Tensor, zero_mean: bool = False) -> Tensor:
    """SI-SDR (Le Roux et al. 2019): the SNR of ``preds`` against its projection on ``target``,
    invariant to rescaling ``preds``."""
    preds, target, eps = _prepare(preds, target, zero_mean)
    alpha = ((preds * target).sum(-1, keepdim=True) + eps) / ((target * target).sum(-1, keepdim=True) + eps)
    scaled = alpha * target
    noise = scaled - preds
    return 10 * (((scaled * scaled).sum(-1) + eps) / ((noise * noise).sum(-1) + eps)).log10()
