"""Pooling and resampling: max/avg/lp/adaptive pooling, max_unpool, interpolate, pixel_shuffle.

Pooling works on strided views of the (padded) input, one whole-array operation per kernel offset.
Max pooling remembers which offset won in each window; its gradient adds ``g`` back through the
same views (``WindowScatter``), whose own gradient reads them again (``WindowGather``), so second
derivatives work. Average pooling is the pair ``WindowSum`` / ``WindowSpread`` likewise. The
window code (shared with conv.py) works for 1, 2 or 3 spatial dims. Adaptive pooling, unpooling,
interpolation and pixel shuffle are compositions of Ember ops (reshape/mean/matmul/gather/
index_select), which carry their own gradients; uint8 bilinear/bicubic resizing is integer
arithmetic on arrays (no gradient), as PyTorch's.
"""
from __future__ import annotations

import math

import numpy as np

from ..._op_hooks import observe_namespace
from ..._tensor import Tensor
from ...autograd.function import Op
from ...autograd.grad_mode import STATE
from .conv import _NC, Windows, _ntuple, _spatial, padded_input, record_unary, spread_windows

__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices", "max_pool2d_with_indices",
           "max_pool3d_with_indices", "avg_pool1d", "avg_pool2d", "avg_pool3d", "lp_pool1d", "lp_pool2d", "lp_pool3d",
           "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d",
           "adaptive_max_pool2d", "adaptive_max_pool3d", "adaptive_max_pool1d_with_indices",
           "adaptive_max_pool2d_with_indices", "adaptive_max_pool3d_with_indices", "max_unpool1d", "max_unpool2d",
           "max_unpool3d", "interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "pixel_shuffle",
           "pixel_unshuffle"]


# ---------------------------------------------------------------------------------------------
# Arguments and window geometry
# ---------------------------------------------------------------------------------------------
def _ints(v, nd: int, name: str) -> tuple:
    return _ntuple(v, nd, lambda bad: f"{name} must either be a single int, or a tuple of {nd} ints")


def _pool_out(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output size; in ceil mode the last window must start inside the input or left padding."""
    num = size + 2 * p - d * (k - 1) - 1
    out = (num + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _as_batched(name: str, nd: int, input: Tensor, msg: str):
    """(N, C, *spatial) view of a pooling input plus a function restoring the caller's layout."""
    if input.dim() not in (nd + 1, nd + 2) or (input.numel() == 0 and input.dim() == nd + 1):
        raise RuntimeError(msg.format(shape=list(input.shape), dim=input.dim()))
    batched = input.dim() == nd + 2
    x = input if batched else input.unsqueeze(0)

    def restore(t: Tensor) -> Tensor:
        return t if batched else t.squeeze(0)
    return x, restore


def _pool_windows(x: Tensor, nd: int, kernel_size, stride, padding, dilation, ceil_mode: bool) -> Windows:
    k = _ints(kernel_size, nd, "kernel_size")
    s = k if stride is None or (not isinstance(stride, int) and len(stride) == 0) else _ints(stride, nd, "stride")
    p, d = _ints(padding, nd, "padding"), _ints(dilation, nd, "dilation")
    if any(v == 0 for v in s):
        raise RuntimeError("stride should not be zero")
    if any(v <= 0 for v in k):
        raise RuntimeError(f"kernel_size must be greater than zero, but got kernel_size={list(k)}")
    if any(v <= 0 for v in s):
        raise RuntimeError(f"stride must be greater than zero, but got stride={list(s)}")
    if any(v <= 0 for v in d):
        raise RuntimeError(f"dilation must be greater than zero, but got dilation={list(d)}")
    for i in range(nd):
        if p[i] < 0 or p[i] > (d[i] * (k[i] - 1) + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p[i]}, "
                               f"kernel_size={k[i]} and dilation={d[i]}")
    size = tuple(x.shape[2:])
    out = tuple(_pool_out(size[i], k[i], s[i], p[i], d[i], ceil_mode) for i in range(nd))
    if any(o < 1 for o in out):
        c = x.shape[1]
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, (c,) + size))}). Calculated output size: "
                           f"({'x'.join(map(str, (c,) + out))}). Output size is too small")
    return Windows(size, k, s, d, p, out, p)


def _window_sum(xp, d, win: Windows):
    """Sum over each window of (N, C, *size) ``d`` (zero padding): a fresh (N, C, *out) array."""
    xpad = padded_input(xp, d, win, 0)
    acc = None
    for _, sl in win.offsets():
        v = xpad[_NC + sl]
        if acc is None:
            acc = xp.array(v)
        else:
            acc += v
    return acc


