"""Specialised convolution kernels and the rule that routes a geometry to them.

``conv.py``'s general lowering (im2col + GEMM) handles every geometry; the kernels here handle the
common ones with less data movement and give the same results (up to float rounding: the sums run
in another order). Each kernel family supplies the three array functions the graph nodes call:
the convolution, its adjoint in the input, and the weight gradient.

- pointwise: 1x1 kernels, stride 1, no padding, one group, at least 32 output pixels. ``y[n] = W @ x[n]``
  on the (C, H*W) view of each sample: no columns and no transposes, the GEMM reads and writes NCHW
  directly. (On 5x5 maps the per-sample GEMMs are too small and one channels-last GEMM is faster:
  16x320->1280 at 5x5, 4.8 ms vs 8.9 ms.)
- depthwise: three lowerings, picked by their cost estimates (``DEPTHWISE_FAMILIES``): shifted views
  (``_depthwise.py``, large maps), one GEMM per kernel row with banded matrices (``_depthwise_rows.py``,
  mid-sized maps and 5x5 kernels) and dense per-channel GEMMs (``_depthwise_gemm.py``, small maps: the
  late stages of a mobile network, where most kernel taps fall on padding).
"""
from __future__ import annotations

import math

import numpy as np

from ._depthwise import (depthwise_conv, depthwise_conv_input_grad, depthwise_conv_weight_grad, is_depthwise,
                         views_cost)
from ._depthwise_gemm import (dense_cost, small_depthwise_conv, small_depthwise_conv_input_grad,
                              small_depthwise_conv_weight_grad)
from ._depthwise_rows import (rows_cost, rows_depthwise_conv, rows_depthwise_conv_input_grad,
                              rows_depthwise_conv_weight_grad)

__all__ = ["kernels_for"]


_POINTWISE_MIN_PIXELS = 32  # below this, per-sample GEMMs are too small: one channels-last GEMM wins


def _is_pointwise(geom) -> bool:
    return (geom.G == 1 and all(k == 1 for k in geom.k) and all(s == 1 for s in geom.s)
            and not geom.needs_padding and math.prod(geom.out) >= _POINTWISE_MIN_PIXELS)


def _flat(a, rows: int):
    """(N, rows, *spatial) as (N, rows, L); copies only when the strides require it."""
    return a.reshape(a.shape[0], rows, math.prod(a.shape[2:]))


def pointwise_conv(xp, x, w, b, geom):
    """1x1 convolution: a fresh (N, Co, *out) array."""
    n = x.shape[0]
    out = xp.empty((n, geom.Co) + geom.out, np.result_type(x.dtype, w.dtype))
    xp.matmul(w.reshape(geom.Co, geom.C), _flat(x, geom.C), out=_flat(out, geom.Co))
    if b is not None:
        out += b.reshape((-1,) + (1,) * geom.nd)
    return out


def pointwise_conv_input_grad(xp, g, w, geom):
    """Adjoint of the 1x1 convolution in its input: ``W^T @ g[n]``, a fresh (N, C, *size) array."""
    n = g.shape[0]
    out = xp.empty((n, geom.C) + geom.size, np.result_type(g.dtype, w.dtype))
    xp.matmul(w.reshape(geom.Co, geom.C).T, _flat(g, geom.Co), out=_flat(out, geom.C))
    return out


def pointwise_conv_weight_grad(xp, x, g, geom):
    """Weight gradient of the 1x1 convolution: ``sum_n g[n] @ x[n]^T``, a fresh (Co, C, 1, ...) array."""
    per_sample = xp.matmul(_flat(g, geom.Co), _flat(x, geom.C).transpose(0, 2, 1))
    return per_sample.sum(axis=0).reshape((geom.Co, geom.C) + (1,) * geom.nd)


class ConvKernels:
    """The three array functions of one kernel family, and (depthwise families) its cost estimate."""

    __slots__ = ("name", "forward", "input_grad", "weight_grad", "cost")

    def __init__(self, name, forward, input_grad, weight_grad, cost=None):
        self.name, self.forward, self.input_grad, self.weight_grad = name, forward, input_grad, weight_grad
        self.cost = cost


POINTWISE = ConvKernels("pointwise", pointwise_conv, pointwise_conv_input_grad, pointwise_conv_weight_grad)
DEPTHWISE = ConvKernels("depthwise", depthwise_conv, depthwise_conv_input_grad, depthwise_conv_weight_grad,
                        views_cost)
SMALL_DEPTHWISE = ConvKernels("depthwise_small", small_depthwise_conv, small_depthwise_conv_input_grad,
                              small_depthwise_conv_weight_grad, dense_cost)
ROWS_DEPTHWISE = ConvKernels("depthwise_rows", rows_depthwise_conv, rows_depthwise_conv_input_grad,
                             rows_depthwise_conv_weight_grad, rows_cost)
DEPTHWISE_FAMILIES = (DEPTHWISE, SMALL_DEPTHWISE, ROWS_DEPTHWISE)  # the first wins ties


def kernels_for(geom) -> ConvKernels | None:
    """The specialised kernels for a convolution geometry, or None for the general lowering.

    >>> from ember.nn._functional.conv import ConvGeometry
    >>> kernels_for(ConvGeometry(8, 8, 8, (64, 64), (3, 3), (1, 1), (1, 1), (1, 1), (64, 64), (1, 1))).name
    'depthwise'
    """
    if math.prod(geom.out) == 0 or math.prod(geom.size) == 0:
        return None
    if _is_pointwise(geom):
        return POINTWISE
    if is_depthwise(geom):
        return min(DEPTHWISE_FAMILIES, key=lambda family: family.cost(geom))
    return None
