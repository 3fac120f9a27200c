"""Spectrogram modules: ``Spectrogram``, ``InverseSpectrogram``, ``GriffinLim``, ``MelSpectrogram``, ``MFCC``
and ``TimeStretch``."""
from __future__ import annotations

import math
import warnings

import ember
from ember import nn

from .. import functional as AF
from .amplitude import AmplitudeToDB
from .features import MelScale, freq_matmul

__all__ = ["Spectrogram", "InverseSpectrogram", "GriffinLim", "MelSpectrogram", "MFCC", "TimeStretch"]


def _frame_lengths(n_fft: int, win_length, hop_length) -> tuple:
    """torchaudio's defaults: the window spans ``n_fft``, the hop is half the window."""
    win_length = win_length if win_length is not None else n_fft
    return win_length, hop_length if hop_length is not None else win_length // 2


def _make_window(window_fn, win_length: int, wkwargs):
    return window_fn(win_length) if wkwargs is None else window_fn(win_length, **wkwargs)


_MFCC_TOP_DB = 80.0     # torchaudio's MFCC floors its dB mel spectrogram 80 dB under the peak
_LOG_MEL_OFFSET = 1e-6  # and log_mels=True takes log(mel + 1e-6)


class Spectrogram(nn.Module):
    """``|STFT| ** power`` of (..., time) audio, or the complex STFT for ``power=None``:
    (..., n_fft // 2 + 1, n_frames); the window is the buffer ``window`` (``window_fn(win_length, **wkwargs)``).

    >>> import ember_audio.transforms as T
    >>> T.Spectrogram(n_fft=64)(ember.zeros(2, 3, 320)).shape
    ember.Size([2, 3, 33, 11])
    """

    def __init__(self, n_fft: int = 400, win_length=None, hop_length=None, pad: int = 0, window_fn=ember.hann_window,
                 power=2.0, normalized=False, wkwargs=None, center: bool = True, pad_mode: str = "reflect",
                 onesided: bool = True, return_complex=None) -> None:
        super().__init__()
        self.n_fft = n_fft
        self.win_length, self.hop_length = _frame_lengths(n_fft, win_length, hop_length)
        self.register_buffer("window", _make_window(window_fn, self.win_length, wkwargs))
        self.pad, self.power, self.normalized = pad, power, normalized
        self.center, self.pad_mode, self.onesided = center, pad_mode, onesided
        if return_complex is not None:
            warnings.warn("`return_complex` argument is now deprecated and is not effective.", stacklevel=2)

    def forward(self, waveform):
        return AF.spectrogram(waveform, self.pad, self.window, self.n_fft, self.hop_length, self.win_length,
                              self.power, self.normalized, self.center, self.pad_mode, self.onesided)


class InverseSpectrogram(nn.Module):
    """The waveform of a complex (..., freq, frames) spectrogram, the inverse of ``Spectrogram(power=None)``
    with the same options; ``forward(spectrogram, length=None)``.

    >>> import ember_audio.transforms as T
    >>> x = ember.randn(2, 800, dtype=ember.float64)
    >>> spec = T.Spectrogram(n_fft=64, power=None)(x)
    >>> bool(ember.allclose(T.InverseSpectrogram(n_fft=64)(spec, length=800), x, atol=1e-6))
    True
    """

    def __init__(self, n_fft: int = 400, win_length=None, hop_length=None, pad: int = 0, window_fn=ember.hann_window,
                 normalized=False, wkwargs=None, center: bool = True, pad_mode: str = "reflect",
                 onesided: bool = True) -> None:
        super().__init__()
        self.n_fft = n_fft
        self.win_length, self.hop_length = _frame_lengths(n_fft, win_length, hop_length)
        self.register_buffer("window", _make_window(window_fn, self.win_length, wkwargs))
        self.pad, self.normalized = pad, normalized
        self.center, self.pad_mode, self.onesided = center, pad_mode, onesided

    def forward(self, spectrogram, length=None):
        return AF.inverse_spectrogram(spectrogram, length, self.pad, self.window, self.n_fft, self.hop_length,
                                      self.win_length, self.normalized, self.center, self.pad_mode, self.onesided)


class GriffinLim(nn.Module):
    """A waveform from a (..., freq, frames) magnitude or power spectrogram by Griffin-Lim phase retrieval.

    >>> import ember_audio.transforms as T
    >>> spec = T.Spectrogram(n_fft=64)(ember.sin(ember.arange(640) * 0.3))
    >>> T.GriffinLim(n_fft=64, n_iter=4, length=640)(spec).shape
    ember.Size([640])
    """

    def __init__(self, n_fft: int = 400, n_iter: int = 32, win_length=None, hop_length=None,
                 window_fn=ember.hann_window, power: float = 2.0, wkwargs=None, momentum: float = 0.99, length=None,
                 rand_init: bool = True) -> None:
        super().__init__()
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in the range [0, 1). Found: {momentum}")
        self.n_fft, self.n_iter = n_fft, n_iter
        self.win_length, self.hop_length = _frame_lengths(n_fft, win_length, hop_length)
        self.register_buffer("window", _make_window(window_fn, self.win_length, wkwargs))
        self.length, self.power, self.momentum, self.rand_init = length, power, momentum, rand_init

    def forward(self, specgram):
        return AF.griffinlim(specgram, self.window, self.n_fft, self.hop_length, self.win_length, self.power,
                             self.n_iter, self.momentum, self.length, self.rand_init)


