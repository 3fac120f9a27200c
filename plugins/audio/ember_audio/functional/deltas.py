"""Delta (time-derivative) coefficients of a spectrogram (torchaudio's ``compute_deltas``)."""
from __future__ import annotations

import math

import ember.nn.functional as F

__all__ = ["compute_deltas"]


def compute_deltas(specgram, win_length: int = 5, mode: str = "replicate"):
    """Regression deltas along the last dimension: ``sum_k k (x[t+k] - x[t-k]) / (2 sum_k k^2)``.

    ``win_length`` (odd, >= 3) counts the frames each delta reads; the edges are padded with ``mode``.

    >>> import ember_audio.functional as AF
    >>> AF.compute_deltas(ember.tensor([[0.0, 1.0, 2.0, 3.0, 4.0]]), win_length=3)
    tensor([[0.5000, 1.0000, 1.0000, 1.0000, 0.5000]])
    """
    if win_length < 3:
        raise ValueError(f"Window length should be greater than or equal to 3. Found win_length {win_length}")
    shape = specgram.shape
    n = (win_length - 1) // 2
    denom = n * (n + 1) * (2 * n + 1) / 3
    length = shape[-1]
    padded = F.pad(specgram.reshape(1, math.prod(shape[:-1]), length), (n, n), mode=mode)
    # the filter is antisymmetric: pair the taps +k and -k
    out = sum(k * (padded[..., n + k:n + k + length] - padded[..., n - k:n - k + length])
              for k in range(1, n + 1))
    return (out / denom).reshape(shape)
