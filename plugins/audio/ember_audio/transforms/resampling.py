"""Resampling modules: ``Resample`` (kernel built once), ``Speed`` and ``SpeedPerturbation``."""
from __future__ import annotations

import numpy as np

import ember
from ember import nn

from ..functional import resampling as R

__all__ = ["Resample", "Speed", "SpeedPerturbation"]


class Resample(nn.Module):
    """Resample (..., time) signals from ``orig_freq`` to ``new_freq``; the windowed-sinc kernel is built
    once, in ``dtype`` (float32 by default; built in float64 then), as the non-persistent buffer ``kernel``.

    >>> import ember_audio.transforms as T
    >>> T.Resample(44100, 16000)(ember.zeros(2, 4410)).shape
    ember.Size([2, 1600])
    """

    def __init__(self, orig_freq: int = 16000, new_freq: int = 16000, resampling_method: str = "sinc_interp_hann",
                 lowpass_filter_width: int = 6, rolloff: float = 0.99, beta=None, *, dtype=None) -> None:
        super().__init__()
        self.orig_freq, self.new_freq = orig_freq, new_freq
        self.resampling_method = resampling_method
        self.lowpass_filter_width, self.rolloff, self.beta = lowpass_filter_width, rolloff, beta
        R._check_positive(orig_freq, new_freq)
        if orig_freq == new_freq:
            return
        self._orig, self._new = R._reduced(orig_freq, new_freq)
        # without a dtype, torchaudio builds the kernel in float64 from float32 phases and stores float32
        kernel, self.width = R._kernel_tensor(self._orig, self._new, lowpass_filter_width, rolloff,
                                              resampling_method, beta, dtype or ember.float64, None,
                                              phase_dtype=None if dtype else np.float32)
        self.register_buffer("kernel", kernel.to(dtype or ember.float32), persistent=False)

    def forward(self, waveform):
        if self.orig_freq == self.new_freq:
            return waveform
        return R.apply_resample_kernel(waveform, self._orig, self._new, self.kernel, self.width)


class Speed(nn.Module):
    """Play (..., time) audio ``factor`` times faster by resampling; returns ``(waveform, lengths)``.

    >>> import ember_audio.transforms as T
    >>> out, lengths = T.Speed(16000, 0.5)(ember.zeros(1, 100), ember.tensor([100]))
    >>> out.shape, lengths
    (ember.Size([1, 200]), tensor([200]))
    """

    def __init__(self, orig_freq: int, factor: float) -> None:
        super().__init__()
        self.orig_freq, self.factor = orig_freq, factor
        self.source_sample_rate, self.target_sample_rate = R.speed_ratio(orig_freq, factor)
        self.resampler = Resample(orig_freq=self.source_sample_rate, new_freq=self.target_sample_rate)

    def forward(self, waveform, lengths=None):
        out_lengths = R.scaled_lengths(lengths, self.source_sample_rate, self.target_sample_rate)
        return self.resampler(waveform), out_lengths


class SpeedPerturbation(nn.Module):
    """Apply a :class:`Speed` whose factor is drawn uniformly from ``factors`` (Ember's generator) per call.

    >>> import ember_audio.transforms as T
    >>> _ = ember.manual_seed(0)
    >>> out, _ = T.SpeedPerturbation(16000, [0.9, 1.1, 1.0])(ember.zeros(1, 1600))
    >>> out.shape[-1] in (1778, 1455, 1600)
    True
    """

    def __init__(self, orig_freq: int, factors) -> None:
        super().__init__()
        self.speeders = nn.ModuleList([Speed(orig_freq=orig_freq, factor=f) for f in factors])

    def forward(self, waveform, lengths=None):
        idx = int(ember.randint(len(self.speeders), ()))
        return self.speeders[idx](waveform, lengths)
