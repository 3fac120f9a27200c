"""Convolutions (conv1d/2d/3d, conv_transpose1d/2d/3d), F.pad and sliding blocks (F.unfold / F.fold).

Lowering. A convolution over 1, 2 or 3 spatial dims runs as one matrix product per call (a stacked
one with groups) between the weight matrix and the "columns" of the input: its kernel windows, read
through strided views of a zero-bordered copy. The window geometry (``Windows``) and the column
builders are written once for any number of spatial dims. Two column layouts (see
``ConvGeometry``): channels-last for layers with many channels per group (copies move runs of
k[-1]*C contiguous values; the products get BLAS's fast orientations) and channel-major for narrow
layers (one copy of the (N, C, *out) windows per kernel offset). Tensors stay channels-first outside.

Gradients. Three nodes, each expressed through the other two, so every backward is itself
differentiable (double backward):

- ``Convolution(x, w)``: the convolution.
- ``ConvolutionTranspose(g, w)``: its adjoint in ``x`` (the gradient wrt the input, and
  ``conv_transpose``). With stride 1 and 'same'-like padding it is a forward convolution of ``g``
  with the flipped kernel; otherwise columns ``g @ W`` are added back into a padded buffer, one
  strided add per kernel offset (col2im).
- ``ConvolutionWeightGrad(x, g)``: the gradient wrt the weight, ``columns(x)^T @ g`` (small
  column matrices are kept from the forward pass instead of being rebuilt).

Work arrays (padded input, columns, products) come from a per-thread scratch pool (``_scratch.py``):
touching the pages of a fresh 75 MB array costs more than the copy into it.
"""
from __future__ import annotations

import itertools
import math
import threading

import numpy as np

from ..._op_hooks import observe_namespace
from ..._tensor import Tensor, _make
from ...autograd.function import Op
from ...autograd.grad_mode import STATE
from ...ops._dispatch import record
from ._conv_kernels import kernels_for
from ._scratch import _local, scratch as _scratch  # noqa: F401 (_local: the pool, read by tests)

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "pad", "unfold",
           "fold"]


# ---------------------------------------------------------------------------------------------
# Scratch arrays
# ---------------------------------------------------------------------------------------------
def _as_strided(xp, a, shape, strides):
    return xp.lib.stride_tricks.as_strided(a, shape=shape, strides=strides)


# ---------------------------------------------------------------------------------------------
# Window geometry (shared with pooling)
# ---------------------------------------------------------------------------------------------
_ALL = slice(None)
_NC = (_ALL, _ALL)  # index prefix that keeps the batch and channel dims


class Windows:
    """Sliding windows over the trailing spatial dims of an (N, C, *spatial) array (1, 2 or 3 of them);
    every field is a tuple with one entry per spatial dim.

    ``size``: input size; ``k``/``s``/``d``: kernel, stride, dilation; ``lo``: leading padding;
    ``out``: number of windows; ``padded``: extent of the padded buffer (covers input and windows).
    """

    __slots__ = ("size", "k", "s", "d", "lo", "out", "padded")

    def __init__(self, size, k, s, d, lo, out, hi=None):
        self.size, self.k, self.s, self.d, self.lo, self.out = size, k, s, d, lo, out
        hi = (0,) * len(size) if hi is None else hi
        self.padded = tuple(max(lo[i] + size[i] + hi[i], (out[i] - 1) * s[i] + d[i] * (k[i] - 1) + 1)
                            for i in range(len(size)))

    @property
    def nd(self) -> int:
        return len(self.size)

    @property
    def needs_padding(self) -> bool:
        return any(self.lo) or self.padded != self.size

    @property
    def disjoint(self) -> bool:
        """True when no two windows share an input position."""
        return all(self.s[i] >= self.d[i] * (self.k[i] - 1) + 1 for i in range(self.nd))

    def offsets(self):
        """``(index, slices)`` for each kernel offset (row-major over the kernel dims): the slices of the
        padded buffer's spatial dims that this offset reads in every window."""
        per_dim = [[slice(j * d, j * d + s * (o - 1) + 1, s) for j in range(k)]
                   for k, s, d, o in zip(self.k, self.s, self.d, self.out)]
        return enumerate(itertools.product(*per_dim))

    def crop(self) -> tuple:
        """Slices of the padded buffer's spatial dims that hold the input."""
        return tuple(slice(p, p + n) for p, n in zip(self.lo, self.size))


def padded_input(xp, x, win: Windows, fill, role: str | None = None):
    """``x`` (N, C, *size) inside a ``fill``-bordered (N, C, *padded) array (``x`` itself without padding)."""
    if not win.needs_padding:
        return x
    shape = x.shape[:2] + win.padded
    if role is None:
        buf = xp.full(shape, fill, x.dtype)
    else:
        buf = _scratch(xp, role, shape, x.dtype)
        buf.fill(fill)
    buf[_NC + win.crop()] = x
    return buf


def spread_windows(xp, parts, win: Windows, in_shape, dtype):
    """Add ``parts(index)`` (N, C, *out) into each kernel offset's window of a zero (N, C, *padded)
    buffer and return the input-sized crop (a fresh array): the adjoint of reading windows."""
    buf = xp.zeros(tuple(in_shape[:2]) + win.padded, dtype)
    disjoint = win.disjoint
    for idx, sl in win.offsets():
        if disjoint:  # windows do not overlap: each position is written once
            buf[_NC + sl] = parts(idx)
        else:
            buf[_NC + sl] += parts(idx)
    if not win.needs_padding:
        return buf
    return xp.ascontiguousarray(buf[_NC + win.crop()])


