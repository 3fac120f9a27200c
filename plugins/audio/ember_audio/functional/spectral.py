"""Spectrograms over ``ember.stft``/``ember.istft`` (torchaudio's ``spectrogram``, ``inverse_spectrogram``,
``griffinlim`` and ``phase_vocoder``)."""
from __future__ import annotations

import math
import warnings

import ember
import ember.nn.functional as F

__all__ = ["spectrogram", "inverse_spectrogram", "griffinlim", "phase_vocoder"]


def _spec_norms(normalized) -> tuple:
    """``(frame_length_norm, window_norm)`` from torchaudio's ``normalized`` (bool or a mode name)."""
    if isinstance(normalized, str):
        if normalized not in ("frame_length", "window"):
            raise ValueError(f"Invalid normalized parameter: {normalized} (expected 'frame_length' or 'window')")
        return normalized == "frame_length", normalized == "window"
    if isinstance(normalized, bool):
        return False, normalized
    raise TypeError(f"normalized must be a bool or 'frame_length'/'window', got {type(normalized).__name__}")


def _packed(x, n_last: int):
    """``x`` with its leading dimensions flattened into one (so empty batches keep working)."""
    shape = x.shape
    return x.reshape(math.prod(shape[:-n_last]), *shape[-n_last:])


def spectrogram(waveform, pad: int, window, n_fft: int, hop_length: int, win_length: int, power,
                normalized, center: bool = True, pad_mode: str = "reflect", onesided: bool = True,
                return_complex=None):
    """The STFT of a (..., time) waveform, (..., n_fft // 2 + 1, n_frames): ``|STFT| ** power``, or the
    complex STFT itself for ``power=None``.

    ``normalized``: ``True``/``"window"`` divides by the window's L2 norm, ``"frame_length"`` by
    ``sqrt(n_fft)``.

    >>> import ember_audio.functional as AF
    >>> x = ember.sin(ember.arange(800, dtype=ember.float32) * 0.3)
    >>> spec = AF.spectrogram(x, 0, ember.hann_window(400), 400, 200, 400, 2.0, False)
    >>> spec.shape, int(spec[:, 2].argmax())  # 0.3 rad/sample = bin 0.3 * 400 / (2 pi) ~ 19
    (ember.Size([201, 5]), 19)
    """
    if return_complex is not None:
        warnings.warn("`return_complex` argument is now deprecated and is not effective. "
                      "`spectrogram(power=None)` always returns a tensor with complex dtype.", stacklevel=2)
    if pad > 0:
        waveform = F.pad(waveform, (pad, pad), "constant")
    frame_length_norm, window_norm = _spec_norms(normalized)
    shape = waveform.shape
    spec = ember.stft(_packed(waveform, 1), n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                      window=window, center=center, pad_mode=pad_mode, normalized=frame_length_norm,
                      onesided=onesided, return_complex=True)
    spec = spec.reshape(*shape[:-1], *spec.shape[-2:])
    if window_norm:
        spec = spec / window.pow(2.0).sum().sqrt()
    if power is None:
        return spec
    return spec.abs() if power == 1.0 else spec.abs().pow(power)


def _complex_dtype(real_dtype):
    return ember.complex128 if real_dtype == ember.float64 else ember.complex64


def inverse_spectrogram(spectrogram, length, pad: int, window, n_fft: int, hop_length: int, win_length: int,
                        normalized, center: bool = True, pad_mode: str = "reflect", onesided: bool = True):
    """The waveform (..., time) of a complex (..., freq, frames) spectrogram: ``istft`` with the options
    that made it (``pad`` is removed again when ``length`` is given).

    >>> import ember_audio.functional as AF
    >>> w = ember.hann_window(64, dtype=ember.float64)
    >>> x = ember.sin(ember.arange(640, dtype=ember.float64) * 0.2)
    >>> spec = AF.spectrogram(x, 0, w, 64, 16, 64, None, False)
    >>> back = AF.inverse_spectrogram(spec, 640, 0, w, 64, 16, 64, False)
    >>> bool(ember.allclose(back, x, atol=1e-10))
    True
    """
    frame_length_norm, window_norm = _spec_norms(normalized)
    if not spectrogram.is_complex():
        raise ValueError("Expected `spectrogram` to be complex dtype.")
    if window_norm:
        spectrogram = spectrogram * window.pow(2.0).sum().sqrt()
    shape = spectrogram.shape
    waveform = ember.istft(_packed(spectrogram, 2), n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                           window=window, center=center, normalized=frame_length_norm, onesided=onesided,
                           length=length + 2 * pad if length is not None else None, return_complex=False)
    if length is not None and pad > 0:
        waveform = waveform[:, pad:-pad]
    return waveform.reshape(*shape[:-2], waveform.shape[-1])


