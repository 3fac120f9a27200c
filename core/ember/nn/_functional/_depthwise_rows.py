"""Depthwise 2-D convolution on mid-sized maps as one batched GEMM per kernel row.

Between the small maps of ``_depthwise_gemm.py`` and the large ones of ``_depthwise.py`` (the 14x14
to 40x40 maps where mobile networks put most of their 5x5 kernels) both of those lose: the dense
per-channel operator grows as (H*W)^2, and the shifted views cost two NumPy passes per tap (50 for
a 5x5 kernel) while BLAS is idle. Here kernel row ``i`` of channel ``c`` is a banded (Toeplitz)
matrix ``B[i, c]`` of shape (Wp, Wo), ``B[i, c][o*sw + j*dw, o] = w[c, 0, i, j]``: a padded input row
times it applies that kernel row along the columns. Stacking the samples of a channel into one tall
padded image makes its rows ``i*dh, i*dh + sh, ...`` a plain strided matrix (one row per output row;
the rows that straddle two samples give outputs that are dropped), so the whole convolution is kh
batched GEMMs, C x (R, Wp) @ (Wp, Wo), summed. That does about Wp/kw times the multiply-adds of the
direct form, at BLAS speed and on every core; :func:`rows_cost` says where that pays.

The adjoints are the same GEMMs turned around: the input gradient adds ``G @ B[i]^T`` into the tall
image's row view of each kernel row, the weight gradient reads the band's diagonals off ``X_i^T @ G``.
"""
from __future__ import annotations

import math

import numpy as np

from ._scratch import scratch

__all__ = ["rows_cost", "rows_depthwise_conv", "rows_depthwise_conv_input_grad", "rows_depthwise_conv_weight_grad"]

# Cost constants in the shifted views' unit (one element of one pass, ``_depthwise.views_cost``), fitted on
# the depthwise layers of MobileNetV2 and EfficientNet-Lite0 at 224 and 160 (float32, one thread, batch 16):
# a BLAS multiply-add costs _MAC_COST of it, and each channel's GEMM call (~2.7 us, with its share of the
# scratch set-up; it keeps the dense form on maps up to 10x10) _CALL_COST, spread over
# the planes of an assumed batch of _BATCH (the geometry does not know the batch).
_MAC_COST = 0.08
_CALL_COST = 3200
_BATCH = 16
_MAX_BANDS_BYTES = 32 << 20  # never build more than this for the kh*C banded matrices