# ---------------------------------------------------------------------------------------------
# Nodes: reading windows (gather / sum) and their adjoints (scatter / spread)
# ---------------------------------------------------------------------------------------------
class WindowScatter(Op):
    """Add ``g`` at the input position each window's chosen offset ``arg`` points at."""

    @staticmethod
    def forward(ctx, xp, gd, arg, win, in_shape):
        ctx.arg, ctx.win = arg, win
        if not any(win.lo) and win.disjoint:
            return _scatter_disjoint(xp, gd, arg, win, in_shape)
        mask, part = xp.empty(arg.shape, bool), xp.empty(gd.shape, gd.dtype)

        def chosen(idx):  # g where offset idx won, else 0 (a select, so inf/NaN in g stay where they belong)
            part.fill(0)
            xp.copyto(part, gd, where=xp.equal(arg, idx, out=mask))
            return part
        return spread_windows(xp, chosen, win, in_shape, gd.dtype)

    @staticmethod
    def backward(ctx, gg):
        return WindowGather.apply(gg, ctx.arg, ctx.win), None, None, None


def _scatter_disjoint(xp, gd, arg, win, in_shape):
    """WindowScatter for windows that never overlap and need no padding: every window's gradient
    goes to one input position, so one indexed write of flat positions builds the whole gradient."""
    nd, plane = win.nd, math.prod(win.size)
    step = _row_major_steps(win.size)
    corner = xp.arange(in_shape[0] * in_shape[1]).reshape(tuple(in_shape[:2]) + (1,) * nd) * plane
    offset = xp.zeros((), np.int64)
    for i in range(nd):
        corner = corner + _along(xp.arange(win.out[i]) * (win.s[i] * step[i]), i, nd)
        offset = offset[..., None] + xp.arange(win.k[i]) * (win.d[i] * step[i])
    out = xp.zeros(math.prod(in_shape), gd.dtype)
    out[(corner + offset.reshape(-1)[arg]).reshape(-1)] = gd.reshape(-1)  # gd may be any view: it is only read
    return out.reshape(in_shape)


def _row_major_steps(size: tuple) -> tuple:
    """Flat-index step of each dim of a C-ordered array of ``size``."""
    return tuple(math.prod(size[i + 1:]) for i in range(len(size)))


def _along(v, i: int, nd: int):
    """1-D ``v`` shaped to broadcast along spatial dim ``i`` of ``nd`` trailing dims."""
    return v.reshape((-1,) + (1,) * (nd - 1 - i))


class WindowGather(Op):
    """Read, in each window, the value at its chosen offset ``arg``."""

    @staticmethod
    def forward(ctx, xp, x, arg, win):
        ctx.arg, ctx.win, ctx.in_shape = arg, win, x.shape
        xpad = padded_input(xp, x, win, 0)
        out = xp.zeros(arg.shape, x.dtype)
        for idx, sl in win.offsets():
            xp.copyto(out, xpad[_NC + sl], where=arg == idx)
        return out

    @staticmethod
    def backward(ctx, g):
        return WindowScatter.apply(g, ctx.arg, ctx.win, ctx.in_shape), None, None


class MaxPool2DWithIndices(Op):
    """Node of max pooling (recorded directly): the gradient goes to each window's maximum."""

    @staticmethod
    def backward(ctx, g):
        return WindowScatter.apply(g, ctx.arg, ctx.win, ctx.in_shape)


class MaxPool3DWithIndices(MaxPool2DWithIndices):
    """The same node for 3-D pooling (named as PyTorch's, for grad_fn)."""


_MAX_POOL_NODE = {1: MaxPool2DWithIndices, 2: MaxPool2DWithIndices, 3: MaxPool3DWithIndices}


class WindowSum(Op):
    """``sum over each window * scale`` (scale: a number or an (OH, OW) array): average pooling."""

    @staticmethod
    def forward(ctx, xp, x, scale, win):
        ctx.scale, ctx.win, ctx.in_shape = scale, win, x.shape
        acc = _window_sum(xp, x, win)
        acc *= scale
        return acc

    @staticmethod
    def backward(ctx, g):
        return WindowSpread.apply(g, ctx.scale, ctx.win, ctx.in_shape), None, None


class WindowSpread(Op):
    """Adjoint of WindowSum: ``g * scale`` added to every position of its window."""

    @staticmethod
    def forward(ctx, xp, g, scale, win, in_shape):
        ctx.scale, ctx.win = scale, win
        gs = g * scale
        return spread_windows(xp, lambda idx: gs, win, in_shape, gs.dtype)

    @staticmethod
    def backward(ctx, gg):
        return WindowSum.apply(gg, ctx.scale, ctx.win), None, None, None


# ---------------------------------------------------------------------------------------------
# Max pooling
# ---------------------------------------------------------------------------------------------
def _lowest(dtype):
    return -np.inf if dtype.kind == "f" else (np.iinfo(dtype).min if dtype.kind in "iu" else False)