def _ntuple(v, nd: int, error) -> tuple:
    """An int or a sequence of ``nd`` ints (a single-element sequence is repeated) as an ``nd``-tuple;
    ``error(v)`` is the message for any other length."""
    if isinstance(v, (int, np.integer)):
        return (int(v),) * nd
    v = tuple(int(a) for a in v)
    if len(v) == 1:
        return v * nd
    if len(v) != nd:
        raise RuntimeError(error(v))
    return v


def _pair(v, name: str, nd: int = 2) -> tuple:
    """A convolution argument as an ``nd``-tuple (PyTorch's message for a wrong length)."""
    return _ntuple(v, nd, lambda bad: f"expected {name} to be a single integer value or a list of {nd} values to "
                                      f"match the convolution dimensions, but got {name}={list(bad)}")


def _spatial(nd: int, first: int = 2) -> tuple:
    """The axes ``first .. first + nd - 1`` (the spatial dims of an (N, C, *spatial) array)."""
    return tuple(range(first, first + nd))


# ---------------------------------------------------------------------------------------------
# Convolution geometry and array kernels
# ---------------------------------------------------------------------------------------------
_CHANNELS_LAST_MIN = 16   # channels per group from which the channels-last lowering pays
_COL2IM_CHUNK_BYTES = 1 << 21  # columns per sample chunk of _col2im_wide_rows (about the L2 cache)
_KEEP_COLUMNS_BYTES = 1 << 28  # forward columns kept for weight gradients, at most this many bytes at a time


class _KeptColumns:
    """Forward columns held on a graph node until its backward has used them, within a global byte
    budget; released buffers are recycled (a fresh large array would fault in all its pages)."""

    __slots__ = ("buf", "array", "matrix")
    live = 0
    spare: list = []
    lock = threading.Lock()

    @classmethod
    def take(cls, xp, shape, dtype):
        n = math.prod(shape) * np.dtype(dtype).itemsize
        with cls.lock:
            if xp is not np or cls.live + n > _KEEP_COLUMNS_BYTES:
                return None
            fits = [i for i, b in enumerate(cls.spare) if b.size >= n]
            buf = cls.spare.pop(min(fits, key=lambda i: cls.spare[i].size)) if fits else None
            cls.live += max(n, 64) if buf is None else buf.size
        if buf is None:
            buf = np.empty(max(n, 64), np.uint8)
        kept = cls()
        kept.buf, kept.array, kept.matrix = buf, buf[:n].view(dtype).reshape(shape), None
        return kept

    def release(self) -> None:
        buf = self.buf
        if buf is not None:
            self.buf = self.array = self.matrix = None
            cls = type(self)
            with cls.lock:
                cls.live -= buf.size
                cls.spare.append(buf)
                cls.spare.sort(key=lambda b: -b.size)
                while sum(b.size for b in cls.spare) > _KEEP_COLUMNS_BYTES:
                    cls.spare.pop()  # drop the smallest spare buffers first

    __del__ = release


class ConvGeometry(Windows):
    """Windows plus channels: input C, output Co, groups G (weight (Co, C/G, *k)).

    ``channels_last`` picks the lowering. Channels-last columns (G, N*prod(out), prod(k)*Cg) copy runs
    of k[-1]*Cg contiguous values and give the fastest BLAS orientations: best for wide layers. With
    few channels those runs are short, so narrow layers use channel-major columns
    (G, Cg*prod(k), N*prod(out)) built with one copy per kernel offset of (N, C, *out) windows.
    """

    __slots__ = ("C", "Co", "G", "channels_last", "_transposed", "kernels")

    def __init__(self, C, Co, G, size, k, s, d, lo, out, hi=None):
        super().__init__(size, k, s, d, lo, out, hi)
        self.C, self.Co, self.G = C, Co, G
        self.channels_last = C // G >= _CHANNELS_LAST_MIN
        self._transposed = False
        self.kernels = kernels_for(self)  # specialised kernels (1x1, depthwise) or None: the lowering below

    @property
    def kernel_volume(self) -> int:
        return math.prod(self.k)

    def transposed(self):
        """The geometry of a forward convolution (of ``g`` with the flipped, in/out-swapped kernel) equal
        to this convolution's adjoint, or None. Gathering windows of ``g`` moves far less memory than
        adding columns back into the input (col2im), but its columns grow with the input size, so it
        is used for stride 1 with 'same'-like padding (input not much larger than the output)."""
        if self._transposed is False:
            t = None
            nd = self.nd
            pad_lo = tuple(self.d[i] * (self.k[i] - 1) - self.lo[i] for i in range(nd))
            if (all(s == 1 for s in self.s) and min(pad_lo) >= 0
                    and 4 * math.prod(self.size) <= 5 * math.prod(self.out)):
                t = ConvGeometry(self.Co, self.C, self.G, self.out, self.k, (1,) * nd, self.d, pad_lo, self.size)
            self._transposed = t
        return self._transposed


