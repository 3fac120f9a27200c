"""Normalisation: batch_norm, layer_norm, group_norm, instance_norm, rms_norm, normalize.

Training-mode batch_norm is one fused node, ``BatchNormTrain`` (statistics, standardise, scale and
shift in one forward; closed-form backward on arrays). The others share one fused node, ``Normalize``:
it standardises ``x`` over some axes in one pass forward and uses the closed-form backward
``dx = rstd * (g - mean(g) - xhat * mean(g * xhat))`` (with batch statistics) or ``g * rstd`` (with
fixed statistics). For second derivatives both recompute the statistics with Ember ops
(:func:`_standardised` and :func:`_batch_stats_input_grad`), so their backwards are differentiable.
"""
from __future__ import annotations

import numpy as np

from ..._op_hooks import observe_namespace
from ..._tensor import Tensor, _bump_version, _make
from ...autograd.function import Op
from ...autograd.grad_mode import STATE

__all__ = ["batch_norm", "layer_norm", "group_norm", "instance_norm", "rms_norm", "normalize",
           "local_response_norm"]


class Normalize(Op):
    """``(x - mean) * rstd`` over ``axes``; statistics from the batch or given (``stats``)."""

    @staticmethod
    def forward(ctx, xp, d, axes, eps, stats=None):
        if stats is None:
            mean = d.mean(axis=axes, keepdims=True)
            centered = d - mean
            var = (centered * centered).mean(axis=axes, keepdims=True)
        else:
            mean, var = stats
            centered = d - mean
        rstd = (1.0 / xp.sqrt(var + eps)).astype(d.dtype, copy=False)
        xhat = centered * rstd
        ctx.save_for_backward(d)
        ctx.axes, ctx.eps, ctx.batch_stats = axes, eps, stats is None
        ctx.xhat, ctx.rstd = xhat, rstd
        ctx.mean, ctx.var = mean, var  # read by batch_norm for the running statistics
        return xhat

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        axes = ctx.axes
        if STATE.enabled:  # create_graph: statistics as functions of x, so this backward is differentiable
            if ctx.batch_stats:
                xhat, rstd = _standardised(x, axes, ctx.eps)
            else:
                rstd = _make(ctx.rstd, x._device)
                xhat = None
        else:
            rstd = _make(ctx.rstd, x._device)
            xhat = _make(ctx.xhat, x._device)
        if not ctx.batch_stats:
            return g * rstd, None, None, None
        return _batch_stats_input_grad(g, xhat, rstd, axes), None, None, None


def _standardised(x: Tensor, axes, eps: float):
    """``(xhat, rstd)`` of ``x`` over ``axes`` in Ember ops (recorded under create_graph)."""
    centred = x - x.mean(axes, keepdim=True)
    rstd = ((centred * centred).mean(axes, keepdim=True) + eps).rsqrt()
    return centred * rstd, rstd


def _batch_stats_input_grad(g: Tensor, xhat: Tensor, rstd: Tensor, axes) -> Tensor:
    """The input gradient of standardisation with batch statistics, given ``g`` at ``xhat``."""
    return (g - g.mean(axes, keepdim=True) - xhat * (g * xhat).mean(axes, keepdim=True)) * rstd


def _rows(xp, a):
    """``a`` as (N, C, rest) without copying, or None when its layout does not allow it."""
    if a.ndim < 3 or not a.flags.c_contiguous:
        return None
    return a.reshape(a.shape[0], a.shape[1], -1)


def _channel_sums(xp, a):
    """Per-channel (dim 1) sums over every other dim. For contiguous input each (n, c) row is summed by a
    matrix-vector product (BLAS: several times faster than NumPy's strided multi-axis reduction)."""
    rows = _rows(xp, a)
    if rows is None:
        return a.sum(axis=(0,) + tuple(range(2, a.ndim)))
    return xp.matmul(rows, xp.ones(rows.shape[2], dtype=a.dtype)).sum(axis=0)


def _channel_dots(xp, a, b):
    """Per-channel sums of ``a * b`` without materialising the product (a dot product per (n, c) row)."""
    ra, rb = _rows(xp, a), _rows(xp, b)
    if ra is None or rb is None:
        dims = list(range(a.ndim))
        return xp.einsum(a, dims, b, dims, [1])
    return xp.matmul(ra[:, :, None, :], rb[:, :, :, None])[:, :, 0, 0].sum(axis=0)