def _max_windows(xp, x, win: Windows, need_arg: bool):
    """Window maxima of (N, C, *size) ``x`` and, if ``need_arg``, the kernel offset of the first maximum
    (of the last NaN where a window holds NaN, as PyTorch)."""
    xpad = padded_input(xp, x, win, _lowest(x.dtype))
    views = [xpad[_NC + sl] for _, sl in win.offsets()]
    best = xp.array(views[0])
    if not need_arg:
        for v in views[1:]:
            xp.maximum(best, v, out=best)
        return best, None
    kk = len(views)
    arg = xp.zeros(best.shape, np.uint8 if kk <= 256 else np.int32)
    better = xp.empty(best.shape, bool)
    step = xp.empty(best.shape, arg.dtype)
    for k, v in enumerate(views[1:], 1):
        xp.greater(v, best, out=better)
        xp.maximum(best, v, out=best)
        # offsets only increase, so "k where better, else keep" is a maximum
        xp.maximum(arg, xp.multiply(better, k, out=step, dtype=arg.dtype), out=arg)
    if x.dtype.kind == "f" and xp.isnan(best).any():
        for k, v in enumerate(views):
            arg[xp.isnan(v)] = k
    unset = best == _lowest(x.dtype)
    if unset.any():  # nothing beat the padding value: PyTorch points at the window's first in-bounds offset
        xp.copyto(arg, xp.broadcast_to(_first_inside(xp, win).astype(arg.dtype), arg.shape), where=unset)
    return best, arg


def _first_inside(xp, win: Windows):
    """(*out) kernel offset of each window's first position inside the input (not in the padding)."""
    nd = win.nd
    first = xp.zeros((1,) * nd, np.int64)
    for i in range(nd):
        before = -xp.minimum(xp.arange(win.out[i]) * win.s[i] - win.lo[i], 0)  # padding cells before the input
        step = (before + win.d[i] - 1) // win.d[i]  # smallest kernel step that lands at a position >= 0
        first = first * win.k[i] + _along(step, i, nd)
    return first


def _flat_indices(xp, arg, win: Windows):
    """Offsets of the maxima as PyTorch's indices: row-major positions (``h * W + w`` in 2-D,
    ``(d * H + h) * W + w`` in 3-D) in the unpadded input volume."""
    nd = win.nd
    a = arg.astype(np.int64)
    flat = xp.zeros((1,) * nd, np.int64)
    for i in reversed(range(nd)):  # the kernel offset is row-major over the kernel dims: peel the last first
        a, k_i = a // win.k[i], a % win.k[i]
        pos = _along(xp.arange(win.out[i], dtype=np.int64) * win.s[i] - win.lo[i], i, nd) + k_i * win.d[i]
        flat = flat + pos * _row_major_steps(win.size)[i]
    return flat


def _max_pool(name: str, nd: int, input: Tensor, kernel_size, stride, padding, dilation, ceil_mode,
              return_indices: bool, msg: str):
    x, restore = _as_batched(name, nd, input, msg)
    win = _pool_windows(x, nd, kernel_size, stride, padding, dilation, ceil_mode)
    xp = x._device.xp
    best, arg = _max_windows(xp, x._data, win, return_indices or (x._rg and STATE.enabled))
    out = restore(record_unary(_MAX_POOL_NODE[nd], best, x, {"arg": arg, "win": win, "in_shape": x._data.shape}))
    if not return_indices:
        return out
    from ..._tensor import _make
    return out, restore(_make(_flat_indices(xp, arg, win), x._device))


_MAXPOOL2D_MSG = "non-empty 3D or 4D (batch mode) tensor expected for input, but got {shape}"
_MAXPOOL1D_MSG = ("max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for input, "
                  "but got:{shape}")
