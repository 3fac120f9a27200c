"""Amplitude modules: decibels, mu-law, volume and fades."""
from __future__ import annotations

import math

import ember
from ember import nn

from .. import functional as AF

__all__ = ["AmplitudeToDB", "MuLawEncoding", "MuLawDecoding", "Vol", "Fade"]

_AMIN = 1e-10  # the floor under the log, as in torchaudio


class AmplitudeToDB(nn.Module):
    """Power (``stype="power"``) or magnitude (``"magnitude"``) spectrograms to decibels, optionally floored
    ``top_db`` below each spectrogram's peak.

    >>> import ember_audio.transforms as T
    >>> T.AmplitudeToDB("magnitude")(ember.tensor([1.0, 10.0]))
    tensor([ 0., 20.])
    """

    def __init__(self, stype: str = "power", top_db=None) -> None:
        super().__init__()
        if stype not in ("power", "magnitude"):
            raise ValueError(f'stype must be "power" or "magnitude" (got {stype!r})')
        if top_db is not None and top_db < 0:
            raise ValueError("top_db must be positive value")
        self.stype, self.top_db = stype, top_db
        self.multiplier = 10.0 if stype == "power" else 20.0
        self.amin = _AMIN
        self.ref_value = 1.0
        self.db_multiplier = math.log10(max(self.amin, self.ref_value))

    def forward(self, x):
        return AF.amplitude_to_DB(x, self.multiplier, self.amin, self.db_multiplier, self.top_db)


class MuLawEncoding(nn.Module):
    """Mu-law encode a signal in [-1, 1] into ``quantization_channels`` int64 levels.

    >>> import ember_audio.transforms as T
    >>> T.MuLawEncoding(256)(ember.tensor([-1.0, 0.0, 1.0]))
    tensor([  0, 128, 255])
    """

    def __init__(self, quantization_channels: int = 256) -> None:
        super().__init__()
        self.quantization_channels = quantization_channels

    def forward(self, x):
        return AF.mu_law_encoding(x, self.quantization_channels)


class MuLawDecoding(nn.Module):
    """Decode mu-law levels back to [-1, 1].

    >>> import ember_audio.transforms as T
    >>> T.MuLawDecoding(256)(ember.tensor([0, 255]))
    tensor([-1.,  1.])
    """

    def __init__(self, quantization_channels: int = 256) -> None:
        super().__init__()
        self.quantization_channels = quantization_channels

    def forward(self, x_mu):
        return AF.mu_law_decoding(x_mu, self.quantization_channels)


_GAIN_TYPES = ("amplitude", "power", "db")


class Vol(nn.Module):
    """Scale a waveform by ``gain`` (an amplitude ratio, a power ratio or decibels) and clip to [-1, 1].

    >>> import ember_audio.transforms as T
    >>> T.Vol(6.0, "db")(ember.tensor([0.1, 0.9]))
    tensor([0.1995, 1.0000])
    """

    def __init__(self, gain: float, gain_type: str = "amplitude") -> None:
        super().__init__()
        if gain_type not in _GAIN_TYPES:
            raise ValueError(f"gain_type must be one of {', '.join(_GAIN_TYPES)} (got {gain_type!r})")
        if gain_type in ("amplitude", "power") and gain < 0:
            raise ValueError("If gain_type = amplitude or power, gain must be positive.")
        self.gain, self.gain_type = gain, gain_type

    def forward(self, waveform):
        if self.gain_type == "amplitude":
            waveform = waveform * self.gain
        elif self.gain_type == "db":
            waveform = AF.gain(waveform, self.gain)
        else:
            waveform = AF.gain(waveform, 10 * math.log10(self.gain))
        return ember.clamp(waveform, -1, 1)


# each shape as (fade-in curve, fade-out curve) of a ramp r going 0 -> 1 over the fade
_FADES = {
    "linear": (lambda r: r, lambda r: 1 - r),
    "exponential": (lambda r: ember.pow(2, r - 1) * r, lambda r: ember.pow(2, -r) * (1 - r)),
    "logarithmic": (lambda r: ember.log10(0.1 + r) + 1, lambda r: ember.log10(1.1 - r) + 1),
    "quarter_sine": (lambda r: ember.sin(r * math.pi / 2), lambda r: ember.sin(r * math.pi / 2 + math.pi / 2)),
    "half_sine": (lambda r: ember.sin(r * math.pi - math.pi / 2) / 2 + 0.5,
                  lambda r: ember.sin(r * math.pi + math.pi / 2) / 2 + 0.5),
}


class Fade(nn.Module):
    """Fade a (..., time) waveform in over its first ``fade_in_len`` samples and out over its last
    ``fade_out_len``, with one of the shapes linear, exponential, logarithmic, quarter_sine, half_sine.

    >>> import ember_audio.transforms as T
    >>> T.Fade(fade_in_len=3, fade_out_len=2)(ember.ones(6))
    tensor([0.0000, 0.5000, 1.0000, 1.0000, 1.0000, 0.0000])
    """

    def __init__(self, fade_in_len: int = 0, fade_out_len: int = 0, fade_shape: str = "linear") -> None:
        super().__init__()
        if fade_shape not in _FADES:
            raise ValueError(f"fade_shape must be one of {', '.join(_FADES)} (got {fade_shape!r})")
        self.fade_in_len, self.fade_out_len, self.fade_shape = fade_in_len, fade_out_len, fade_shape

    def _envelope(self, length: int, device):
        fade_in, fade_out = _FADES[self.fade_shape]
        # float32 like torchaudio's envelope; a float64 waveform promotes it when multiplied
        ramp_in = ember.linspace(0, 1, self.fade_in_len, device=device)
        ramp_out = ember.linspace(0, 1, self.fade_out_len, device=device)
        ones_in = ember.ones(length - self.fade_in_len, device=device)
        ones_out = ember.ones(length - self.fade_out_len, device=device)
        env_in = ember.cat((fade_in(ramp_in), ones_in)).clamp(0, 1)
        env_out = ember.cat((ones_out, fade_out(ramp_out))).clamp(0, 1)
        return env_in * env_out

    def forward(self, waveform):
        return self._envelope(waveform.shape[-1], waveform.device) * waveform
