"""Amplitude scales: decibels, gain and mu-law companding (torchaudio's names)."""
from __future__ import annotations

import ember

__all__ = ["amplitude_to_DB", "DB_to_amplitude", "gain", "mu_law_encoding", "mu_law_decoding"]


def amplitude_to_DB(x, multiplier: float, amin: float, db_multiplier: float, top_db=None):
    """``multiplier * log10(max(x, amin)) - multiplier * db_multiplier`` (10 for power, 20 for magnitude).

    ``top_db`` floors each spectrogram at ``top_db`` below its own peak; the peak is taken over the last
    three dimensions (channel, freq, time) of a batch, the last two of a single spectrogram.

    >>> import ember_audio.functional as AF
    >>> AF.amplitude_to_DB(ember.tensor([[1.0, 0.1, 1e-3]]), 10.0, 1e-10, 0.0, top_db=25.0)
    tensor([[  0., -10., -25.]])
    """
    x_db = multiplier * ember.log10(ember.clamp(x, min=amin))
    x_db = x_db - multiplier * db_multiplier
    if top_db is None:
        return x_db
    shape = x_db.shape
    channels = shape[-3] if x_db.dim() > 2 else 1
    packed = x_db.reshape(-1, channels, shape[-2], shape[-1])
    floor = (packed.amax(dim=(-3, -2, -1)) - top_db).reshape(-1, 1, 1, 1)
    return ember.maximum(packed, floor).reshape(shape)


def DB_to_amplitude(x, ref: float, power: float):
    """Decibels back to amplitude: ``ref * (10 ** (x / 10)) ** power`` (``power=0.5`` for magnitudes).

    >>> import ember_audio.functional as AF
    >>> AF.DB_to_amplitude(ember.tensor([0.0, 20.0]), 1.0, 0.5)
    tensor([ 1., 10.])
    """
    return ref * ember.pow(ember.pow(10.0, 0.1 * x), power)


def gain(waveform, gain_db: float = 1.0):
    """Amplify ``waveform`` by ``gain_db`` decibels (no clipping).

    >>> import ember_audio.functional as AF
    >>> AF.gain(ember.tensor([0.1, -0.2]), 20.0)
    tensor([ 1., -2.])
    """
    if gain_db == 0:
        return waveform
    return waveform * 10 ** (gain_db / 20)


def _as_float(x):
    return x if x.is_floating_point() else x.to(ember.float32)


def mu_law_encoding(x, quantization_channels: int):
    """Mu-law compand a signal in [-1, 1] to integers in ``[0, quantization_channels)`` (int64).

    >>> import ember_audio.functional as AF
    >>> AF.mu_law_encoding(ember.tensor([-1.0, -0.01, 0.0, 0.5, 1.0]), 256)
    tensor([  0,  98, 128, 239, 255])
    """
    x = _as_float(x)
    mu = ember.tensor(quantization_channels - 1.0, dtype=x.dtype)
    x_mu = ember.sign(x) * ember.log1p(mu * ember.abs(x)) / ember.log1p(mu)
    return ((x_mu + 1) / 2 * mu + 0.5).to(ember.int64)


def mu_law_decoding(x_mu, quantization_channels: int):
    """Invert :func:`mu_law_encoding`: integers in ``[0, quantization_channels)`` back to [-1, 1].

    >>> import ember_audio.functional as AF
    >>> AF.mu_law_decoding(ember.tensor([0, 98, 255]), 256)
    tensor([-1.0000, -0.0102,  1.0000])
    """
    x_mu = _as_float(x_mu)
    mu = ember.tensor(quantization_channels - 1.0, dtype=x_mu.dtype)
    x = x_mu / mu * 2 - 1.0
    return ember.sign(x) * (ember.exp(ember.abs(x) * ember.log1p(mu)) - 1.0) / mu
