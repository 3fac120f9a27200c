"""Magnitude spectrograms (torchaudio's ``spectrogram`` for a real ``power``).

Each frame's DFT is a product with the windowed DFT basis (cosines and negated sines side by side, one
GEMM for both parts), which is differentiable through Ember's matmul. Complex spectrograms
(``power=None``), their inverse, Griffin-Lim and the phase vocoder need complex tensors and
``ember.stft``; until the core has them, ``power=None`` raises.
"""
from __future__ import annotations

import functools
import math

import numpy as np

import ember
import ember.nn.functional as F

__all__ = ["spectrogram"]


def hann_window(window_length: int, periodic: bool = True, *, dtype=None, device=None):
    """``ember.hann_window`` where the core has it; otherwise the same window: ``sin(pi n / N)^2``.

    >>> hann_window(4)
    tensor([0.0000, 0.5000, 1.0000, 0.5000])
    """
    core = getattr(ember, "hann_window", None)
    if core is not None:
        return core(window_length, periodic, dtype=dtype, device=device)
    denom = window_length if periodic else window_length - 1
    n = np.arange(window_length, dtype=np.float64)
    values = np.sin(math.pi * n / max(denom, 1)) ** 2 if window_length > 1 else np.ones(window_length)
    return ember.tensor(values, dtype=dtype or ember.float32, device=device)


def _spec_norms(normalized) -> tuple:
    """``(frame_length_norm, window_norm)`` from torchaudio's ``normalized`` (bool or a mode name)."""
    if isinstance(normalized, str):
        if normalized not in ("frame_length", "window"):
            raise ValueError(f"Invalid normalized parameter: {normalized} (expected 'frame_length' or 'window')")
        return normalized == "frame_length", normalized == "window"
    if isinstance(normalized, bool):
        return False, normalized
    raise TypeError(f"normalized must be a bool or 'frame_length'/'window', got {type(normalized).__name__}")


@functools.lru_cache(maxsize=16)
def _dft_basis(n_fft: int, n_bins: int) -> np.ndarray:
    """``(n_fft, 2 * n_bins)`` float64: ``cos`` then ``-sin`` of ``2 pi n k / n_fft`` (angles reduced exactly)."""
    nk = np.outer(np.arange(n_fft), np.arange(n_bins)) % n_fft
    angle = 2 * math.pi * nk / n_fft
    return np.concatenate([np.cos(angle), -np.sin(angle)], axis=1)


def _padded_window(window, n_fft: int):
    """The window centred in ``n_fft`` samples, as ``torch.stft`` places a shorter one."""
    win_length = window.shape[0]
    if win_length > n_fft:
        raise RuntimeError(f"stft: expected 0 < win_length <= n_fft, but got win_length={win_length} and n_fft={n_fft}")
    left = (n_fft - win_length) // 2
    return F.pad(window, (left, n_fft - win_length - left))


def _frames(signal, n_fft: int, hop_length: int, center: bool, pad_mode: str):
    """(batch, n_frames, n_fft) frames of a (batch, time) signal, padded by ``n_fft // 2`` when centred."""
    if center:
        half = n_fft // 2
        signal = F.pad(signal[:, None], (half, half), mode=pad_mode)[:, 0]
    if signal.shape[-1] < n_fft:
        raise RuntimeError(f"stft: the padded input has {signal.shape[-1]} samples, fewer than n_fft={n_fft}")
    return signal.unfold(-1, n_fft, hop_length)


def _stft_parts(signal, window, n_fft, hop_length, center, pad_mode, onesided, frame_length_norm):
    """Real and imaginary parts, each (batch, n_bins, n_frames), of ``torch.stft`` of ``signal``."""
    n_bins = n_fft // 2 + 1 if onesided else n_fft
    basis = ember.tensor(_dft_basis(n_fft, n_bins), dtype=signal.dtype, device=signal.device)
    basis = _padded_window(window.to(signal.dtype), n_fft)[:, None] * basis
    if frame_length_norm:
        basis = basis * (1.0 / math.sqrt(n_fft))
    frames = _frames(signal, n_fft, hop_length, center, pad_mode)
    batch, n_frames = frames.shape[:2]
    # one 2-D GEMM over every frame of the batch (a batched matmul of 3-D operands is slower)
    spec = (frames.reshape(batch * n_frames, n_fft) @ basis).reshape(batch, n_frames, 2 * n_bins)
    spec = spec.transpose(-1, -2)
    return spec[:, :n_bins], spec[:, n_bins:]


def spectrogram(waveform, pad: int, window, n_fft: int, hop_length: int, win_length: int, power,
                normalized, center: bool = True, pad_mode: str = "reflect", onesided: bool = True,
                return_complex=None):
    """``|STFT(waveform)| ** power`` of a (..., time) waveform: (..., n_fft // 2 + 1, n_frames).

    ``normalized``: ``True``/``"window"`` divides by the window's L2 norm, ``"frame_length"`` by
    ``sqrt(n_fft)``. ``power=None`` (the complex STFT) needs complex tensors, which Ember lacks for now.

    >>> import ember_audio.functional as AF
    >>> x = ember.sin(ember.arange(800, dtype=ember.float32) * 0.3)
    >>> spec = AF.spectrogram(x, 0, hann_window(400), 400, 200, 400, 2.0, False)
    >>> spec.shape, int(spec[:, 2].argmax())  # 0.3 rad/sample = bin 0.3 * 400 / (2 pi) ~ 19
    (ember.Size([201, 5]), 19)
    """
    if power is None:
        raise NotImplementedError("spectrogram(power=None) returns the complex STFT, which needs complex "
                                  "tensors (ember.stft); pass power=1.0 (magnitude) or 2.0 (power)")
    if pad > 0:
        waveform = F.pad(waveform, (pad, pad), "constant")
    frame_length_norm, window_norm = _spec_norms(normalized)
    shape = waveform.shape
    signal = waveform.reshape(math.prod(shape[:-1]), shape[-1])
    real, imag = _stft_parts(signal, window, n_fft, hop_length, center, pad_mode, onesided, frame_length_norm)
    energy = real * real + imag * imag
    if window_norm:
        energy = energy / window.to(energy.dtype).pow(2.0).sum()
    energy = energy.reshape(*shape[:-1], *energy.shape[-2:])
    if power == 2.0:
        return energy
    return ember.sqrt(energy) if power == 1.0 else energy.pow(power / 2)