class MelSpectrogram(nn.Module):
    """A :class:`Spectrogram` followed by a :class:`MelScale`: (..., time) -> (..., n_mels, n_frames).

    >>> import ember_audio.transforms as T
    >>> T.MelSpectrogram(sample_rate=16000, n_fft=256, n_mels=40)(ember.zeros(1, 1600)).shape
    ember.Size([1, 40, 13])
    """

    def __init__(self, sample_rate: int = 16000, n_fft: int = 400, win_length=None, hop_length=None,
                 f_min: float = 0.0, f_max=None, pad: int = 0, n_mels: int = 128, window_fn=ember.hann_window,
                 power: float = 2.0, normalized: bool = False, wkwargs=None, center: bool = True,
                 pad_mode: str = "reflect", onesided=None, norm=None, mel_scale: str = "htk") -> None:
        super().__init__()
        if onesided is not None:
            warnings.warn("Argument 'onesided' has been deprecated and has no influence on the behavior of "
                          "this module.", stacklevel=2)
        self.sample_rate, self.n_fft, self.n_mels = sample_rate, n_fft, n_mels
        self.win_length, self.hop_length = _frame_lengths(n_fft, win_length, hop_length)
        self.pad, self.power, self.normalized = pad, power, normalized
        self.f_min, self.f_max = f_min, f_max
        self.spectrogram = Spectrogram(n_fft=n_fft, win_length=self.win_length, hop_length=self.hop_length,
                                       pad=pad, window_fn=window_fn, power=power, normalized=normalized,
                                       wkwargs=wkwargs, center=center, pad_mode=pad_mode, onesided=True)
        self.mel_scale = MelScale(n_mels, sample_rate, f_min, f_max, n_fft // 2 + 1, norm, mel_scale)

    def forward(self, waveform):
        return self.mel_scale(self.spectrogram(waveform))


class MFCC(nn.Module):
    """Mel-frequency cepstral coefficients: the DCT-II (buffer ``dct_mat``) of the dB (or, with
    ``log_mels``, natural-log) mel spectrogram; ``melkwargs`` go to :class:`MelSpectrogram`.

    >>> import ember_audio.transforms as T
    >>> T.MFCC(sample_rate=16000, n_mfcc=13, melkwargs={"n_fft": 256, "n_mels": 40})(ember.zeros(1, 1600)).shape
    ember.Size([1, 13, 13])
    """

    def __init__(self, sample_rate: int = 16000, n_mfcc: int = 40, dct_type: int = 2, norm: str = "ortho",
                 log_mels: bool = False, melkwargs=None) -> None:
        super().__init__()
        if dct_type != 2:
            raise ValueError(f"DCT type not supported: {dct_type} (only 2)")
        self.sample_rate, self.n_mfcc, self.dct_type, self.norm = sample_rate, n_mfcc, dct_type, norm
        self.top_db = _MFCC_TOP_DB
        self.amplitude_to_DB = AmplitudeToDB("power", self.top_db)
        self.MelSpectrogram = MelSpectrogram(sample_rate=sample_rate, **(melkwargs or {}))
        if n_mfcc > self.MelSpectrogram.n_mels:
            raise ValueError(f"Cannot select more MFCC coefficients than # mel bins ({n_mfcc} > "
                             f"{self.MelSpectrogram.n_mels})")
        self.register_buffer("dct_mat", AF.create_dct(n_mfcc, self.MelSpectrogram.n_mels, norm))
        self.log_mels = log_mels

    def forward(self, waveform):
        mel = self.MelSpectrogram(waveform)
        mel = ember.log(mel + _LOG_MEL_OFFSET) if self.log_mels else self.amplitude_to_DB(mel)
        return freq_matmul(mel, self.dct_mat)


class TimeStretch(nn.Module):
    """Stretch a complex (..., freq, frames) spectrogram in time by ``1 / rate`` (``fixed_rate``, or the
    ``overriding_rate`` of a call) with the phase vocoder; pitch is kept.

    >>> import ember_audio.transforms as T
    >>> spec = T.Spectrogram(n_fft=64, power=None)(ember.randn(640))
    >>> T.TimeStretch(n_freq=33, fixed_rate=2.0)(spec).shape
    ember.Size([33, 11])
    """

    def __init__(self, hop_length=None, n_freq: int = 201, fixed_rate=None) -> None:
        super().__init__()
        self.fixed_rate = fixed_rate
        n_fft = (n_freq - 1) * 2
        hop_length = hop_length if hop_length is not None else n_fft // 2
        # each bin's expected phase rotation over one hop
        self.register_buffer("phase_advance", ember.linspace(0, math.pi * hop_length, n_freq)[..., None])

    def forward(self, complex_specgrams, overriding_rate=None):
        if not complex_specgrams.is_complex():
            warnings.warn("The input to TimeStretch must be complex type. Providing non-complex tensor produces "
                          "invalid results.", stacklevel=2)
        if overriding_rate is None:
            if self.fixed_rate is None:
                raise ValueError("If no fixed_rate is specified, must pass a valid rate to the forward method.")
            overriding_rate = self.fixed_rate
        return AF.phase_vocoder(complex_specgrams, overriding_rate, self.phase_advance)
