"""SpecAugment modules: ``FrequencyMasking`` and ``TimeMasking`` (random from Ember's generator)."""
from __future__ import annotations

import ember
from ember import nn

from .. import functional as AF

__all__ = ["FrequencyMasking", "TimeMasking"]


class _AxisMasking(nn.Module):
    """Masks along ``axis`` counted in a (channel, freq, time) spectrogram: 1 is freq, 2 is time."""

    def __init__(self, mask_param: int, axis: int, iid_masks: bool, p: float = 1.0) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"The value of p must be between 0.0 and 1.0 ({p} given).")
        self.mask_param, self.axis, self.iid_masks, self.p = mask_param, axis, iid_masks, p

    def forward(self, specgram, mask_value: float = 0.0):
        axis = self.axis + specgram.dim() - 3
        if self.iid_masks:  # one mask per leading index (example and channel)
            return AF.mask_along_axis_iid(specgram, self.mask_param, mask_value, axis, p=self.p)
        if isinstance(mask_value, ember.Tensor):
            mask_value = float(mask_value)
        return AF.mask_along_axis(specgram, self.mask_param, mask_value, axis, p=self.p)


class FrequencyMasking(_AxisMasking):
    """Zero (or ``mask_value``) a random band of up to ``freq_mask_param - 1`` frequency rows.

    >>> import ember_audio.transforms as T
    >>> _ = ember.manual_seed(0)
    >>> out = T.FrequencyMasking(freq_mask_param=6)(ember.ones(1, 20, 5))
    >>> int((out[0, :, 0] == 0).sum()) < 6
    True
    """

    def __init__(self, freq_mask_param: int, iid_masks: bool = False) -> None:
        super().__init__(freq_mask_param, 1, iid_masks)


class TimeMasking(_AxisMasking):
    """Zero (or ``mask_value``) a random span of up to ``time_mask_param - 1`` frames (at most ``p`` of them).

    >>> import ember_audio.transforms as T
    >>> _ = ember.manual_seed(0)
    >>> out = T.TimeMasking(time_mask_param=6, iid_masks=True)(ember.ones(3, 1, 4, 20))
    >>> out.shape
    ember.Size([3, 1, 4, 20])
    """

    def __init__(self, time_mask_param: int, iid_masks: bool = False, p: float = 1.0) -> None:
        super().__init__(time_mask_param, 2, iid_masks, p)