class _Tall:
    """The tall image of one depthwise geometry and batch: per channel, the padded samples one above
    the other, ``per`` output rows per sample (the last ``per - Ho`` are dropped), and (kh-1)*dh zero
    rows below so that every kernel row's view stays in bounds."""

    __slots__ = ("geom", "n", "per", "rows")

    def __init__(self, geom, n: int):
        self.geom, self.n = geom, n
        self.per = -(-geom.padded[0] // geom.s[0])
        self.rows = n * self.per

    @property
    def shape(self) -> tuple:
        g = self.geom
        return g.C, self.n * self.per * g.s[0] + (g.k[0] - 1) * g.d[0], g.padded[1]

    def samples(self, tall):
        """The (C, N, per*sh, Wp) view of the samples' padded images in ``tall``."""
        g = self.geom
        return tall[:, :self.n * self.per * g.s[0]].reshape(g.C, self.n, self.per * g.s[0], g.padded[1])

    def inputs(self, tall):
        """The (C, N, H, W) view of the input positions in ``tall``."""
        (top, left), (h, w) = self.geom.lo, self.geom.size
        return self.samples(tall)[:, :, top:top + h, left:left + w]

    def zeros(self, xp, dtype):
        """A zero tall image (scratch memory)."""
        tall = scratch(xp, "dwr_tall", self.shape, dtype)
        tall.fill(0)
        return tall

    def fill(self, xp, x, dtype):
        """``x`` (N, C, H, W), any strides, as a zero-padded tall image (scratch memory)."""
        tall = self.zeros(xp, dtype)
        self.inputs(tall)[...] = x.transpose(1, 0, 2, 3)
        return tall

    def row_view(self, xp, tall, i: int):
        """The (C, R, Wp) matrices read by kernel row ``i``: tall rows ``t*sh + i*dh``."""
        g = self.geom
        start = tall[:, i * g.d[0]:]
        c_stride, r_stride, w_stride = tall.strides
        return xp.lib.stride_tricks.as_strided(start, (g.C, self.rows, g.padded[1]),
                                               (c_stride, r_stride * g.s[0], w_stride))

    def grad_rows(self, xp, g, dtype):
        """``g`` (N, C, Ho, Wo) as (C, R, Wo), zero in the dropped rows (scratch memory)."""
        geom = self.geom
        buf = scratch(xp, "dwr_grad", (geom.C, self.n, self.per, geom.out[1]), dtype)
        buf[:, :, :geom.out[0]] = g.transpose(1, 0, 2, 3)
        buf[:, :, geom.out[0]:] = 0
        return buf.reshape(geom.C, self.rows, geom.out[1])

    def outputs(self, xp, acc, bias, dtype):
        """(C, R, Wo) rows plus ``bias`` (C,) or None -> a fresh (N, C, Ho, Wo) array (one pass)."""
        geom = self.geom
        out = xp.empty((self.n, geom.C) + geom.out, dtype)
        rows = acc.reshape(geom.C, self.n, self.per, geom.out[1])[:, :, :geom.out[0]].transpose(1, 0, 2, 3)
        if bias is None:
            out[...] = rows
        else:
            xp.add(rows, bias.reshape(-1, 1, 1), out=out)
        return out


def _band_index(xp, geom):
    """``(cols, o)``: the (kw, Wo) input column ``o*sw + j*dw`` that kernel column ``j`` reads for output
    column ``o``, and the output columns ``0 .. Wo-1``: where the taps sit in each banded matrix."""
    wo, sw, dw = geom.out[1], geom.s[1], geom.d[1]
    o = np.arange(wo)
    cols = np.arange(geom.k[1])[:, None] * dw + o[None, :] * sw
    return (cols, o) if xp is np else (xp.asarray(cols), xp.asarray(o))


def _bands(xp, w, geom, dtype):
    """The (kh, C, Wp, Wo) banded matrices of the kernels ``w`` (C, 1, kh, kw), in scratch memory."""
    (kh, kw), wo = geom.k, geom.out[1]
    bands = scratch(xp, "dwr_bands", (kh, geom.C, geom.padded[1], wo), dtype)
    bands.fill(0)
    cols, o = _band_index(xp, geom)
    taps = w.reshape(geom.C, kh, kw).transpose(1, 0, 2).astype(dtype, copy=False)  # (kh, C, kw)
    for j in range(kw):
        bands[:, :, cols[j], o] = taps[:, :, j, None]
    return bands


def rows_cost(geom, itemsize: int = 4) -> float:
    """Estimated cost of this lowering per plane, in the shifted views' unit; infinite where the banded
    matrices would be too large. Measured (float32, one thread, batch 16; forward time, rows / views):
    5x5 on 20x20 0.57, 5x5 on 14x14 0.62-0.67, 5x5 on 28x28 0.93, 5x5 on 56x56 stride 2 0.85, 3x3 on
    14x14 0.9-1.0, 3x3 on 28x28 0.89, 3x3 on 56x56 1.9, 3x3 on 112x112 2.1 (the last two keep the views)."""
    (kh, _), (_, wp), wo = geom.k, geom.padded, geom.out[1]
    if kh * geom.C * wp * wo * itemsize > _MAX_BANDS_BYTES:
        return math.inf
    per = -(-geom.padded[0] // geom.s[0])
    return _MAC_COST * kh * per * wp * wo + _CALL_COST * kh / _BATCH


def rows_depthwise_conv(xp, x, w, b, geom):
    """Depthwise convolution of ``x`` (N, C, H, W) with ``w`` (C, 1, kh, kw), bias (C,) or None: a fresh
    (N, C, Ho, Wo) array."""
    dtype = np.result_type(x.dtype, w.dtype)
    t = _Tall(geom, x.shape[0])
    tall = t.fill(xp, x, dtype)
    bands = _bands(xp, w, geom, dtype)
    acc = scratch(xp, "dwr_acc", (geom.C, t.rows, geom.out[1]), dtype)
    part = scratch(xp, "dwr_part", acc.shape, dtype)
    for i in range(geom.k[0]):
        xp.matmul(t.row_view(xp, tall, i), bands[i], out=acc if i == 0 else part)
        if i:
            acc += part
    return t.outputs(xp, acc, b, dtype)


def rows_depthwise_conv_input_grad(xp, g, w, geom):
    """Adjoint in the input: a fresh (N, C, H, W) array from ``g`` (N, C, Ho, Wo)."""
    dtype = np.result_type(g.dtype, w.dtype)
    t = _Tall(geom, g.shape[0])
    grad = t.grad_rows(xp, g, dtype)
    bands = _bands(xp, w, geom, dtype)
    tall = t.zeros(xp, dtype)
    part = scratch(xp, "dwr_part", (geom.C, t.rows, geom.padded[1]), dtype)
    for i in range(geom.k[0]):
        xp.matmul(grad, bands[i].transpose(0, 2, 1), out=part)
        view = t.row_view(xp, tall, i)
        view += part  # the rows of one view are distinct: no lost updates
    out = xp.empty((g.shape[0], geom.C) + geom.size, dtype)
    out[...] = t.inputs(tall).transpose(1, 0, 2, 3)
    return out


def rows_depthwise_conv_weight_grad(xp, x, g, geom):
    """Weight gradient: a fresh (C, 1, kh, kw) array, the band diagonals of ``X_i^T @ G`` summed."""
    dtype = np.result_type(x.dtype, g.dtype)
    t = _Tall(geom, x.shape[0])
    tall = t.fill(xp, x, dtype)
    grad = t.grad_rows(xp, g, dtype)
    cols, o = _band_index(xp, geom)
    out = xp.empty((geom.C, 1) + geom.k, dtype)
    for i in range(geom.k[0]):
        full = xp.matmul(t.row_view(xp, tall, i).transpose(0, 2, 1), grad)  # (C, Wp, Wo)
        out[:, 0, i, :] = full[:, cols, o].sum(axis=-1)
    return out
