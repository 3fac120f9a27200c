"""Mel filter banks and the DCT matrix (torchaudio's ``melscale_fbanks``, ``linear_fbanks``, ``create_dct``).

Both are constant matrices: they are built in float64 with NumPy and returned as float32 tensors, the
dtype torchaudio returns them in.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

import ember

__all__ = ["melscale_fbanks", "linear_fbanks", "create_dct"]

_MEL_SCALES = ("htk", "slaney")
# Slaney's scale: linear below 1 kHz (3 mels per 200 Hz), logarithmic above (27 mels per factor 6.4)
_SLANEY_HZ_PER_MEL = 200.0 / 3
_SLANEY_BREAK_HZ = 1000.0
_SLANEY_BREAK_MEL = _SLANEY_BREAK_HZ / _SLANEY_HZ_PER_MEL
_SLANEY_LOGSTEP = math.log(6.4) / 27.0


def _check_scale(mel_scale: str) -> None:
    if mel_scale not in _MEL_SCALES:
        raise ValueError(f'mel_scale should be one of "htk" or "slaney" (got {mel_scale!r})')


def hz_to_mel(freq: float, mel_scale: str = "htk") -> float:
    """One frequency in Hz on the mel scale.

    >>> round(hz_to_mel(1000.0), 2), round(hz_to_mel(1000.0, "slaney"), 2)
    (999.99, 15.0)
    """
    _check_scale(mel_scale)
    if mel_scale == "htk":
        return 2595.0 * math.log10(1.0 + freq / 700.0)
    if freq < _SLANEY_BREAK_HZ:
        return freq / _SLANEY_HZ_PER_MEL
    return _SLANEY_BREAK_MEL + math.log(freq / _SLANEY_BREAK_HZ) / _SLANEY_LOGSTEP


def mel_to_hz(mels, mel_scale: str = "htk"):
    """Mels (a NumPy array) back to Hz.

    >>> mel_to_hz([0.0, 15.0], "slaney")
    array([   0., 1000.])
    """
    _check_scale(mel_scale)
    mels = np.asarray(mels, dtype=np.float64)
    if mel_scale == "htk":
        return 700.0 * (10.0 ** (mels / 2595.0) - 1.0)
    linear = mels * _SLANEY_HZ_PER_MEL
    log = _SLANEY_BREAK_HZ * np.exp(_SLANEY_LOGSTEP * (mels - _SLANEY_BREAK_MEL))
    return np.where(mels >= _SLANEY_BREAK_MEL, log, linear)


def _triangles(all_freqs, f_pts):
    """(n_freqs, n_filters) triangles rising from ``f_pts[i]`` to ``f_pts[i+1]`` and back to ``f_pts[i+2]``."""
    f_diff = np.diff(f_pts)
    slopes = f_pts[None, :] - all_freqs[:, None]
    down = -slopes[:, :-2] / f_diff[:-1]
    up = slopes[:, 2:] / f_diff[1:]
    return np.maximum(0.0, np.minimum(down, up))


def _warn_empty(fb, what: str) -> None:
    if (fb.max(axis=0) == 0.0).any():
        warnings.warn(f"At least one {what} filterbank has all zero values. The value for `n_{what}s` "
                      f"({fb.shape[1]}) may be set too high. Or, the value for `n_freqs` ({fb.shape[0]}) "
                      "may be set too low.", stacklevel=3)


def melscale_fbanks(n_freqs: int, f_min: float, f_max: float, n_mels: int, sample_rate: int,
                    norm=None, mel_scale: str = "htk"):
    """The ``(n_freqs, n_mels)`` triangular mel filter bank; ``spec.transpose(-1, -2) @ fb`` applies it.

    ``norm="slaney"`` divides each triangle by its width in Hz (constant energy per filter).

    >>> import ember_audio.functional as AF
    >>> fb = AF.melscale_fbanks(201, 0.0, 8000.0, 40, 16000)
    >>> fb.shape, fb.dtype
    (ember.Size([201, 40]), ember.float32)
    """
    if norm is not None and norm != "slaney":
        raise ValueError(f'norm must be one of None or "slaney" (got {norm!r})')
    _check_scale(mel_scale)
    all_freqs = np.linspace(0, sample_rate // 2, n_freqs)
    m_pts = np.linspace(hz_to_mel(f_min, mel_scale), hz_to_mel(f_max, mel_scale), n_mels + 2)
    f_pts = mel_to_hz(m_pts, mel_scale)
    fb = _triangles(all_freqs, f_pts)
    if norm == "slaney":
        fb = fb * (2.0 / (f_pts[2:n_mels + 2] - f_pts[:n_mels]))[None, :]
    _warn_empty(fb, "mel")
    return ember.tensor(fb, dtype=ember.float32)


def linear_fbanks(n_freqs: int, f_min: float, f_max: float, n_filter: int, sample_rate: int):
    """The ``(n_freqs, n_filter)`` bank of triangles evenly spaced in Hz (for LFCCs).

    >>> import ember_audio.functional as AF
    >>> AF.linear_fbanks(201, 0.0, 8000.0, 20, 16000).shape
    ember.Size([201, 20])
    """
    all_freqs = np.linspace(0, sample_rate // 2, n_freqs)
    fb = _triangles(all_freqs, np.linspace(f_min, f_max, n_filter + 2))
    return ember.tensor(fb, dtype=ember.float32)


def create_dct(n_mfcc: int, n_mels: int, norm=None):
    """The ``(n_mels, n_mfcc)`` DCT-II matrix; ``norm="ortho"`` makes it orthonormal, ``None`` scales by 2.

    >>> import ember_audio.functional as AF
    >>> d = AF.create_dct(13, 40, "ortho")
    >>> d.shape, bool(ember.allclose(d.T @ d, ember.eye(13), atol=1e-5))
    (ember.Size([40, 13]), True)
    """
    if norm is not None and norm != "ortho":
        raise ValueError(f'norm must be either "ortho" or None (got {norm!r})')
    n = np.arange(n_mels, dtype=np.float64)
    k = np.arange(n_mfcc, dtype=np.float64)[:, None]
    dct = np.cos(math.pi / n_mels * (n + 0.5) * k)  # (n_mfcc, n_mels)
    if norm is None:
        dct *= 2.0
    else:
        dct[0] *= 1.0 / math.sqrt(2.0)
        dct *= math.sqrt(2.0 / n_mels)
    return ember.tensor(dct.T, dtype=ember.float32)