class BatchNormTrain(Op):
    """Training-mode batch norm: ``(x - mean) * rstd * weight + bias`` with the batch's statistics.

    Forward makes one new array (the centred input, then scaled and shifted in place); backward makes
    two, ``dx = k * (g - mean(g)) - (x - mean) * k * rstd * mean(g * xhat)`` with ``k = weight * rstd``
    (the composed version made ~12 passes and as many temporaries per call). The variance is two-pass
    (over the centred values), as PyTorch computes it, so a large mean does not cancel precision away.
    """

    @staticmethod
    def forward(ctx, xp, d, weight, bias, eps):
        n = d.size // d.shape[1]
        shape = _channel_shape(d.ndim)
        mean = _channel_sums(xp, d) / n
        out = d - mean.reshape(shape)
        var = _channel_dots(xp, out, out) / n
        rstd = (1.0 / xp.sqrt(var + eps)).astype(d.dtype, copy=False)
        out *= (rstd if weight is None else rstd * weight).reshape(shape)
        if bias is not None:
            out += bias.reshape(shape)
        ctx.save_for_backward(d) if weight is None else ctx.save_for_backward(d, weight)
        ctx.eps = eps
        ctx.mean, ctx.var, ctx.rstd = mean.reshape(shape), var.reshape(shape), rstd
        return out

    @staticmethod
    def backward(ctx, g):
        saved = ctx.saved_tensors
        x, weight = saved[0], (saved[1] if len(saved) > 1 else None)
        need_x, need_w, need_b = ctx.needs_input_grad[0], ctx.needs_input_grad[1], ctx.needs_input_grad[2]
        if STATE.enabled:  # create_graph: the same formula in Ember ops, so it is differentiable again
            return _batch_norm_backward_graph(ctx, g, x, weight, need_x, need_w, need_b)
        xp, gd, d, device = x._device.xp, g._data, x._data, x._device
        n = d.size // d.shape[1]
        shape = _channel_shape(d.ndim)
        rstd = ctx.rstd
        gsum = _channel_sums(xp, gd)
        gx = gw = gb = None
        if need_x or need_w:
            centered = d - ctx.mean
            gxhat_sum = _channel_dots(xp, gd, centered) * rstd  # sum(g * xhat) per channel
        if need_x:
            k = rstd if weight is None else rstd * weight._data
            gxd = gd * k.reshape(shape)
            centered *= (k * rstd * gxhat_sum / n).reshape(shape)
            gxd -= centered
            gxd -= (k * gsum / n).reshape(shape)
            gx = _make(gxd, device)
        if need_w:
            gw = _make(gxhat_sum.astype(weight._data.dtype, copy=False), device)
        if need_b:
            gb = _make(gsum.astype(d.dtype, copy=False), device)
        return gx, gw, gb, None


def _batch_norm_backward_graph(ctx, g, x, weight, need_x, need_w, need_b):
    axes = (0,) + tuple(range(2, x.dim()))
    xhat, rstd = _standardised(x, axes, ctx.eps)
    gx = None
    if need_x:
        gxhat = g if weight is None else g * weight.reshape(_channel_shape(x.dim()))
        gx = _batch_stats_input_grad(gxhat, xhat, rstd, axes)
    gw = (g * xhat).sum(axes) if need_w else None
    gb = g.sum(axes) if need_b else None
    return gx, gw, gb, None


def _affine(y: Tensor, weight, bias, shape) -> Tensor:
    if weight is not None:
        y = y * (weight.reshape(shape) if shape is not None else weight)
    if bias is not None:
        y = y + (bias.reshape(shape) if shape is not None else bias)
    return y


def _channel_shape(ndim: int) -> tuple:
    return (1, -1) + (1,) * (ndim - 2)


