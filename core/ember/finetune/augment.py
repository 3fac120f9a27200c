"""Augmentation presets, applied to batches of preprocessed images ``(N, C, H, W)`` during training only.

They draw from Ember's generator, which the trainer reseeds every epoch, so augmented runs stay
reproducible. ``light``: a horizontal flip with probability 1/2 and a shift of up to 1/8 of the size
(edge pixels repeated).

>>> x = ember.arange(16.0).reshape(1, 1, 4, 4)
>>> PRESETS["light"](x).shape
ember.Size([1, 1, 4, 4])
"""
from __future__ import annotations

from typing import Callable

from .. import cat, rand, randint, where
from ..nn import functional as F

__all__ = ["PRESETS", "get_preset"]


def light(x):
    n, _, h, w = x.shape
    flip = (rand(n) < 0.5).reshape(n, 1, 1, 1)
    x = where(flip, x.flip(-1), x)
    p = max(1, min(h, w) // 8)
    padded = F.pad(x, (p, p, p, p), mode="replicate")
    dy, dx = randint(0, 2 * p + 1, (n,)).tolist(), randint(0, 2 * p + 1, (n,)).tolist()
    return cat([padded[i:i + 1, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(n)])


PRESETS: dict[str, Callable] = {"light": light}


def get_preset(name: str | None, modality: str | None) -> Callable | None:
    """The preset ``name`` (``None``/``"none"``: no augmentation); presets are for image data."""
    if name in (None, "none"):
        return None
    if modality != "image":
        raise ValueError(f"--augment {name}: augmentation presets work on images; this data's modality is "
                         f"{modality!r} (use --augment none)")
    return PRESETS[name]