_MAXPOOL3D_MSG = "non-empty 4D or 5D (batch mode) tensor expected for input, but got {shape}"


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """2-D max pooling over (N, C, H, W) or (C, H, W); ``stride`` defaults to ``kernel_size``; padding counts as
    -inf. With ``return_indices``, also the flat ``h * W + w`` position of each maximum (for max_unpool2d)."""
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     _MAXPOOL2D_MSG)


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """1-D max pooling over (N, C, L) or (C, L)."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     _MAXPOOL1D_MSG)


def max_pool3d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """3-D max pooling over (N, C, D, H, W) or (C, D, H, W); ``stride`` defaults to ``kernel_size``; padding
    counts as -inf. With ``return_indices``, also the flat ``(d * H + h) * W + w`` position of each maximum.

    >>> y, idx = F.max_pool3d(ember.randn(1, 2, 4, 4, 4), 2, return_indices=True)
    >>> y.shape, idx.dtype
    (ember.Size([1, 2, 2, 2, 2]), ember.int64)
    """
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     _MAXPOOL3D_MSG)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


# ---------------------------------------------------------------------------------------------
# Average and power-average pooling
# ---------------------------------------------------------------------------------------------
def _avg_divisor(win: Windows, count_include_pad: bool):
    """Per-window divisors (*out) as PyTorch counts them: windows are cut at the padded border, and
    without ``count_include_pad`` also at the input border."""
    divisor = np.ones((1,) * win.nd, np.int64)
    for i in range(win.nd):
        start = np.arange(win.out[i]) * win.s[i] - win.lo[i]
        end = np.minimum(start + win.k[i], win.size[i] + win.lo[i])
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, win.size[i])
        divisor = divisor * _along(end - start, i, win.nd)
    return divisor


def _avg_pool(name: str, nd: int, input: Tensor, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override, msg: str):
    x, restore = _as_batched(name, nd, input, msg)
    win = _pool_windows(x, nd, kernel_size, stride, padding, 1, ceil_mode)
    xp = x._device.xp
    if divisor_override is not None:
        if divisor_override == 0:
            raise RuntimeError("divisor must be not zero")
        divisor = np.full(win.out, divisor_override)
    else:
        divisor = _avg_divisor(win, count_include_pad)
    dt = x._data.dtype
    if dt.kind != "f":  # integer pooling: truncating division, no gradient
        from ..._tensor import _make
        acc = _window_sum(xp, x._data.astype(np.int64), win)
        return restore(_make(xp.trunc(acc / xp.asarray(divisor)).astype(dt), x._device))
    d0 = divisor.flat[0]
    scale = 1.0 / float(d0) if (divisor == d0).all() else xp.asarray(1.0 / divisor, dtype=dt)
    return restore(WindowSum.apply(x, scale, win))


_AVGPOOL1D_MSG = ("Expected 2 to 3 dimensions, but got {dim}-dimensional tensor for argument #1 'self' (while "
                  "checking arguments for avg_pool1d)")


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """2-D average pooling; zero padding counts in the divisor unless ``count_include_pad=False``;
    ``divisor_override`` replaces the divisor."""
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, _MAXPOOL2D_MSG)


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """1-D average pooling over (N, C, L) or (C, L)."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None,
                     _AVGPOOL1D_MSG)