def _update_running(running: Tensor, batch_value, momentum: float) -> None:
    """``running = (1 - momentum) * running + momentum * batch`` in place, without autograd."""
    d = running._data
    d *= 1 - momentum
    d += (momentum * batch_value).astype(d.dtype, copy=False)
    _bump_version(running)


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None, weight: Tensor | None = None,
               bias: Tensor | None = None, training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel (dim 1) over the batch and spatial dims; update running stats when training."""
    if input.dim() < 2:
        raise ValueError(f"batch_norm: expected an input with at least 2 dimensions (N, C, ...), got {input.dim()}D")
    axes = (0,) + tuple(range(2, input.dim()))
    n = input.numel() // input.shape[1]
    shape = _channel_shape(input.dim())
    if training:
        if n <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {input.shape}")
        y = BatchNormTrain.apply(input, weight, bias, eps)
        if running_mean is not None or running_var is not None:
            ctx_mean, ctx_var = _batch_stats(input, axes, y)
            if running_mean is not None:
                _update_running(running_mean, ctx_mean.reshape(-1), momentum)
            if running_var is not None:
                _update_running(running_var, ctx_var.reshape(-1) * (n / (n - 1)), momentum)
        return y
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var are required when training=False")
        if running_mean.numel() != input.shape[1]:  # PyTorch's message
            raise RuntimeError(f"running_mean should contain {input.shape[1]} elements not {running_mean.numel()}")
        if not (STATE.enabled and any(t is not None and t._rg for t in (input, weight, bias))):
            return _frozen_batch_norm(input, running_mean, running_var, weight, bias, eps)
        stats = (running_mean._data.reshape(shape), running_var._data.reshape(shape))
        y = Normalize.apply(input, axes, eps, stats)
    return _affine(y, weight, bias, shape)


def frozen_batch_norm_affine(xp, running_mean, running_var, weight, bias, eps: float, dtype):
    """Eval-mode batch norm as a per-channel ``(scale, shift)`` pair of arrays:
    ``y = x * scale + shift`` with ``scale = weight / sqrt(var + eps)`` and ``shift = bias - mean * scale``
    (also what folding it into the preceding convolution uses)."""
    scale = 1.0 / xp.sqrt(running_var._data + eps)
    if weight is not None:
        scale = scale * weight._data
    shift = -running_mean._data * scale
    if bias is not None:
        shift = shift + bias._data
    return scale.astype(dtype, copy=False), shift.astype(dtype, copy=False)


def _frozen_batch_norm(input: Tensor, running_mean, running_var, weight, bias, eps: float) -> Tensor:
    """Eval mode with no gradient to record: one multiply and one in-place add per element (the
    general path standardises, then scales, then shifts: four passes and three temporaries)."""
    d = input._data
    xp = input._device.xp
    scale, shift = frozen_batch_norm_affine(xp, running_mean, running_var, weight, bias, eps, d.dtype)
    shape = _channel_shape(d.ndim)
    out = xp.multiply(d, scale.reshape(shape))
    out += shift.reshape(shape)
    return _make(out, input._device)


def _batch_stats(input: Tensor, axes, y: Tensor):
    node = y.grad_fn
    if node is not None:
        return node.mean, node.var
    d = input._data
    mean = d.mean(axis=axes, keepdims=True)
    return mean, ((d - mean) ** 2).mean(axis=axes, keepdims=True)


def instance_norm(input: Tensor, running_mean: Tensor | None = None, running_var: Tensor | None = None,
                  weight: Tensor | None = None, bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each (sample, channel) over its spatial dims."""
    if input.dim() < 3:
        raise ValueError(f"instance_norm: expected an input with at least 3 dimensions (N, C, ...), got {input.dim()}D")
    axes = tuple(range(2, input.dim()))
    shape = _channel_shape(input.dim())
    if use_input_stats:
        y = Normalize.apply(input, axes, eps)
        if running_mean is not None or running_var is not None:
            mean, var = _batch_stats(input, axes, y)
            n = int(np.prod(input.shape[2:]))
            if running_mean is not None:
                _update_running(running_mean, mean.mean(axis=0).reshape(-1), momentum)
            if running_var is not None:
                _update_running(running_var, (var * (n / max(n - 1, 1))).mean(axis=0).reshape(-1), momentum)
    else:
        stats = (running_mean._data.reshape(shape), running_var._data.reshape(shape))
        y = Normalize.apply(input, axes, eps, stats)
    return _affine(y, weight, bias, shape)


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise over the last ``len(normalized_shape)`` dims, then scale and shift element-wise."""
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(normalized_shape)
    if tuple(input.shape[input.dim() - k:]) != normalized_shape or input.dim() < k:
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, normalized_shape))}], but got input of size{list(input.shape)}")
    axes = tuple(range(input.dim() - k, input.dim()))
    return _affine(Normalize.apply(input, axes, eps), weight, bias, None)


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise each sample over groups of channels (and spatial dims), then scale and shift per channel."""
    if input.dim() < 2:
        raise RuntimeError(f"group_norm: expected at least 2 dimensions (N, C, ...), got {input.dim()}D")
    n, c = input.shape[0], input.shape[1]
    if c % num_groups != 0:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input "
                           f"of shape {input.shape} and num_groups={num_groups}")
    grouped = input.reshape(n, num_groups, -1)
    y = Normalize.apply(grouped, (2,), eps).reshape(input.shape)
    return _affine(y, weight, bias, _channel_shape(input.dim()))


def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None, eps: float | None = None) -> Tensor:
    """``x / sqrt(mean(x^2) + eps) * weight`` over the last ``len(normalized_shape)`` dims."""
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(normalized_shape)
    if tuple(input.shape[input.dim() - k:]) != normalized_shape:
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, normalized_shape))}], but got input of size{list(input.shape)}")
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps)
    axes = tuple(range(input.dim() - k, input.dim()))
    y = input * ((input * input).mean(axes, keepdim=True) + eps).rsqrt()
    return y * weight if weight is not None else y


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """``input / max(||input||_p, eps)`` along ``dim``."""
    norm = input.norm(p, dim, keepdim=True).clamp_min(eps)
    return input / norm


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Tensor:
    """Normalise over ``size`` neighbouring channels (AlexNet's LRN)."""
    if input.dim() < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.dim()} dimensions)")
    sq = input * input
    c = input.shape[1]
    pad_front, pad_back = size // 2, (size - 1) // 2
    from ...ops.shape import cat
    zeros = sq.new_zeros((input.shape[0], pad_front) + tuple(input.shape[2:]))
    zeros_b = sq.new_zeros((input.shape[0], pad_back) + tuple(input.shape[2:]))
    padded = cat([zeros, sq, zeros_b], 1)
    window = sum(padded.narrow(1, i, c) for i in range(size))
    return input / (k + alpha / size * window) ** beta


# Published for op observers (graph capture, the profiler): see ember._op_hooks.
observe_namespace(globals(), __all__)
