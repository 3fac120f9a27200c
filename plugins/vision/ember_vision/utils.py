"""Image-grid helpers (``torchvision.utils``): :func:`make_grid` and :func:`save_image`.

    >>> from ember_vision.utils import make_grid, save_image
    >>> grid = make_grid(ember.rand(16, 3, 28, 28), nrow=4)   # (3, 122, 122)
    >>> save_image(ember.rand(16, 3, 28, 28), "samples.png", nrow=4)
"""
from __future__ import annotations

import math

import numpy as np
from PIL import Image

import ember
from ember import Tensor
from ember.plugins.arrays import array_module, from_array, to_array

__all__ = ["make_grid", "save_image"]


def make_grid(tensor, nrow: int = 8, padding: int = 2, normalize: bool = False, value_range=None,
              scale_each: bool = False, pad_value: float = 0.0) -> Tensor:
    """Tile a (B, C, H, W) batch (or a list of (C, H, W) images) into one (C, H', W') image.

    ``nrow`` images per row, ``padding`` pixels of ``pad_value`` around each. ``normalize`` shifts
    values into [0, 1] by ``value_range`` (default: the min and max, of each image if ``scale_each``).
    Single-channel images are repeated to 3 channels.
    """
    if not isinstance(tensor, Tensor):
        if isinstance(tensor, list):
            for t in tensor:
                if not isinstance(t, Tensor):
                    raise TypeError(f"tensor or list of tensors expected, got a list containing {type(t)}")
        else:
            raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
    if isinstance(tensor, list):
        tensor = ember.stack(tensor, dim=0)
    a, xp = to_array(tensor), array_module(tensor)
    if a.ndim == 2:  # a single (H, W) image
        a = a[None]
    if a.ndim == 3:  # a single (C, H, W) image
        if a.shape[0] == 1:
            a = xp.concatenate((a, a, a), 0)
        a = a[None]
    if a.ndim != 4:
        raise ValueError(f"make_grid expects a 2-, 3- or 4-dimensional tensor, got {a.ndim} dimensions")
    if a.shape[1] == 1:
        a = xp.concatenate((a, a, a), 1)

    if normalize:
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("value_range has to be a tuple (min, max) if specified. min and max are numbers")
        axes = (1, 2, 3) if scale_each else (0, 1, 2, 3)
        if value_range is not None:
            lo, hi = float(value_range[0]), float(value_range[1])
            a = a.clip(lo, hi)
            a = (a - a.dtype.type(lo)) / a.dtype.type(max(hi - lo, 1e-5))
        else:
            lo = a.min(axis=axes, keepdims=True)
            hi = a.max(axis=axes, keepdims=True)
            a = (a - lo) / xp.maximum(hi - lo, a.dtype.type(1e-5))
        a = a.astype(to_array(tensor).dtype, copy=False)

    if a.shape[0] == 1:
        return from_array(xp.ascontiguousarray(a[0]), tensor.device)

    nmaps, c, h, w = a.shape
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(float(nmaps) / xmaps))
    hp, wp = h + padding, w + padding
    # each image with its top/left padding, the batch padded to a full ymaps x xmaps grid, then tiled
    tiles = xp.full((ymaps * xmaps, c, hp, wp), pad_value, dtype=a.dtype)
    tiles[:nmaps, :, padding:, padding:] = a
    grid = tiles.reshape(ymaps, xmaps, c, hp, wp).transpose(2, 0, 3, 1, 4).reshape(c, ymaps * hp, xmaps * wp)
    out = xp.full((c, ymaps * hp + padding, xmaps * wp + padding), pad_value, dtype=a.dtype)
    out[:, :ymaps * hp, :xmaps * wp] = grid
    # cells after the last image keep pad_value, and so does everything outside the images
    return from_array(out, tensor.device)


def save_image(tensor, fp, format: str | None = None, **kwargs) -> None:
    """Save a tensor (or a batch, tiled by :func:`make_grid` with ``kwargs``) as an image file.

    Values are expected in [0, 1]; they are scaled to 0..255 and rounded.
    """
    grid = make_grid(tensor, **kwargs)
    arr = grid.numpy(force=True)
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float32)
    arr = np.clip(arr * arr.dtype.type(255) + arr.dtype.type(0.5), 0, 255).astype(np.uint8).transpose(1, 2, 0)
    Image.fromarray(np.ascontiguousarray(arr)).save(fp, format=format)
