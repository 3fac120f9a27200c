"""Feature modules over spectrograms: ``MelScale`` and ``ComputeDeltas``."""
from __future__ import annotations

import math

from ember import nn

from .. import functional as AF

__all__ = ["MelScale", "ComputeDeltas"]


def freq_matmul(specgram, matrix):
    """(..., freq, time) spectrogram times a (freq, out) matrix: (..., out, time).

    One 2-D GEMM over every (example, frame) row: a batched matmul of transposed 3-D operands is much
    slower, and this is the hot step of MelSpectrogram and MFCC.
    """
    *lead, n_freq, n_time = specgram.shape
    rows = specgram.transpose(-1, -2).reshape(math.prod(lead) * n_time, n_freq)
    out = rows @ matrix.to(specgram.dtype)
    return out.reshape(*lead, n_time, matrix.shape[-1]).transpose(-1, -2)


class MelScale(nn.Module):
    """Map a (..., n_stft, time) spectrogram onto ``n_mels`` mel bands (the filter bank is the buffer ``fb``).

    >>> import ember_audio.transforms as T
    >>> T.MelScale(n_mels=40, sample_rate=16000, n_stft=201)(ember.ones(2, 201, 7)).shape
    ember.Size([2, 40, 7])
    """

    def __init__(self, n_mels: int = 128, sample_rate: int = 16000, f_min: float = 0.0, f_max=None,
                 n_stft: int = 201, norm=None, mel_scale: str = "htk") -> None:
        super().__init__()
        self.n_mels, self.sample_rate = n_mels, sample_rate
        self.f_max = f_max or float(sample_rate // 2)
        self.f_min, self.norm, self.mel_scale = f_min, norm, mel_scale
        if f_min > self.f_max:
            raise ValueError(f"Require f_min: {f_min} <= f_max: {self.f_max}")
        fb = AF.melscale_fbanks(n_stft, self.f_min, self.f_max, self.n_mels, self.sample_rate, norm, mel_scale)
        self.register_buffer("fb", fb)

    def forward(self, specgram):
        return freq_matmul(specgram, self.fb)


class ComputeDeltas(nn.Module):
    """Delta coefficients of a (..., freq, time) spectrogram along time (see ``functional.compute_deltas``).

    >>> import ember_audio.transforms as T
    >>> T.ComputeDeltas(win_length=3)(ember.tensor([[0.0, 2.0, 4.0]]))
    tensor([[1., 2., 1.]])
    """

    def __init__(self, win_length: int = 5, mode: str = "replicate") -> None:
        super().__init__()
        self.win_length, self.mode = win_length, mode

    def forward(self, specgram):
        return AF.compute_deltas(specgram, win_length=self.win_length, mode=self.mode)
