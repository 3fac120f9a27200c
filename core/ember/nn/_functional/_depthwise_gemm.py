"""Depthwise 2-D convolution on small feature maps as one batched GEMM per direction.

On a small map most of the k*k shifted views of ``_depthwise.py`` are border and padding, and each
view costs two NumPy passes however few elements it has (a 5x5 kernel on a 2x2 map: 25 taps for 4
outputs). Here each channel's convolution is a dense (H*W, Ho*Wo) matrix ``M_c`` built from its
kernel by one gather through a per-geometry index map, and the convolution of every sample is
``x_c @ M_c`` for all channels at once (C GEMMs of (N, H*W) x (H*W, Ho*Wo)). The matrix has
H*W*Ho*Wo entries against k*k*Ho*Wo multiply-adds of the direct form, so it wins only on small maps:
:func:`dense_cost` estimates where it wins. Measured (float32, one thread, batch 32): 5x5 on 8x8 with 240
channels 22 -> 4.2 ms, 5x5 on 2x2 with 1152 channels 28 -> 1.0 ms, 5x5 on 4x4 with 672 channels 35 -> 2.8 ms;
3x3 on 10x10 and larger maps go to the shifted views or the banded rows of ``_depthwise_rows.py`` (480
channels at 10x10, batch 16: 11 ms with the views, 29 ms here).

The adjoints are GEMMs too: the input gradient is ``g_c @ M_c^T``; the weight gradient is
``dM_c = x_c^T @ g_c`` summed back onto the kernel taps, a GEMM with the index map's one-hot matrix.
"""
from __future__ import annotations

import functools
import math

import numpy as np

__all__ = ["dense_cost", "small_depthwise_conv", "small_depthwise_conv_input_grad",
           "small_depthwise_conv_weight_grad"]

# The dense form's cost per plane is H*W*Ho*Wo / _FACTOR in the shifted views' unit (_depthwise.views_cost).
# Fitted on Lite0/MobileNetV2 layers (float32, one thread, batch 16-32; dense time / views time): 5x5 on 5x5
# 0.24, 5x5 on 10x10 stride 2 0.38, 5x5 on 10x10 0.98, 3x3 on 7x7 1.7, 3x3 on 10x10 2.6, 5x5 on 20x20 9.6.
_FACTOR = 3
_MAX_MATRIX_BYTES = 32 << 20  # never build more than this for the C dense matrices


def dense_cost(geom, itemsize: int = 4) -> float:
    """Estimated cost of the dense per-channel form per plane (see ``_FACTOR``); infinite where the C
    matrices would be too large."""
    hw, howo = math.prod(geom.size), math.prod(geom.out)
    if geom.C * hw * howo * itemsize > _MAX_MATRIX_BYTES:
        return math.inf
    return hw * howo / _FACTOR


@functools.lru_cache(maxsize=64)
def _index_map(size: tuple, k: tuple, s: tuple, d: tuple, lo: tuple, out: tuple) -> np.ndarray:
    """(H*W, Ho*Wo) array: the kernel tap linking input position to output position, or k*k (none)."""
    (h, w), (kh, kw), (ho, wo) = size, k, out
    i, j, r, c = np.meshgrid(np.arange(kh), np.arange(kw), np.arange(ho), np.arange(wo), indexing="ij")
    rows = r * s[0] - lo[0] + i * d[0]
    cols = c * s[1] - lo[1] + j * d[1]
    inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
    idx = np.full((h * w, ho * wo), kh * kw, np.intp)
    idx[(rows * w + cols)[inside], (r * wo + c)[inside]] = (i * kw + j)[inside]
    return idx


@functools.lru_cache(maxsize=16)
def _one_hot(size: tuple, k: tuple, s: tuple, d: tuple, lo: tuple, out: tuple, dtype: np.dtype) -> np.ndarray:
    """(H*W*Ho*Wo, k*k): row e is one-hot at entry e's kernel tap (all zero where it has none)."""
    idx = _index_map(size, k, s, d, lo, out).reshape(-1)
    kk = math.prod(k)
    hot = np.zeros((idx.size, kk + 1), dtype)
    hot[np.arange(idx.size), idx] = 1
    return hot[:, :kk]


def _geometry_key(geom) -> tuple:
    return geom.size, geom.k, geom.s, geom.d, geom.lo, geom.out


def _matrices(xp, w, geom, dtype):
    """The (C, H*W, Ho*Wo) dense operators of the C kernels ``w`` (C, 1, kh, kw), in ``dtype``."""
    c = w.shape[0]
    taps = xp.concatenate([w.reshape(c, -1).astype(dtype, copy=False), xp.zeros((c, 1), dtype)], axis=1)
    idx = _index_map(*_geometry_key(geom))
    return taps[:, idx if xp is np else xp.asarray(idx)]


def _channel_major(a):
    """(N, C, *spatial) -> a (C, N, prod(spatial)) view (strided; matmul reads it as it is)."""
    return a.reshape(a.shape[0], a.shape[1], math.prod(a.shape[2:])).transpose(1, 0, 2)


def _sample_major(xp, a, shape):
    """(C, N, L) -> a fresh C-contiguous (N, C, *spatial) array."""
    return xp.ascontiguousarray(a.transpose(1, 0, 2)).reshape(shape)


def small_depthwise_conv(xp, x, w, b, geom):
    """Depthwise convolution of ``x`` (N, C, H, W) with ``w`` (C, 1, kh, kw), bias (C,) or None."""
    n = x.shape[0]
    out = xp.matmul(_channel_major(x), _matrices(xp, w, geom, np.result_type(x.dtype, w.dtype)))
    if b is not None:
        out += b.reshape(-1, 1, 1)
    return _sample_major(xp, out, (n, geom.C) + geom.out)


def small_depthwise_conv_input_grad(xp, g, w, geom):
    """Adjoint in the input: a fresh (N, C, H, W) array from ``g`` (N, C, Ho, Wo)."""
    m = _matrices(xp, w, geom, np.result_type(g.dtype, w.dtype))
    return _sample_major(xp, xp.matmul(_channel_major(g), m.transpose(0, 2, 1)), (g.shape[0], geom.C) + geom.size)


def small_depthwise_conv_weight_grad(xp, x, g, geom):
    """Weight gradient: a fresh (C, 1, kh, kw) array."""
    dtype = np.result_type(x.dtype, g.dtype)
    dm = xp.matmul(_channel_major(x).transpose(0, 2, 1), _channel_major(g))  # (C, H*W, Ho*Wo)
    hot = _one_hot(*_geometry_key(geom), np.dtype(dtype))
    dw = xp.matmul(dm.reshape(geom.C, -1), hot if xp is np else xp.asarray(hot))
    return dw.reshape((geom.C, 1) + geom.k)
