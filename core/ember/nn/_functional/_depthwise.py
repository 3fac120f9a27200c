"""Depthwise 2-D convolution kernels (groups == in_channels == out_channels): the convolution, its
adjoint in the input and its weight gradient, on arrays.

im2col is the wrong lowering here: each channel's GEMM has width 1, so the time goes into building
k*k copies of the input. Instead each kernel offset is one view of a zero-bordered copy of the
input and the output is a per-channel multiply-add over the k*k views.

Layout. The padded input is split by stride phase: with stride (sh, sw), phase (a, b) holds the
padded rows a, a+sh, ... and columns b, b+sw, ... . Every kernel offset then reads one phase at
unit stride (no strided inner loops). The phases of one sample and channel ("plane" p, P = N*C of
them) sit together in a (P, S, Hq, Wq) buffer, S = sh*sw. Each offset's view is one contiguous run
of a phase: the output is computed on a "wide" (Ho, Wq) grid, whose row r, column c reads phase
position ``(r + ri)*Wq + c + cj``; the Wq - Wo extra columns per row are computed and dropped (a
spare zero row keeps the last row's run in bounds). So even 7x7 maps have long inner loops.

Passes over memory, not arithmetic, are the cost: planes are processed in blocks whose grid stays in
the L2 cache while all k*k offsets are applied, and the result leaves the block once. (Running the
blocks on two Python threads was tried: on the shared 2-core machine it measured no faster, since
the second core is busy with OpenBLAS's spinning threads or other work; BENCHMARKS.md, issue 16.)
"""
from __future__ import annotations

import math

import numpy as np

from ._scratch import scratch

__all__ = ["is_depthwise", "views_cost", "depthwise_conv", "depthwise_conv_input_grad", "depthwise_conv_weight_grad"]

_BLOCK_BYTES = 1 << 18  # planes per block: about this many bytes of wide grid


def is_depthwise(geom) -> bool:
    """True for the geometries these kernels handle: 2-D, one input and one output channel per group."""
    return geom.nd == 2 and geom.G == geom.C == geom.Co