def griffinlim(specgram, window, n_fft: int, hop_length: int, win_length: int, power: float, n_iter: int,
               momentum: float, length, rand_init: bool):
    """A waveform whose spectrogram magnitude is ``specgram ** (1 / power)``: Griffin-Lim phase retrieval
    with fast-Griffin-Lim momentum (initial phases random from Ember's generator, or zero).

    >>> import ember_audio.functional as AF
    >>> w = ember.hann_window(32)
    >>> spec = AF.spectrogram(ember.sin(ember.arange(320) * 0.3), 0, w, 32, 8, 32, 2.0, False)
    >>> AF.griffinlim(spec, w, 32, 8, 32, 2.0, 4, 0.99, 320, False).shape
    ember.Size([320])
    """
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum must be in range [0, 1). Found: {momentum}")
    momentum = momentum / (1 + momentum)
    shape = specgram.shape
    magnitude = _packed(specgram, 2).pow(1 / power)
    complex_dtype = _complex_dtype(magnitude.dtype)
    if rand_init:
        angles = ember.rand(magnitude.shape, dtype=complex_dtype, device=magnitude.device)
    else:
        angles = ember.ones(magnitude.shape, dtype=complex_dtype, device=magnitude.device)
    stft_args = dict(n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window)
    previous = None
    for _ in range(n_iter):
        inverse = ember.istft(magnitude * angles, length=length, **stft_args)
        rebuilt = ember.stft(inverse, center=True, pad_mode="reflect", normalized=False, onesided=True,
                             return_complex=True, **stft_args)
        # fast Griffin-Lim: step past the projection by the momentum times the last move
        angles = rebuilt if previous is None or not momentum else rebuilt - momentum * previous
        angles = angles / (angles.abs() + 1e-16)
        previous = rebuilt
    waveform = ember.istft(magnitude * angles, length=length, **stft_args)
    return waveform.reshape(*shape[:-2], waveform.shape[-1])


def phase_vocoder(complex_specgrams, rate: float, phase_advance):
    """Stretch a complex (..., freq, frames) spectrogram in time by ``1 / rate`` without changing pitch:
    magnitudes interpolate between neighbouring frames, phases advance by each bin's expected rotation
    (``phase_advance``, (freq, 1)) plus the measured deviation.

    >>> import ember_audio.functional as AF
    >>> spec = ember.polar(ember.ones(5, 10, dtype=ember.float64), ember.zeros(5, 10, dtype=ember.float64))
    >>> advance = ember.linspace(0, math.pi * 4, 5, dtype=ember.float64)[:, None]
    >>> AF.phase_vocoder(spec, 2.0, advance).shape
    ember.Size([5, 5])
    """
    if rate == 1.0:
        return complex_specgrams
    shape = complex_specgrams.shape
    flat = _packed(complex_specgrams, 2)
    magnitude, angle = flat.abs(), flat.angle()
    real_dtype = magnitude.dtype
    time_steps = ember.arange(0, shape[-1], rate, device=flat.device, dtype=real_dtype)
    alphas = time_steps % 1.0
    # two zero frames past the end: the last steps read frames t and t + 1 there (zero magnitude and angle)
    magnitude, padded_angle = F.pad(magnitude, [0, 2]), F.pad(angle, [0, 2])
    left, right = time_steps.long(), (time_steps + 1).long()
    angle_0, angle_1 = padded_angle.index_select(-1, left), padded_angle.index_select(-1, right)
    norm_0, norm_1 = magnitude.index_select(-1, left), magnitude.index_select(-1, right)
    deviation = angle_1 - angle_0 - phase_advance
    deviation = deviation - 2 * math.pi * ember.round(deviation / (2 * math.pi))  # wrapped to [-pi, pi]
    phase = ember.cat([angle[..., :1], (deviation + phase_advance)[..., :-1]], dim=-1)
    stretched = ember.polar(alphas * norm_1 + (1 - alphas) * norm_0, ember.cumsum(phase, -1))
    return stretched.reshape(*shape[:-2], *stretched.shape[1:])
