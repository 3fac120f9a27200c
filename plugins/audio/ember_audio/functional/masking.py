"""SpecAugment masks along the frequency or time axis (torchaudio's ``mask_along_axis(_iid)``).

Mask widths and starts are drawn from Ember's default generator (``ember.manual_seed`` makes them
repeatable); they follow torchaudio's distributions, not its random stream.
"""
from __future__ import annotations

import ember

__all__ = ["mask_along_axis", "mask_along_axis_iid"]


def _check(dim: int, axis: int, p: float, min_dim: int, what: str) -> None:
    if dim < min_dim:
        raise ValueError(f"Spectrogram must have at least {what} ({dim} given).")
    if axis not in (dim - 2, dim - 1):
        raise ValueError(f"Only Frequency and Time masking are supported (axis {dim - 2} and axis {dim - 1} "
                         f"supported; {axis} given).")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"The value of p must be between 0.0 and 1.0 ({p} given).")


def _mask_param(mask_param: int, p: float, axis_length: int) -> int:
    """The largest mask width: ``mask_param``, capped at ``p`` of the axis when ``p < 1``."""
    return mask_param if p == 1.0 else min(mask_param, int(axis_length * p))


def _draw(shape, mask_param: int, axis_length: int, dtype):
    """Starts and ends (int64) of masks of width ~U[0, mask_param) starting ~U[0, length - width)."""
    width = ember.rand(shape, dtype=dtype) * mask_param
    start = ember.rand(shape, dtype=dtype) * (axis_length - width)
    return start.long(), start.long() + width.long()


def _spans(x, axis: int, mask_param: int, p: float, iid: bool):
    """``(start, end, positions)``: the masks drawn over ``x``'s ``axis`` (one per example and channel when
    ``iid``, else one for all) and the positions along it; ``None`` when the widest mask allowed is under one
    step (nothing is masked, and nothing is drawn)."""
    dim = x.dim()
    _check(dim, axis, p, *((3, "three dimensions") if iid else (2, "two dimensions (time and frequency)")))
    length = x.shape[axis]
    mask_param = _mask_param(mask_param, p, length)
    if mask_param < 1:
        return None
    # iid: one draw per example and channel, in the input's dtype; shared: one float32 draw
    shape, dtype = (x.shape[:dim - 2], x.dtype) if iid else ((1,), ember.float32)
    start, end = _draw(shape, mask_param, length, dtype)
    return start, end, ember.arange(0, length, device=x.device, dtype=x.dtype)


def mask_along_axis_iid(specgrams, mask_param: int, mask_value: float, axis: int, p: float = 1.0):
    """One mask per example and channel of ``specgrams`` (batch, channel, freq, time) along ``axis`` (2 or 3).

    >>> import ember_audio.functional as AF
    >>> _ = ember.manual_seed(0)
    >>> out = AF.mask_along_axis_iid(ember.ones(4, 1, 8, 10), 5, 0.0, axis=3)
    >>> out.shape, bool(((out == 0).sum(-1) < 5).all())
    (ember.Size([4, 1, 8, 10]), True)
    """
    spans = _spans(specgrams, axis, mask_param, p, iid=True)
    if spans is None:
        return specgrams
    start, end, idx = spans
    masked = specgrams.transpose(axis, -1)
    masked = masked.masked_fill((idx >= start[..., None, None]) & (idx < end[..., None, None]), mask_value)
    return masked.transpose(axis, -1)


def mask_along_axis(specgram, mask_param: int, mask_value: float, axis: int, p: float = 1.0):
    """One mask, shared by every example and channel, over ``axis`` (``dim - 2``: freq, ``dim - 1``: time).

    >>> import ember_audio.functional as AF
    >>> _ = ember.manual_seed(0)
    >>> out = AF.mask_along_axis(ember.ones(2, 8, 10), 4, 0.0, axis=1)
    >>> bool((out[0] == out[1]).all()), int((out[0, :, 0] == 0).sum()) < 4
    (True, True)
    """
    spans = _spans(specgram, axis, mask_param, p, iid=False)
    if spans is None:
        return specgram
    start, end, idx = spans
    mask = (idx >= start) & (idx < end)
    if axis == specgram.dim() - 2:
        mask = mask.unsqueeze(-1)
    return specgram.masked_fill(mask, mask_value)