def views_cost(geom) -> float:
    """Estimated cost of this lowering per plane (one sample's channel), the unit the other depthwise
    lowerings' estimates use: k*k passes over the Ho x Wq wide grid, counted twice as dear per output at
    stride 2 (whose phase planes the views pay for)."""
    return math.prod(geom.k) * geom.out[0] * -(-geom.padded[1] // geom.s[1]) * math.sqrt(math.prod(geom.s))


class _Planes:
    """The phase planes of a depthwise geometry and where each kernel offset reads them."""

    __slots__ = ("geom", "N", "P", "S", "Hq", "Wq")

    def __init__(self, geom, n: int):
        self.geom, self.N, self.P = geom, n, n * geom.C
        (sh, sw), (hp, wp) = geom.s, geom.padded
        self.S = sh * sw
        self.Hq, self.Wq = -(-hp // sh) + 1, -(-wp // sw)  # + a spare zero row (see the module docstring)

    @property
    def grid(self) -> tuple:
        """One block's wide output grid is (planes, Ho, Wq)."""
        return self.geom.out[0], self.Wq

    def offsets(self):
        """``(index, phase, flat start)`` of each kernel offset, row-major over the kernel."""
        (kh, kw), (dh, dw), (sh, sw) = self.geom.k, self.geom.d, self.geom.s
        res = []
        for i in range(kh):
            for j in range(kw):
                (ri, a), (cj, b) = divmod(i * dh, sh), divmod(j * dw, sw)
                res.append((i * kw + j, a * sw + b, ri * self.Wq + cj))
        return res

    def view(self, planes, p0: int, p1: int, phase: int, start: int):
        """The (p1-p0, Ho, Wq) view of planes ``p0:p1`` of ``planes`` (P, S, Hq*Wq) read by one offset."""
        ho = self.geom.out[0]
        return planes[p0:p1, phase, start:start + ho * self.Wq].reshape(p1 - p0, ho, self.Wq)

    def blocks(self):
        """Plane ranges processed together (see _BLOCK_BYTES)."""
        step = max(1, _BLOCK_BYTES // (self.geom.out[0] * self.Wq * 8))
        return [(p, min(p + step, self.P)) for p in range(0, self.P, step)]

    def phase_slices(self):
        """For each phase: (phase index, slices of the input's rows/columns it holds, slices of the
        phase plane they go to)."""
        (sh, sw), (top, left), (h, w) = self.geom.s, self.geom.lo, self.geom.size
        res = []
        for a in range(sh):
            r0 = (a - top) % sh  # the first input row whose padded row is in phase a
            rows = len(range(r0, h, sh))
            tr = (top + r0 - a) // sh
            for b in range(sw):
                c0 = (b - left) % sw
                cols = len(range(c0, w, sw))
                tc = (left + c0 - b) // sw
                res.append((a * sw + b, (slice(r0, h, sh), slice(c0, w, sw)),
                            (slice(tr, tr + rows), slice(tc, tc + cols))))
        return res

    def split(self, xp, x, role: str):
        """``x`` (N, C, H, W), any strides, as zero-bordered phase planes (P, S, Hq*Wq) in scratch memory."""
        buf = scratch(xp, role, (self.N, self.geom.C, self.S, self.Hq, self.Wq), x.dtype)
        buf.fill(0)
        for phase, src, dst in self.phase_slices():
            buf[(slice(None), slice(None), phase) + dst] = x[(Ellipsis,) + src]
        return buf.reshape(self.P, self.S, self.Hq * self.Wq)

    def merge(self, xp, planes, dtype):
        """The inverse of ``split``: a fresh (N, C, H, W) array from the planes' input positions."""
        g = self.geom
        out = xp.empty((self.N, g.C) + g.size, dtype)
        p5 = planes.reshape(self.N, g.C, self.S, self.Hq, self.Wq)
        for phase, src, dst in self.phase_slices():
            out[(Ellipsis,) + src] = p5[(slice(None), slice(None), phase) + dst]
        return out

    def wide(self, xp, g3, p0: int, p1: int, role: str):
        """Planes ``p0:p1`` of ``g3`` (P, Ho, Wo) on the wide grid, zero in the extra columns (scratch)."""
        buf = scratch(xp, role, (p1 - p0,) + self.grid, g3.dtype)
        wo = self.geom.out[1]
        buf[:, :, :wo] = g3[p0:p1]
        buf[:, :, wo:] = 0
        return buf


def _plane_values(xp, v, n: int):
    """Per-channel values (C, ...) -> (N*C, prod(...)), one row per plane (planes are sample-major)."""
    per_channel = v.reshape(1, v.shape[0], -1)
    return xp.broadcast_to(per_channel, (n,) + per_channel.shape[1:]).reshape(n * v.shape[0], per_channel.shape[2])


def _as_planes(a, pl: _Planes):
    """(N, C, Ho, Wo), any strides, as (P, Ho, Wo) (a view when the strides allow)."""
    return a.reshape((pl.P,) + pl.geom.out)


def depthwise_conv(xp, x, w, b, geom):
    """Depthwise convolution of ``x`` (N, C, H, W) with ``w`` (C, 1, kh, kw) and optional bias (C,): a
    fresh (N, C, Ho, Wo) array."""
    n = x.shape[0]
    pl = _Planes(geom, n)
    planes = pl.split(xp, x, "dw_in")
    wt = _plane_values(xp, w, n)
    bt = None if b is None else _plane_values(xp, b, n)
    dtype = np.result_type(x.dtype, w.dtype)
    out = xp.empty((n, geom.C) + geom.out, dtype)
    out3 = _as_planes(out, pl)
    offsets = pl.offsets()
    wo = geom.out[1]

    def block(p0, p1):
        acc = scratch(xp, "dw_acc", (p1 - p0,) + pl.grid, dtype)
        tmp = scratch(xp, "dw_tmp", acc.shape, dtype)
        for idx, phase, start in offsets:
            dst = acc if idx == 0 else tmp
            xp.multiply(pl.view(planes, p0, p1, phase, start), wt[p0:p1, idx, None, None], out=dst)
            if idx:
                acc += tmp
        if bt is not None:
            acc += bt[p0:p1, :, None]
        out3[p0:p1] = acc[:, :, :wo]
    for p0, p1 in pl.blocks():
        block(p0, p1)
    return out


def depthwise_conv_input_grad(xp, g, w, geom):
    """Adjoint of the depthwise convolution in its input: a fresh (N, C, H, W) array from ``g``
    (N, C, Ho, Wo). Each offset adds ``g * w`` into the window it read (col2im without columns)."""
    n = g.shape[0]
    pl = _Planes(geom, n)
    dtype = np.result_type(g.dtype, w.dtype)
    g3 = _as_planes(g, pl)
    wt = _plane_values(xp, w, n)
    acc = scratch(xp, "dw_in", (pl.P, pl.S, pl.Hq * pl.Wq), dtype)
    acc.fill(0)
    offsets = pl.offsets()

    def block(p0, p1):
        gb = pl.wide(xp, g3, p0, p1, "dw_acc")  # zero extra columns: they would land inside the window
        tmp = scratch(xp, "dw_tmp", gb.shape, dtype)
        for idx, phase, start in offsets:
            xp.multiply(gb, wt[p0:p1, idx, None, None], out=tmp)
            view = pl.view(acc, p0, p1, phase, start)
            view += tmp  # positions within one view are distinct: no lost updates
    for p0, p1 in pl.blocks():
        block(p0, p1)
    return pl.merge(xp, acc, dtype)


def depthwise_conv_weight_grad(xp, x, g, geom):
    """Gradient of the depthwise convolution wrt its weight: a fresh (C, 1, kh, kw) array, each entry
    the sum over samples and positions of ``g`` times its offset's view of ``x``."""
    n = x.shape[0]
    pl = _Planes(geom, n)
    planes = pl.split(xp, x, "dw_in")
    g3 = _as_planes(g, pl)
    kk = math.prod(geom.k)
    per_plane = xp.empty((pl.P, kk), np.result_type(x.dtype, g.dtype))
    offsets = pl.offsets()

    def block(p0, p1):
        gb = pl.wide(xp, g3, p0, p1, "dw_acc")
        for idx, phase, start in offsets:
            per_plane[p0:p1, idx] = xp.einsum("pij,pij->p", pl.view(planes, p0, p1, phase, start), gb)
    for p0, p1 in pl.blocks():
        block(p0, p1)
    return per_plane.reshape(n, geom.C, kk).sum(axis=0).reshape((geom.C, 1) + geom.k)