def _columns_shape(n: int, geom: ConvGeometry) -> tuple:
    if geom.channels_last:
        return (geom.G, n) + geom.out + geom.k + (geom.C // geom.G,)
    return (geom.C, geom.kernel_volume, n) + geom.out


def _columns(xp, x, geom: ConvGeometry, out=None, nhwc=None):
    """Column matrices of ``x`` (N, C, *size) in the geometry's layout (see ConvGeometry), written into
    ``out`` (of ``_columns_shape``) or a scratch array. ``nhwc``: the same data channels-last, if at hand."""
    n, nd = x.shape[0], geom.nd
    G, C = geom.G, geom.C
    cg = C // G
    m, kg = n * math.prod(geom.out), geom.kernel_volume * cg
    if out is None:
        out = _scratch(xp, "cols", _columns_shape(n, geom), x.dtype)
    if not geom.channels_last:
        xpad = padded_input(xp, x, geom, 0, "pad")
        batch_after_channels = (1, 0) + _spatial(nd)
        for idx, sl in geom.offsets():
            out[:, idx] = xpad[_NC + sl].transpose(batch_after_channels)
        return out.reshape(G, kg, m)
    src = x.transpose((0,) + _spatial(nd, 2) + (1,)) if nhwc is None else nhwc
    if not geom.needs_padding and geom.kernel_volume == 1:
        base = src  # one gathering copy straight from the input (any strides: as_strided reads them)
    else:
        base = _scratch(xp, "pad", (n,) + geom.padded + (C,), x.dtype)
        crop = geom.crop()
        _zero_border(base, crop)
        base[(_ALL,) + crop] = src
    sn, sp, sc = base.strides[0], base.strides[1:-1], base.strides[-1]
    shape = (G, n) + geom.out + geom.k + (cg,)
    strides = ((cg * sc, sn) + tuple(sp[i] * geom.s[i] for i in range(nd))
               + tuple(sp[i] * geom.d[i] for i in range(nd)) + (sc,))
    xp.copyto(out, _as_strided(xp, base, shape, strides))
    return out.reshape(G, m, kg)


def _zero_border(buf, crop: tuple) -> None:
    """Zero the parts of (N, *padded, C) ``buf`` outside ``crop``: along each spatial dim, the margins
    of the region already inside along the earlier dims."""
    for i, sl in enumerate(crop):
        inside = (_ALL,) + crop[:i]
        buf[inside + (slice(None, sl.start),)] = 0
        buf[inside + (slice(sl.stop, None),)] = 0


def _weight_matrix(w, geom: ConvGeometry):
    """(Co, C/G, *k) as (G, prod(k)*C/G, Co/G) (channels last) or (G, Co/G, C/G*prod(k)).
    A non-contiguous weight is copied by the reshape (it is only read)."""
    G, nd = geom.G, geom.nd
    co, cg = w.shape[:2]
    if not geom.channels_last:
        return w.reshape(G, co // G, cg * geom.kernel_volume)
    kernel_then_channels = (0,) + _spatial(nd, 3) + (2, 1)
    return (w.reshape((G, co // G, cg) + geom.k).transpose(kernel_then_channels)
            .reshape(G, geom.kernel_volume * cg, co // G))


def _grad_matrix(xp, g, geom: ConvGeometry):
    """(N, Co, *out) as (G, N*prod(out), Co/G) (channels last) or (G, Co/G, N*prod(out)), in a scratch
    array (any strides of ``g`` are read by the copy)."""
    n, co = g.shape[:2]
    G, nd = geom.G, geom.nd
    m = n * math.prod(geom.out)
    if not geom.channels_last:
        buf = _scratch(xp, "gmat", (co, n) + geom.out, g.dtype)
        buf[...] = g.transpose((1, 0) + _spatial(nd))
        return buf.reshape(G, co // G, m)
    buf = _scratch(xp, "gmat", (G, n) + geom.out + (co // G,), g.dtype)
    buf[...] = g.reshape((n, G, co // G) + geom.out).transpose((1, 0) + _spatial(nd, 3) + (2,))
    return buf.reshape(G, m, co // G)


def _matmul(xp, a, b, role: str):
    """Stacked product (G, m, k) @ (G, k, n) into a scratch array (one BLAS call when G == 1)."""
    out = _scratch(xp, role, (a.shape[0], a.shape[1], b.shape[2]), np.result_type(a.dtype, b.dtype))
    if a.shape[0] == 1:
        xp.matmul(a[0], b[0], out=out[0])
    else:
        xp.matmul(a, b, out=out)
    return out


def _conv_array(xp, x, w, b, geom: ConvGeometry, cols=None, nhwc=None):
    """The convolution of arrays: a fresh (N, Co, *out) array."""
    if geom.kernels is not None:
        return geom.kernels.forward(xp, x, w, b, geom)
    n, nd = x.shape[0], geom.nd
    G, co = geom.G, geom.Co
    cog = co // G
    if cols is None:
        cols = _columns(xp, x, geom, nhwc=nhwc)
    out = xp.empty((n, co) + geom.out, np.result_type(x.dtype, w.dtype))
    if geom.channels_last:
        y = _matmul(xp, cols, _weight_matrix(w, geom), "gemm")  # (G, M, Co/G)
        if b is not None:
            y += b.reshape(G, 1, cog)
        channels_first = (1, 0, nd + 2) + _spatial(nd)
        out.reshape((n, G, cog) + geom.out)[...] = y.reshape((G, n) + geom.out + (cog,)).transpose(channels_first)
    else:
        y = _matmul(xp, _weight_matrix(w, geom), cols, "gemm")  # (G, Co/G, M)
        if b is not None:
            y += b.reshape(G, cog, 1)
        out[...] = y.reshape((co, n) + geom.out).transpose((1, 0) + _spatial(nd))
    return out


def _flipped_kernel(w, G: int):
    """(Co, C/G, *k) -> (C, Co/G, *k): in/out channels swapped per group, kernel reversed along every dim."""
    co, cg = w.shape[:2]
    k = w.shape[2:]
    swapped = w.reshape((G, co // G, cg) + k).transpose((0, 2, 1) + _spatial(len(k), 3))
    return swapped[(Ellipsis,) + (slice(None, None, -1),) * len(k)].reshape((G * cg, co // G) + k)


def _conv_transpose_array(xp, g, w, b, geom: ConvGeometry, gmat=None):
    """Adjoint of the convolution in its input: a fresh (N, C, *size) array from ``g`` (N, Co, *out)."""
    if geom.kernels is not None:
        out = geom.kernels.input_grad(xp, g, w, geom)
        if b is not None:
            out += b.reshape((-1,) + (1,) * geom.nd)
        return out
    gt = geom.transposed()
    if gt is not None:
        # The weight gradient's channels-last copy of g doubles as the input of this convolution.
        nhwc = gmat.reshape((g.shape[0],) + geom.out + (geom.Co,)) if (
            gmat is not None and geom.G == 1 and geom.channels_last and gt.channels_last) else None
        return _conv_array(xp, g, _flipped_kernel(w, geom.G), b, gt, nhwc=nhwc)
    nd = geom.nd
    wm = _weight_matrix(w, geom).transpose(0, 2, 1)
    if not geom.channels_last and nd == 2 and geom.s == (1, 1):
        out = _col2im_wide_rows(xp, g, wm, geom)
    else:
        out = _col2im(xp, g, wm, geom, _grad_matrix(xp, g, geom) if gmat is None else gmat)
    if b is not None:
        out += b.reshape((-1,) + (1,) * nd)
    return out


def _col2im_wide_rows(xp, g, wm, geom: ConvGeometry):
    """The input gradient of a 2-D stride-1 channel-major convolution on the padded width: with ``g``
    zero-extended to (Co, N, Ho, Wp), the columns of each kernel offset land on one contiguous run of
    Ho*Wp values per (channel, sample) plane of a (C, N, Hp*Wp) buffer (the run's extra values are the
    zeros), so each offset is one add with long inner loops instead of Ho short rows per plane. Samples
    go in chunks whose columns stay in the L2 cache while their k*k adds read them."""
    n, (ho, wo), (hp, wp) = g.shape[0], geom.out, geom.padded
    (kh, kw), (dh, dw) = geom.k, geom.d
    dtype = np.result_type(g.dtype, wm.dtype)
    wide = _scratch(xp, "gwide", (geom.Co, n, ho, wp), dtype)  # not "gmat": the caller may still need that
    wide[..., :wo] = g.transpose(1, 0, 2, 3)
    wide[..., wo:] = 0
    wide = wide.reshape(geom.G, geom.Co // geom.G, n, ho * wp)
    buf = _scratch(xp, "pad", (geom.C, n, hp * wp + (kw - 1) * dw), dtype)
    buf.fill(0)
    chunk = max(1, _COL2IM_CHUNK_BYTES // (wm.shape[1] * ho * wp * np.dtype(dtype).itemsize))
    for n0 in range(0, n, chunk):
        n1 = min(n, n0 + chunk)
        part = wide[:, :, n0:n1].reshape(geom.G, geom.Co // geom.G, (n1 - n0) * ho * wp)
        dc = _matmul(xp, wm, part, "cols").reshape(geom.C, kh * kw, n1 - n0, ho * wp)  # (G, Cg*K, .) as (C, K, .)
        for i in range(kh):
            for j in range(kw):
                start = i * dh * wp + j * dw
                buf[:, n0:n1, start:start + ho * wp] += dc[:, i * kw + j]
    planes = buf[:, :, :hp * wp].reshape(geom.C, n, hp, wp)
    out = xp.empty((n, geom.C) + geom.size, dtype)
    out[...] = planes[(_ALL, _ALL) + geom.crop()].transpose(1, 0, 2, 3)
    return out


def _col2im(xp, g, wm, geom: ConvGeometry, gmat):
    """The input gradient of the general lowering: columns ``g @ W`` added back into a padded buffer."""
    n, nd = g.shape[0], geom.nd
    G, C = geom.G, geom.C
    cg, kk = C // G, geom.kernel_volume
    out = xp.empty((n, C) + geom.size, np.result_type(g.dtype, wm.dtype))
    crop = geom.crop()
    if geom.channels_last:
        dcols = _matmul(xp, gmat, wm, "cols")  # (G, M, K*Cg)
        # (N, *out, K, G, Cg): one kernel offset's slice is a channels-last window of the input
        dc = dcols.reshape((G, n) + geom.out + (kk, cg)).transpose((1,) + _spatial(nd) + (nd + 2, 0, nd + 3))
        buf = _scratch(xp, "pad", (n,) + geom.padded + (G, cg), dcols.dtype)
        buf.fill(0)
        for idx, sl in geom.offsets():
            buf[(_ALL,) + sl] += dc[(_ALL,) * (nd + 1) + (idx,)]
        out[...] = buf[(_ALL,) + crop].reshape((n,) + geom.size + (C,)).transpose((0, nd + 1) + _spatial(nd, 1))
    else:
        dcols = _matmul(xp, wm, gmat, "cols")  # (G, Cg*K, M)
        dc = dcols.reshape((C, kk, n) + geom.out)
        buf = _scratch(xp, "pad", (n, C) + geom.padded, dcols.dtype)
        buf.fill(0)
        batch_first = (1, 0) + _spatial(nd)
        for idx, sl in geom.offsets():
            buf[_NC + sl] += dc[:, idx].transpose(batch_first)
        out[...] = buf[_NC + crop]
    return out


def _conv_weight_grad_array(xp, x, g, geom: ConvGeometry, gmat=None, cols=None):
    """Gradient of the convolution wrt its weight: a fresh (Co, C/G, *k) array."""
    if geom.kernels is not None:
        return geom.kernels.weight_grad(xp, x, g, geom)
    G, co, nd = geom.G, geom.Co, geom.nd
    cg = geom.C // G
    if cols is None:
        cols = _columns(xp, x, geom)
    if gmat is None:
        gmat = _grad_matrix(xp, g, geom)
    if not geom.channels_last:  # (G, Kg, M) @ (G, M, Co/G): the narrow dimension last is BLAS's fast case
        gw = _matmul(xp, cols, gmat.transpose(0, 2, 1), "gemm")
        return gw.transpose(0, 2, 1).copy().reshape((co, cg) + geom.k)  # a copy: never hand out scratch memory
    gw = _matmul(xp, cols.transpose(0, 2, 1), gmat, "gemm")  # (G, K*Cg, Co/G)
    out = xp.empty((co, cg) + geom.k, gw.dtype)
    out_then_in_then_kernel = (0, nd + 2, nd + 1) + _spatial(nd, 1)
    out.reshape((G, co // G, cg) + geom.k)[...] = gw.reshape((G,) + geom.k + (cg, co // G)).transpose(
        out_then_in_then_kernel)
    return out


# ---------------------------------------------------------------------------------------------
# Graph nodes
# ---------------------------------------------------------------------------------------------
class _GradMatrix:
    """The matrix form of an output gradient, computed once for both backward products."""

    __slots__ = ("g", "geom", "m")

    def __init__(self, g, geom):
        self.g, self.geom, self.m = g, geom, None

    def get(self, xp):
        if self.m is None:
            self.m = _grad_matrix(xp, self.g, self.geom)
        return self.m


class Convolution(Op):
    """``y = conv(x, w) + b``."""

    @staticmethod
    def forward(ctx, xp, xd, w, b, geom):
        ctx.save_for_backward(xd, w)
        ctx.geom = geom
        cols = None
        # The weight gradient needs these columns again: keep them (within the budget) rather than rebuild.
        kept = (_KeptColumns.take(xp, _columns_shape(xd.shape[0], geom), xd.dtype)
                if ctx.needs_input_grad[1] and geom.kernels is None else None)
        if kept is not None:
            cols = kept.matrix = _columns(xp, xd, geom, kept.array)
        ctx.kept = kept
        return _conv_array(xp, xd, w, b, geom, cols)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        geom, e = ctx.geom, ctx.needs_input_grad
        cache = _GradMatrix(g._data, geom) if e[0] and e[1] and geom.kernels is None else None
        gx = ConvolutionTranspose.apply(g, w, None, geom, cache) if e[0] else None
        kept, ctx.kept = ctx.kept, None  # used once: a second backward (retain_graph) rebuilds the columns
        gw = ConvolutionWeightGrad.apply(x, g, geom, cache, kept and kept.matrix) if e[1] else None
        if kept is not None:
            kept.release()
        gb = g.sum((0,) + _spatial(geom.nd)) if e[2] else None
        return gx, gw, gb, None


class ConvolutionTranspose(Op):
    """``x = conv^T(g, w) + b``: the gradient of a convolution wrt its input, and conv_transpose."""

    @staticmethod
    def forward(ctx, xp, g, w, b, geom, cache=None):
        ctx.save_for_backward(g, w)
        ctx.geom = geom
        gmat = None if cache is None else cache.get(xp)
        return _conv_transpose_array(xp, g, w, b, geom, gmat)

    @staticmethod
    def backward(ctx, gg):
        g, w = ctx.saved_tensors
        geom, e = ctx.geom, ctx.needs_input_grad
        dg = Convolution.apply(gg, w, None, geom) if e[0] else None
        dw = ConvolutionWeightGrad.apply(gg, g, geom) if e[1] else None
        db = gg.sum((0,) + _spatial(geom.nd)) if e[2] else None
        return dg, dw, db, None, None


class ConvolutionWeightGrad(Op):
    """``gw = columns(x)^T @ g``: the gradient of a convolution wrt its weight."""

    @staticmethod
    def forward(ctx, xp, x, g, geom, cache=None, cols=None):
        ctx.save_for_backward(x, g)
        ctx.geom = geom
        gmat = None if cache is None else cache.get(xp)
        return _conv_weight_grad_array(xp, x, g, geom, gmat, cols)

    @staticmethod
    def backward(ctx, ggw):
        x, g = ctx.saved_tensors
        geom, e = ctx.geom, ctx.needs_input_grad
        dx = ConvolutionTranspose.apply(g, ggw, None, geom) if e[0] else None
        dg = Convolution.apply(x, ggw, None, geom) if e[1] else None
        return dx, dg, None, None, None


# ---------------------------------------------------------------------------------------------
# Argument checks shared by the functional forms
# ---------------------------------------------------------------------------------------------
def _check_input(name: str, nd: int, input: Tensor) -> bool:
    """True when batched; raises PyTorch's message for a wrong number of dimensions."""
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {name}, but got "
                           f"input of size: {list(input.shape)}")
    return input.dim() == nd + 2


def _check_common(input: Tensor, weight: Tensor, bias, nd: int, out_channels: int, stride, dilation,
                  groups: int) -> None:
    if weight.dim() != nd + 2:
        raise RuntimeError(f"Expected {nd + 2}-dimensional weight for {nd + 2}-dimensional input "
                           f"{[1] * (input.dim() == nd + 1) + list(input.shape)}, but got {weight.dim()}-dimensional "
                           f"weight of size {list(weight.shape)} instead")
    if input.dtype != weight.dtype or (bias is not None and bias.dtype != weight.dtype):
        other = bias if input.dtype == weight.dtype else weight
        raise RuntimeError(f"expected scalar type {_tname(input)} but found {_tname(other)} (input type "
                           f"{input.dtype}, weight type {weight.dtype}"
                           + (f", bias type {bias.dtype}" if bias is not None else "") + " should be the same)")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"dilation should be greater than zero, but got {list(dilation)}")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != out_channels):
        raise RuntimeError(f"Given weight of size {list(weight.shape)}, expected bias to be 1-dimensional with "
                           f"{out_channels} elements, but got bias of size {list(bias.shape)} instead")


def _tname(t: Tensor) -> str:
    return {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
            "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}.get(t.dtype.name, t.dtype.name)


def _fmt_size(t) -> str:
    return " x ".join(str(v) for v in t)


def _conv_padding(padding, nd: int, k: tuple, d: tuple, stride: tuple):
    """(lo, hi) paddings per spatial dim from an int, a tuple, 'valid' or 'same'."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0,) * nd, (0,) * nd
        if padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            total = [d[i] * (k[i] - 1) for i in range(nd)]
            return tuple(t // 2 for t in total), tuple(t - t // 2 for t in total)
        raise RuntimeError(f"Invalid padding string: '{padding}'")
    if _is_padding_pairs(padding, nd):
        # Ember's extension: (before, after) per spatial dim, e.g. TensorFlow's "same" for a strided layer
        # (PyTorch rejects this form; it needs an F.pad copy of the whole input first).
        lo, hi = (tuple(int(pair[i]) for pair in padding) for i in (0, 1))
    else:
        lo = hi = _pair(padding, "padding", nd)
    if any(v < 0 for v in lo + hi):
        raise RuntimeError("negative padding is not supported")
    return lo, hi


def _is_padding_pairs(padding, nd: int) -> bool:
    """True for ``nd`` (before, after) pairs of ints; a malformed nesting raises naming the argument."""
    if isinstance(padding, (int, np.integer)) or not any(isinstance(p, (tuple, list)) for p in padding):
        return False
    if len(padding) != nd or not all(isinstance(p, (tuple, list)) and len(p) == 2
                                     and all(isinstance(v, (int, np.integer)) for v in p) for p in padding):
        raise RuntimeError(f"padding as (before, after) pairs needs one pair of ints per spatial dimension "
                           f"({nd}), got padding={padding!r}")
    return True


def _conv_nd(name: str, nd: int, input: Tensor, weight: Tensor, bias, stride, padding, dilation, groups):
    batched = _check_input(name, nd, input)
    stride, dilation = _pair(stride, "stride", nd), _pair(dilation, "dilation", nd)
    co = weight.shape[0]
    _check_common(input, weight, bias, nd, co, stride, dilation, groups)
    x = input if batched else input.unsqueeze(0)
    c = x.shape[1]
    if co % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
                           f"but got weight of size {list(weight.shape)} instead")
    if c != weight.shape[1] * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, expected input"
                           f"{list(x.shape)} to have {weight.shape[1] * groups} channels, but got {c} channels "
                           "instead")
    k = tuple(weight.shape[2:])
    lo, hi = _conv_padding(padding, nd, k, dilation, stride)
    size = tuple(x.shape[2:])
    padded = tuple(size[i] + lo[i] + hi[i] for i in range(nd))
    eff = tuple(dilation[i] * (k[i] - 1) + 1 for i in range(nd))
    if any(padded[i] < eff[i] for i in range(nd)):
        raise RuntimeError(f"Calculated padded input size per channel: ({_fmt_size(padded)}). Kernel size: "
                           f"({_fmt_size(eff)}). Kernel size can't be greater than actual input size")
    out = tuple((padded[i] - eff[i]) // stride[i] + 1 for i in range(nd))
    geom = ConvGeometry(c, co, groups, size, k, stride, dilation, lo, out, hi)
    y = Convolution.apply(x, weight, bias, geom)
    return y if batched else y.squeeze(0)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """1-D convolution (cross-correlation) of (N, C, L) or (C, L) input with (Cout, C/groups, k) weight.

    ``padding``: an int, a 1-tuple, ``'valid'`` or ``'same'`` (stride 1; even kernels pad more on the right),
    or (Ember's extension) ``((before, after),)``.
    """
    return _conv_nd("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation) of (N, C, H, W) or (C, H, W) input with (Cout, C/groups, kh, kw)
    weight. ``padding``: an int, a pair, ``'valid'`` or ``'same'`` (stride 1; even kernels pad more at the end),
    or (Ember's extension, for asymmetric padding without an ``F.pad`` copy) ``((top, bottom), (left, right))``.

    >>> x = ember.randn(1, 2, 8, 8)
    >>> F.conv2d(x, ember.randn(4, 2, 3, 3), stride=2, padding=((0, 1), (0, 1))).shape
    ember.Size([1, 4, 4, 4])
    """
    return _conv_nd("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """3-D convolution (cross-correlation) of (N, C, D, H, W) or (C, D, H, W) input with
    (Cout, C/groups, kd, kh, kw) weight. ``padding``: an int, a triple, ``'valid'`` or ``'same'``, or (Ember's
    extension) three (before, after) pairs.

    >>> x = ember.randn(1, 2, 5, 6, 7)
    >>> F.conv3d(x, ember.randn(4, 2, 3, 3, 3), padding=1).shape
    ember.Size([1, 4, 5, 6, 7])
    """
    return _conv_nd("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose_nd(name: str, nd: int, input: Tensor, weight: Tensor, bias, stride, padding,
                       output_padding, groups, dilation):
    batched = _check_input(name, nd, input)
    stride, dilation = _pair(stride, "stride", nd), _pair(dilation, "dilation", nd)
    if isinstance(padding, str):
        raise RuntimeError(f"{name}: padding must be an int or a tuple of ints (strings are not supported for "
                           "transposed convolutions)")
    p = _pair(padding, "padding", nd)
    op = _pair(output_padding, "output_padding", nd)
    if any(v < 0 for v in p):
        raise RuntimeError("negative padding is not supported")
    if any(v < 0 for v in op):
        raise RuntimeError("negative output_padding is not supported")
    cin = weight.shape[0]
    co = weight.shape[1] * groups if weight.dim() > 1 else 0
    _check_common(input, weight, bias, nd, co, stride, dilation, groups)
    for i in range(nd):
        if op[i] >= stride[i] and op[i] >= dilation[i]:
            dims = {1: ("",), 2: ("height", "width"), 3: ("depth", "height", "width")}[nd]
            sfx = [f"_{n}" if n else "" for n in dims]
            raise RuntimeError(
                "output padding must be smaller than either stride or dilation, but got "
                + " ".join(f"output_padding{s}: {v}" for s, v in zip(sfx, op)) + " "
                + " ".join(f"stride{s}: {v}" for s, v in zip(sfx, stride)) + " "
                + " ".join(f"dilation{s}: {v}" for s, v in zip(sfx, dilation)))
    x = input if batched else input.unsqueeze(0)
    if cin % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
                           f"but got weight of size {list(weight.shape)} instead")
    if x.shape[1] != cin:
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected input{list(x.shape)} "
                           f"to have {cin} channels, but got {x.shape[1]} channels instead")
    k = tuple(weight.shape[2:])
    size = tuple(x.shape[2:])
    out = tuple((size[i] - 1) * stride[i] - 2 * p[i] + dilation[i] * (k[i] - 1) + op[i] + 1 for i in range(nd))
    if any(o <= 0 for o in out):
        raise RuntimeError(f"Given input size per channel: ({_fmt_size(size)}). Calculated output size per "
                           f"channel: ({_fmt_size(out)}). Output size is too small")
    # The convolution this transposes: input ``out`` (padded by p), ``size`` windows.
    geom = ConvGeometry(co, cin, groups, out, k, stride, dilation, p, size)
    y = ConvolutionTranspose.apply(x, weight, bias, geom)
    return y if batched else y.squeeze(0)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """Transposed 1-D convolution; weight (Cin, Cout/groups, k). Output length
    ``(L-1)*stride - 2*padding + dilation*(k-1) + output_padding + 1``."""
    return _conv_transpose_nd("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding,
                              groups, dilation)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """Transposed 2-D convolution (the gradient of conv2d wrt its input); weight (Cin, Cout/groups, kh, kw)."""
    return _conv_transpose_nd("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding,
                              groups, dilation)


def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """Transposed 3-D convolution (the gradient of conv3d wrt its input); weight (Cin, Cout/groups, kd, kh, kw).

    >>> x = ember.randn(1, 4, 3, 3, 3)
    >>> F.conv_transpose3d(x, ember.randn(4, 2, 2, 2, 2), stride=2).shape
    ember.Size([1, 2, 6, 6, 6])
    """
    return _conv_transpose_nd("conv_transpose3d", 3, input, weight, bias, stride, padding, output_padding,
                              groups, dilation)


# ---------------------------------------------------------------------------------------------
# F.pad
# ---------------------------------------------------------------------------------------------
class ConstantPad(Op):
    """Pad (or, with negative amounts, crop) the trailing dims with a constant; the adjoint crops."""

    @staticmethod
    def forward(ctx, xp, d, pads, value):
        ctx.pads = pads
        lead = d.ndim - len(pads)
        shape = d.shape[:lead] + tuple(s + lo + hi for s, (lo, hi) in zip(d.shape[lead:], pads))
        if any(s < 0 for s in shape):
            raise RuntimeError(f"The input size {list(d.shape)}, plus negative padding {list(_flat(pads))} "
                               f"resulted in a negative output size, which is invalid. Check dimension "
                               f"{next(i for i, s in enumerate(shape) if s < 0)} of your input.")
        out = xp.full(shape, value, d.dtype)
        src, dst = [slice(None)] * lead, [slice(None)] * lead
        for s, (lo, hi) in zip(d.shape[lead:], pads):
            a, b = max(-lo, 0), s - max(-hi, 0)
            src.append(slice(a, max(a, b)))
            dst.append(slice(max(lo, 0), max(lo, 0) + max(b - a, 0)))
        out[tuple(dst)] = d[tuple(src)]
        return out

    @staticmethod
    def backward(ctx, g):
        return ConstantPad.apply(g, tuple((-lo, -hi) for lo, hi in ctx.pads), 0), None, None


def _flat(pads):
    out = []
    for lo, hi in reversed(pads):
        out += [lo, hi]
    return out


def _check_pad_amounts(mode: str, shape, dim: int, lo: int, hi: int, argument: int) -> None:
    """PyTorch's errors for the amounts ``(lo, hi)`` of one dim in the non-constant modes."""
    size, out = shape[dim], shape[dim] + lo + hi
    if mode == "reflect" and (lo >= size or hi >= size):
        raise RuntimeError(f"Argument #{argument}: Padding size should be less than the corresponding input "
                           f"dimension, but got: padding ({lo}, {hi}) at dimension {dim} of input {list(shape)}")
    if mode != "circular" and (out < 0 or (out == 0 and dim == len(shape) - 1)):
        name = "DHW"[dim - len(shape)]  # the padded dims are the last three at most
        raise RuntimeError(f"input ({name}: {size}) is too small. Calculated output {name}: {out}")
    if mode == "circular":
        if lo > size or hi > size:
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if out < 0:
            raise RuntimeError("Negative padding value is resulting in an empty dimension")
        # Wrapping reads from the cropped input, so a pad larger than what the crop keeps would wrap
        # more than once too (PyTorch fails there with an overlapping-memory error).
        kept = size - max(-lo, 0) - max(-hi, 0)
        if (lo > 0 and lo > kept) or (hi > 0 and hi > kept):
            raise RuntimeError(f"Padding value causes wrapping around more than once: circular padding ({lo}, {hi}) "
                               f"at dimension {dim} of input {list(shape)} wraps a cropped size of {max(kept, 0)}")
    if size == 0 and (lo > 0 or hi > 0):
        raise RuntimeError(f"{mode} padding: input dimension {dim} of size 0 cannot be padded "
                           f"(input of size {list(shape)})")


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last ``len(pad) // 2`` dims: ``pad = (left, right, top, bottom, ...)`` starting from the last
    dim. Modes: ``'constant'`` (``value``, default 0), ``'reflect'``, ``'replicate'``, ``'circular'``;
    negative amounts crop (circular padding then wraps around the cropped part, as in PyTorch).

    >>> F.pad(ember.arange(5.).reshape(1, 1, 5), (-1, 2), mode="circular")
    tensor([[[1., 2., 3., 4., 1., 2.]]])
    """
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    npad = len(pad) // 2
    if npad > input.dim():
        raise RuntimeError(f"Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {input.dim()}")
    # pads per padded dim, in dimension order
    pads = tuple((pad[2 * i], pad[2 * i + 1]) for i in reversed(range(npad)))
    if mode == "constant":
        return ConstantPad.apply(input, pads, 0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if npad > 3 or input.dim() not in (npad + 1, npad + 2):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {input.dim()}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    first = input.dim() - npad
    for i in reversed(range(npad)):  # PyTorch reports the last dim first
        _check_pad_amounts(mode, tuple(input.shape), first + i, *pads[i], argument=4 + 2 * (npad - 1 - i))
    from ...ops.creation import tensor as _tensor
    from ...ops.indexing import _pad_index
    out = input
    for i, (lo, hi) in enumerate(pads):
        if lo == 0 and hi == 0:
            continue
        index = _pad_index(mode, input.shape[first + i], lo, hi)
        out = out.index_select(first + i, _tensor(index, device=input.device))
    return out


# ---------------------------------------------------------------------------------------------
# F.unfold / F.fold (im2col in PyTorch's (N, C*kh*kw, L) layout)
# ---------------------------------------------------------------------------------------------
class Unfold(Op):
    """Sliding blocks of (N, C, H, W) as columns (N, C*kh*kw, OH*OW); the adjoint is Fold."""

    @staticmethod
    def forward(ctx, xp, d, win):
        ctx.win, ctx.in_shape = win, d.shape
        n, c = d.shape[:2]
        xpad = padded_input(xp, d, win, 0)
        out = xp.empty((n, c, win.k[0] * win.k[1]) + win.out, d.dtype)
        for idx, sl in win.offsets():
            out[:, :, idx] = xpad[_NC + sl]
        return out.reshape(n, c * win.k[0] * win.k[1], win.out[0] * win.out[1])

    @staticmethod
    def backward(ctx, g):
        return Fold.apply(g, ctx.win, ctx.in_shape), None


class Fold(Op):
    """Sum columns (N, C*kh*kw, L) back into (N, C, H, W); the adjoint is Unfold."""

    @staticmethod
    def forward(ctx, xp, d, win, out_shape):
        ctx.win = win
        kk = win.k[0] * win.k[1]
        blocks = d.reshape((d.shape[0], d.shape[1] // kk, kk) + win.out)
        return spread_windows(xp, lambda idx: blocks[:, :, idx], win, out_shape, d.dtype)

    @staticmethod
    def backward(ctx, g):
        return Unfold.apply(g, ctx.win), None, None


def _block_windows(size, kernel_size, dilation, padding, stride) -> Windows:
    k, d = _pair(kernel_size, "kernel_size"), _pair(dilation, "dilation")
    p, s = _pair(padding, "padding"), _pair(stride, "stride")
    if any(v <= 0 for v in k + d + s) or any(v < 0 for v in p):
        raise RuntimeError(f"kernel_size, dilation and stride must be positive and padding non-negative, but got "
                           f"kernel_size={k}, dilation={d}, padding={p}, stride={s}")
    out = tuple((size[i] + 2 * p[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(2))
    if any(o < 1 for o in out):
        raise RuntimeError(f"Given input with spatial size {tuple(size)}, kernel_size={k}, dilation={d}, padding={p}, "
                           f"calculated shape of the array of sliding blocks as {out}, but its components must be "
                           "at least one.")
    return Windows(tuple(size), k, s, d, p, out, p)


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Extract sliding blocks: (N, C, H, W) -> (N, C*kh*kw, L), channel-major then kernel row, column."""
    if input.dim() not in (3, 4):
        raise NotImplementedError(f"Input Error: Only 3D or 4D input Tensors are supported (got {input.dim()}D)")
    batched = input.dim() == 4
    x = input if batched else input.unsqueeze(0)
    win = _block_windows(tuple(x.shape[2:]), kernel_size, dilation, padding, stride)
    out = Unfold.apply(x, win)
    return out if batched else out.squeeze(0)


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sum sliding blocks back into an image: (N, C*kh*kw, L) -> (N, C, H, W); overlapping values add up."""
    if input.dim() not in (2, 3):
        raise NotImplementedError(f"Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported "
                                  f"(got {input.dim()}D)")
    batched = input.dim() == 3
    x = input if batched else input.unsqueeze(0)
    size = _pair(output_size, "output_size")
    win = _block_windows(size, kernel_size, dilation, padding, stride)
    kk = win.k[0] * win.k[1]
    if x.shape[1] % kk:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, but "
                           f"got input.size(1)={x.shape[1]} and kernel_size={win.k}.")
    if x.shape[2] != win.out[0] * win.out[1]:
        raise RuntimeError(f"Given output_size={size}, kernel_size={win.k}, dilation={win.d}, padding={win.lo}, "
                           f"stride={win.s}, expected size of input's dimension 2 to match the calculated number of "
                           f"sliding blocks {win.out[0]} * {win.out[1]} = {win.out[0] * win.out[1]}, but got "
                           f"input.size(2)={x.shape[2]}.")
    out = Fold.apply(x, win, (x.shape[0], x.shape[1] // kk) + size)
    return out if batched else out.squeeze(0)


# A node recorded directly (no Function.apply overhead) for single-input window ops in pooling.py.
def record_unary(cls, out, x: Tensor, attrs: dict) -> Tensor:
    if x._rg and STATE.enabled:
        res = record(cls, out, x._device, (x,))
        res.grad_fn.__dict__.update(attrs)
        return res
    return _make(out, x._device)


# Published for op observers (graph capture, the profiler): see ember._op_hooks.
observe_namespace(globals(), __all__)