def avg_pool3d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """3-D average pooling over (N, C, D, H, W) or (C, D, H, W); zero padding counts in the divisor unless
    ``count_include_pad=False``; ``divisor_override`` replaces the divisor.

    >>> F.avg_pool3d(ember.ones(1, 1, 4, 4, 4), 2, padding=1, count_include_pad=False).shape
    ember.Size([1, 1, 3, 3, 3])
    """
    return _avg_pool("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, _MAXPOOL3D_MSG)


def _lp_pool(nd: int, input: Tensor, norm_type: float, kernel_size, stride, ceil_mode) -> Tensor:
    k = _ints(kernel_size, nd, "kernel_size")
    pool = {1: avg_pool1d, 2: avg_pool2d, 3: avg_pool3d}[nd]
    out = pool(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return (out.sign() * out.abs().relu()).mul(math.prod(k)).pow(1.0 / norm_type)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False) -> Tensor:
    """Power-average pooling: ``(sum over the window of x^p) ^ (1/p)``."""
    return _lp_pool(2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool1d(input: Tensor, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False) -> Tensor:
    return _lp_pool(1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input: Tensor, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False) -> Tensor:
    """3-D power-average pooling: ``(sum over the window of x^p) ^ (1/p)``."""
    return _lp_pool(3, input, norm_type, kernel_size, stride, ceil_mode)


# ---------------------------------------------------------------------------------------------
# Adaptive pooling
# ---------------------------------------------------------------------------------------------
def _adaptive_sizes(name: str, output_size, size: tuple) -> tuple:
    """Output sizes of adaptive pooling (None entries keep the input size), PyTorch's errors."""
    nd = len(size)
    out = (output_size,) * nd if output_size is None or isinstance(output_size, (int, np.integer)) else \
        tuple(output_size)
    if len(out) == 1 and nd > 1:
        out = out * nd
    if len(out) != nd:
        raise RuntimeError(f"{name}: output_size must be {nd} (got {len(out)} values: {list(out)})")
    out = tuple(size[i] if o is None else int(o) for i, o in enumerate(out))
    if any(o < 0 for o in out):
        raise RuntimeError(f"adaptive pooling: output_size must be non-negative, but got {list(out)}")
    return out


def _bounds(size: int, out: int):
    """Window starts and ends of adaptive pooling: ``[floor(i*size/out), ceil((i+1)*size/out))``."""
    i = np.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)


def _adaptive_input(name: str, nd: int, input: Tensor, allowed_msg: str):
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(allowed_msg.format(shape=list(input.shape), dim=input.dim()))
    return _as_batched(name, nd, input, allowed_msg)


def _averaging_matrix(size: int, out: int, like: Tensor) -> Tensor:
    start, end = _bounds(size, out)
    pos = np.arange(size)
    m = ((pos >= start[:, None]) & (pos < end[:, None])) / (end - start)[:, None]
    return like.new_tensor(m.astype(like._data.dtype))


def _adaptive_avg(name: str, nd: int, input: Tensor, output_size, msg: str) -> Tensor:
    x, restore = _adaptive_input(name, nd, input, msg)
    if x._data.dtype.kind != "f":
        raise NotImplementedError(f'"{name}" not implemented for \'{input.dtype}\'')
    n, c = x.shape[:2]
    size = tuple(x.shape[2:])
    out = _adaptive_sizes(name, output_size, size)
    if all(o == 1 for o in out):
        return restore(x.mean(_spatial(nd), keepdim=True))
    if all(o and s % o == 0 for s, o in zip(size, out)):  # equal windows: a mean over reshaped blocks
        blocks = (n, c) + tuple(v for s, o in zip(size, out) for v in (o, s // o))
        return restore(x.reshape(blocks).mean(tuple(range(3, 3 + 2 * nd, 2))))
    # Uneven windows: one product per resized dim with a row-normalised window-membership matrix
    # (out = A_h @ x @ A_w^T in 2-D).
    y = x
    for i in reversed(range(nd)):
        if size[i] == out[i]:
            continue
        a = _averaging_matrix(size[i], out[i], x)
        dim = 2 + i
        if i == nd - 1:
            y = y.matmul(a.mT)
        elif dim == y.dim() - 2:
            y = a.matmul(y)
        else:
            y = a.matmul(y.transpose(dim, -2)).transpose(dim, -2)
    return restore(y)


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Average over windows chosen so that the output is ``output_size`` (an int, or a pair whose None
    entries keep the input size)."""
    return _adaptive_avg("adaptive_avg_pool2d", 2, input, output_size,
                         "adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got {shape}")


def adaptive_avg_pool3d(input: Tensor, output_size) -> Tensor:
    """Average over adaptive windows of (N, C, D, H, W) or (C, D, H, W) so that the output is
    ``output_size`` (an int, or a triple whose None entries keep the input size).

    >>> F.adaptive_avg_pool3d(ember.randn(2, 3, 5, 6, 7), (2, None, 3)).shape
    ember.Size([2, 3, 2, 6, 3])
    """
    return _adaptive_avg("adaptive_avg_pool3d", 3, input, output_size,
                         "adaptive_avg_pool3d(): Expected 4D or 5D tensor, but got {shape}")


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    return _adaptive_avg("adaptive_avg_pool1d", 1, input, output_size,
                         "Expected 2 to 3 dimensions, but got {dim}-dimensional tensor for argument #1 'self' "
                         "(while checking arguments for adaptive_avg_pool1d)")


def _adaptive_max(name: str, nd: int, input: Tensor, output_size, return_indices: bool, msg: str):
    x, restore = _adaptive_input(name, nd, input, msg)
    n, c = x.shape[:2]
    size = tuple(x.shape[2:])
    out = _adaptive_sizes(name, output_size, size)
    xp = x._device.xp
    flat = _adaptive_candidates(size, out)
    # Reading through the (N, C, prod(size)) reshape copies a non-contiguous input: it is only read.
    cand = x._data.reshape(n, c, -1)[:, :, xp.asarray(flat)]
    first = cand.argmax(-1)  # NaN counts as the maximum, as in PyTorch
    idx = xp.take_along_axis(xp.broadcast_to(xp.asarray(flat), cand.shape), first[..., None], -1)[..., 0]
    from ..._tensor import _make
    index = _make(idx.astype(np.int64), x._device)
    res = x.reshape(n, c, -1).gather(2, index.reshape(n, c, -1)).reshape((n, c) + out)
    return (restore(res), restore(index)) if return_indices else restore(res)


def _adaptive_candidates(size: tuple, out: tuple):
    """(*out, K) flat input positions of each adaptive window, padded to the largest window (K
    positions) by repeating its last position (a repeat never changes the maximum nor which position
    comes first)."""
    nd = len(size)
    step = _row_major_steps(size)
    flat = np.zeros((1,) * (2 * nd), np.int64)
    for i in range(nd):
        start, end = _bounds(size[i], out[i])
        k = int((end - start).max(initial=1))
        pos = np.minimum(start[:, None] + np.arange(k), end[:, None] - 1) * step[i]  # (out_i, k)
        shape = [1] * (2 * nd)
        shape[i], shape[nd + i] = out[i], k
        flat = flat + pos.reshape(shape)
    return flat.reshape(out + (-1,))


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """Maximum over adaptive windows (see adaptive_avg_pool2d); indices are flat ``h * W + w`` positions."""
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices,
                         "adaptive_max_pool2d(): Expected 3D or 4D tensor, but got: {shape}")


def adaptive_max_pool3d(input: Tensor, output_size, return_indices: bool = False):
    """Maximum over adaptive windows of (N, C, D, H, W); indices are flat ``(d * H + h) * W + w`` positions."""
    return _adaptive_max("adaptive_max_pool3d", 3, input, output_size, return_indices,
                         "adaptive_max_pool3d(): Expected 4D or 5D tensor, but got: {shape}")


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool3d(input, output_size, True)


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices,
                         "adaptive_max_pool1d(): Expected 2D or 3D tensor, but got: {shape}")


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool1d(input, output_size, True)


# ---------------------------------------------------------------------------------------------
# Max unpooling
# ---------------------------------------------------------------------------------------------
def _max_unpool(nd: int, input: Tensor, indices: Tensor, kernel_size, stride, padding, output_size):
    k = _ints(kernel_size, nd, "kernel_size")
    s = k if stride is None else _ints(stride, nd, "stride")
    p = _ints(padding, nd, "padding")
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"max_unpool{nd}d: expected a {nd + 1}D or {nd + 2}D input, but got input of size "
                           f"{list(input.shape)}")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor ({list(input.shape)}) "
                           f"but got indices tensor with shape: {list(indices.shape)}")
    if indices._data.dtype.kind not in "iu":
        raise RuntimeError(f"elements in indices should be type int64 but got: {indices.dtype}")
    size = tuple(input.shape[-nd:])
    default = tuple((size[i] - 1) * s[i] - 2 * p[i] + k[i] for i in range(nd))
    if output_size is None:
        out = default
    else:
        out = tuple(int(v) for v in output_size)
        if len(out) == nd + 2 or (len(out) == nd + 1 and input.dim() == nd + 1):
            out = out[-nd:]
        if len(out) != nd:
            raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} elements, but it has a "
                             f"length of '{len(out)}'")
        for i in range(nd):
            lo, hi = default[i] - s[i], default[i] + s[i]
            if not lo < out[i] < hi:
                raise ValueError(f'invalid output_size "{tuple(output_size)}" (dim {i} must be between {lo} and {hi})')
    batched = input.dim() == nd + 2
    x = input if batched else input.unsqueeze(0)
    idx = indices if batched else indices.unsqueeze(0)
    n, c = x.shape[:2]
    plane = math.prod(out)
    d = idx._data
    if d.size and (int(d.max()) >= plane or int(d.min()) < 0):
        bad = int(d.max()) if int(d.max()) >= plane else int(d.min())
        raise RuntimeError(f"Found an invalid max index: {bad} (output volumes are of size "
                           f"{'x'.join(map(str, out))})")
    flat = x.new_zeros((n, c, plane)).scatter(2, idx.reshape(n, c, -1).to(np.int64), x.reshape(n, c, -1))
    res = flat.reshape((n, c) + out)
    return res if batched else res.squeeze(0)


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """Partial inverse of max_pool2d: values placed at ``indices`` (from ``return_indices=True``), zeros elsewhere."""
    return _max_unpool(2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    return _max_unpool(1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """Partial inverse of max_pool3d: values placed at ``indices`` (from ``return_indices=True``), zeros elsewhere."""
    return _max_unpool(3, input, indices, kernel_size, stride, padding, output_size)


# ---------------------------------------------------------------------------------------------
# Interpolation
# ---------------------------------------------------------------------------------------------
_MODE_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "nearest-exact")


def _interp_sizes(input: Tensor, size, scale_factor, recompute_scale_factor):
    """Output sizes and the scales used to map coordinates (None: in/out)."""
    nd = input.dim() - 2
    spatial = list(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
        out = (size,) * nd if isinstance(size, (int, np.integer)) else tuple(size)
        if len(out) != nd:
            raise ValueError(f"Input and output must have the same number of spatial dimensions, but got input with "
                             f"spatial dimensions of {spatial} and output size of {size}. Please provide input "
                             "tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) format.")
        return tuple(int(o) for o in out), (None,) * nd
    if scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    sf = (scale_factor,) * nd if isinstance(scale_factor, (int, float)) else tuple(scale_factor)
    if len(sf) != nd:
        raise ValueError(f"Input and scale_factor must have the same number of spatial dimensions, but got input with "
                         f"spatial dimensions of {spatial} and scale_factor of shape {scale_factor}. Please provide "
                         "input tensor in (N, C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) format.")
    out = tuple(int(math.floor(float(spatial[i]) * float(sf[i]))) for i in range(nd))
    return out, (None,) * nd if recompute_scale_factor else tuple(float(v) for v in sf)


def _src_scale(in_size: int, out_size: int, scale, align_corners: bool) -> float:
    """PyTorch's source-coordinate scale (area_pixel_compute_scale)."""
    if align_corners:
        return (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    return 1.0 / scale if scale is not None and scale > 0 else in_size / out_size


def _nearest_index(in_size: int, out_size: int, scale, exact: bool):
    # PyTorch computes these in single precision; doing the same keeps ties identical.
    if not exact and out_size == in_size:
        return np.arange(out_size)
    if not exact and out_size == 2 * in_size:
        return np.arange(out_size) // 2
    s = np.float32(1.0 / scale if scale is not None and scale > 0 else in_size / out_size)
    dst = np.arange(out_size, dtype=np.float32) + (np.float32(0.5) if exact else np.float32(0))
    return np.minimum(np.floor(dst * s).astype(np.int64), in_size - 1)


def _cubic_weights(t):
    """The 4 cubic-convolution weights (A = -0.75) for fractional offsets ``t``."""
    a = -0.75

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return far(t + 1), near(t), near(1 - t), far(2 - t)


def _taps(in_size: int, out_size: int, scale, mode: str, align_corners: bool):
    """The linear or cubic interpolation taps of one dim as PyTorch places them: a list of
    (source index, weight) array pairs over the ``out_size`` outputs (indices clamped to the input)."""
    s = _src_scale(in_size, out_size, scale, align_corners)
    dst = np.arange(out_size, dtype=np.float64)
    src = s * dst if align_corners else s * (dst + 0.5) - 0.5
    if mode == "bicubic":
        i0 = np.floor(src).astype(np.int64)
        return list(zip([np.clip(i0 + o, 0, in_size - 1) for o in (-1, 0, 1, 2)], _cubic_weights(src - i0)))
    src = np.maximum(src, 0.0)
    i0 = np.minimum(src.astype(np.int64), in_size - 1)
    lam = src - i0
    return [(i0, 1.0 - lam), (np.minimum(i0 + 1, in_size - 1), lam)]


def _resample_dim(x: Tensor, dim: int, out_size: int, scale, mode: str, align_corners: bool) -> Tensor:
    """Resample one spatial dim (separable interpolation): index_select of the taps, weighted sum."""
    in_size = x.shape[dim]
    dev = x.device
    from ...ops.creation import tensor as _tensor

    def take(i):
        return x.index_select(dim, _tensor(i, device=dev))

    def weight(wv):
        shape = [1] * x.dim()
        shape[dim] = out_size
        return x.new_tensor(np.asarray(wv, dtype=x._data.dtype).reshape(shape))

    if mode in ("nearest", "nearest-exact"):
        return take(_nearest_index(in_size, out_size, scale, mode == "nearest-exact"))
    out = None
    for index, wv in _taps(in_size, out_size, scale, mode, align_corners):
        term = take(index) * weight(wv)
        out = term if out is None else out + term
    return out


_U8_MAX_PRECISION = 22  # fixed-point bits of the uint8 weights, at most (and int16 weights, always)


def _fixed_point_weights(in_size: int, out_size: int, scale, mode: str, align_corners: bool):
    """(out, in) integer weights and their number of fractional bits for uint8 resampling.

    PyTorch resizes uint8 images with integer arithmetic: the float weights of each output (taps
    that land on the same clamped index are merged first) are scaled by ``2**bits`` and rounded
    half away from zero, with ``bits`` as large as keeps the largest weight within int16.
    """
    dense = np.zeros((out_size, in_size), np.float64)
    rows = np.arange(out_size)
    for index, wv in _taps(in_size, out_size, scale, mode, align_corners):
        np.add.at(dense, (rows, index), wv)
    biggest = float(dense.max(initial=0.0))
    bits = 0
    while bits < _U8_MAX_PRECISION and int(0.5 + biggest * (1 << (bits + 1))) < (1 << 15):
        bits += 1
    scaled = dense * (1 << bits)
    return np.trunc(scaled + np.where(scaled < 0, -0.5, 0.5)).astype(np.int64), bits


def _resample_dim_uint8(xp, d, dim: int, out_size: int, scale, mode: str, align_corners: bool):
    """One separable pass over uint8 array ``d``: integer weighted sums, rounded (half up) and
    clamped to [0, 255] before the next pass, as PyTorch does."""
    w, bits = _fixed_point_weights(d.shape[dim], out_size, scale, mode, align_corners)
    moved = xp.moveaxis(d, dim, -1).astype(np.int64)
    acc = moved @ xp.asarray(w.T) + (1 << bits >> 1)
    return xp.moveaxis(xp.clip(acc >> bits, 0, 255).astype(np.uint8), -1, dim)


def _interpolate_uint8(input: Tensor, out: tuple, scales: tuple, mode: str, align_corners: bool) -> Tensor:
    """Bilinear/bicubic resizing of a uint8 image, last dim first (no gradient: integer output)."""
    from ..._tensor import _make
    xp = input._device.xp
    d = input._data
    for i in reversed(range(len(out))):
        if out[i] != d.shape[2 + i]:  # PyTorch skips a dim whose size does not change, whatever the scale
            d = _resample_dim_uint8(xp, d, 2 + i, out[i], scales[i], mode, align_corners)
    return _make(d if d is not input._data else d.copy(), input._device)


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners=None,
                recompute_scale_factor=None, antialias: bool = False) -> Tensor:
    """Resize (N, C, *spatial) input to ``size`` or by ``scale_factor``, with PyTorch's coordinate conventions.

    Modes: ``'nearest'`` (source ``floor(dst * in/out)``), ``'nearest-exact'``, ``'linear'``/``'bilinear'``/
    ``'trilinear'`` (``align_corners`` maps corner pixel centres onto each other; otherwise half-pixel
    centres), ``'bicubic'`` and ``'area'`` (adaptive average pooling).
    """
    if mode not in _MODES or input.dim() not in (3, 4, 5):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.dim()}D) for "
                                  "the modes: nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact "
                                  f"(got {mode})")
    if align_corners is not None and mode not in _MODE_DIMS:
        raise ValueError("align_corners option can only be set with the interpolating modes: linear | bilinear | "
                         "bicubic | trilinear")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported by Ember")
    if mode in _MODE_DIMS and input.dim() != _MODE_DIMS[mode] + 2:
        raise NotImplementedError(f"Got {input.dim()}D input, but {mode} mode needs {_MODE_DIMS[mode] + 2}D input")
    out, scales = _interp_sizes(input, size, scale_factor, recompute_scale_factor)
    spatial = tuple(input.shape[2:])
    if any(o <= 0 for o in out) or any(s <= 0 for s in spatial):
        names = "DHW"[3 - len(out):]
        raise RuntimeError("Input and output sizes should be greater than 0, but got input ("
                           + ", ".join(f"{n}: {s}" for n, s in zip(names, spatial)) + ") output ("
                           + ", ".join(f"{n}: {o}" for n, o in zip(names, out)) + ")")
    if mode == "area":
        if input.dim() == 3:
            return adaptive_avg_pool1d(input, out)
        if input.dim() == 4:
            return adaptive_avg_pool2d(input, out)
        return adaptive_avg_pool3d(input, out)
    if mode not in ("nearest", "nearest-exact") and input._data.dtype.kind != "f":
        if input._data.dtype == np.uint8 and mode in ("bilinear", "bicubic"):
            return _interpolate_uint8(input, out, scales, mode, bool(align_corners))
        raise NotImplementedError(f'"upsample_{mode}" not implemented for \'{input.dtype}\'')
    y = input
    for i, (o, sc) in enumerate(zip(out, scales)):
        identity = o == spatial[i] and (mode == "nearest" or sc is None or sc == 1.0)
        if not identity:
            y = _resample_dim(y, 2 + i, o, sc, mode, bool(align_corners))
    return y if y is not input else input.clone()


