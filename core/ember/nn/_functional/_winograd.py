"""Winograd F(2x2, 3x3) for 3x3, stride-1, undilated, ungrouped 2-D convolutions with enough channels.

Each 2x2 block of outputs is computed from a 4x4 input tile ``d`` as ``A^T [(G g G^T) * (B^T d B)] A``:
16 products per tile and channel pair instead of 36 (2.25x fewer multiplies). In matrix form the
16 element-wise products over channels are 16 GEMMs ``(tiles, C) @ (C, Co)``, batched in one call.
The transforms have coefficients 0, +-1 and +-1/2, so they add only a few roundings: measured against
a float64 direct convolution (BENCHMARKS.md, "Issue 16"), the maximum error relative to the output's
scale is of the same order as im2col's (float32: ~1e-6; float64: ~1e-15). F(4x4, 3x3) would save more
multiplies, but its transform constants grow its float32 error by an order of magnitude; it is not
used.

Used (see ``is_winograd``) where the GEMMs dominate: at least 16 input and output channels. Only the
forward runs here; the input gradient of such a convolution is itself a stride-1 3x3 convolution
(conv.py's transposed geometry) and so comes back here; the weight gradient stays im2col.

Layout: channels-last inside (the GEMMs read (tiles, C) rows), NCHW outside.
"""
from __future__ import annotations

import numpy as np

from ._scratch import scratch

__all__ = ["is_winograd", "winograd_conv"]

_MIN_CHANNELS = 16
_G = ((1.0, 0.0, 0.0), (0.5, 0.5, 0.5), (0.5, -0.5, 0.5), (0.0, 0.0, 1.0))  # the kernel transform


def is_winograd(geom) -> bool:
    """3x3, stride 1, dilation 1, one group, >= 16 channels in and out, outputs at least 2x2."""
    return (geom.nd == 2 and geom.k == (3, 3) and geom.s == (1, 1) and geom.d == (1, 1) and geom.G == 1
            and min(geom.C, geom.Co) >= _MIN_CHANNELS and min(geom.out) >= 2)


def _input_tiles(xp, x, geom, th: int, tw: int, dtype):
    """``B^T d B`` of every 4x4 tile (tiles start every 2 rows/columns): (16, N*th*tw, C)."""
    n, c, h, w = x.shape
    top, left = geom.lo
    xpad = scratch(xp, "wg_pad", (n, 2 * th + 2, 2 * tw + 2, c), dtype)
    xpad.fill(0)
    xpad[:, top:top + h, left:left + w, :] = x.transpose(0, 2, 3, 1)
    rows = scratch(xp, "wg_rows", (4, n, th, 2 * tw + 2, c), dtype)
    _transform_in(xp, [xpad[:, k:k + 2 * th:2] for k in range(4)], [rows[i] for i in range(4)])
    tiles = scratch(xp, "wg_tiles", (4, 4, n, th, tw, c), dtype)
    _transform_in(xp, [rows[:, :, :, k:k + 2 * tw:2] for k in range(4)], [tiles[:, j] for j in range(4)])
    return tiles.reshape(16, n * th * tw, c)


def _transform_in(xp, d, out) -> None:
    """``B^T d`` along one axis: (d0 - d2, d1 + d2, d2 - d1, d1 - d3)."""
    xp.subtract(d[0], d[2], out=out[0])
    xp.add(d[1], d[2], out=out[1])
    xp.subtract(d[2], d[1], out=out[2])
    xp.subtract(d[1], d[3], out=out[3])


def _transform_out(xp, m, out) -> None:
    """``A^T m`` along one axis: (m0 + m1 + m2, m1 - m2 - m3)."""
    xp.add(m[0], m[1], out=out[0])
    out[0] += m[2]
    xp.subtract(m[1], m[2], out=out[1])
    out[1] -= m[3]


def _kernel_tiles(xp, w):
    """``G g G^T`` of every (out, in) kernel: (16, C, Co)."""
    g = xp.asarray(_G, dtype=w.dtype)
    co, c = w.shape[:2]
    return xp.einsum("ik,ockl,jl->ijco", g, w, g).reshape(16, c, co)


def winograd_conv(xp, x, w, b, geom):
    """The convolution of ``x`` (N, C, H, W) with ``w`` (Co, C, 3, 3): a fresh (N, Co, Ho, Wo) array."""
    n = x.shape[0]
    ho, wo = geom.out
    th, tw = -(-ho // 2), -(-wo // 2)
    dtype = np.result_type(x.dtype, w.dtype)
    tiles = _input_tiles(xp, x, geom, th, tw, dtype)
    prod = scratch(xp, "wg_prod", (16, tiles.shape[1], geom.Co), dtype)
    xp.matmul(tiles, _kernel_tiles(xp, w.astype(dtype, copy=False)), out=prod)
    m = prod.reshape(4, 4, n, th, tw, geom.Co)
    rows = scratch(xp, "wg_orows", (2, 4, n, th, tw, geom.Co), dtype)
    _transform_out(xp, m, rows)
    blocks = scratch(xp, "wg_out", (2, 2, n, th, tw, geom.Co), dtype)
    _transform_out(xp, [rows[:, j] for j in range(4)], [blocks[:, 0], blocks[:, 1]])
    out = xp.empty((n, geom.Co, ho, wo), dtype)
    for a in range(2):
        for c in range(2):  # output rows a::2, columns c::2 are the tiles' (a, c) entries
            out[:, :, a::2, c::2] = blocks[a, c, :, :(ho - a + 1) // 2, :(wo - c + 1) // 2].transpose(0, 3, 1, 2)
    if b is not None:
        out += b.reshape(-1, 1, 1)
    return out