def upsample(input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners=None) -> Tensor:
    """Deprecated alias of :func:`interpolate`."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size=None, scale_factor=None) -> Tensor:
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size=None, scale_factor=None) -> Tensor:
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---------------------------------------------------------------------------------------------
# Pixel shuffle
# ---------------------------------------------------------------------------------------------
def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C*r^2, H, W) -> (*, C, H*r, W*r): channel ``c*r^2 + i*r + j`` fills sub-pixel (i, j)."""
    r = int(upscale_factor)
    if input.dim() < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.dim()} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    k = len(lead)
    y = input.reshape(*lead, c // (r * r), r, r, h, w)
    y = y.permute(*range(k), k, k + 3, k + 1, k + 4, k + 2)
    return y.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H*r, W*r) -> (*, C*r^2, H, W): the inverse of pixel_shuffle."""
    r = int(downscale_factor)
    if input.dim() < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.dim()} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    *lead, c, h, w = input.shape
    if h % r:
        raise RuntimeError(f"pixel_unshuffle expects height to be divisible by downscale_factor, but input.size(-2)="
                           f"{h} is not divisible by {r}")
    if w % r:
        raise RuntimeError(f"pixel_unshuffle expects width to be divisible by downscale_factor, but input.size(-1)="
                           f"{w} is not divisible by {r}")
    k = len(lead)
    y = input.reshape(*lead, c, h // r, r, w // r, r)
    y = y.permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return y.reshape(*lead, c * r * r, h // r, w // r)


# Published for op observers (graph capture, the profiler): see ember._op_hooks.
observe_namespace(globals(), __all__)
