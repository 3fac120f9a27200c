"""Inference fusion inside ``Sequential``: a convolution followed by an eval-mode ``BatchNorm`` runs as
one convolution with the normalisation folded into its weight and bias, and a following ReLU, ReLU6
or Hardtanh is applied in place on that fresh output.

Folding is exact up to float rounding: ``bn(conv(x, w) + b) = conv(x, w * s) + (b * s + t)`` with the
per-channel ``s = gamma / sqrt(var + eps)`` and ``t = beta - mean * s``. It saves the normalisation's
passes over the activation (the folded weights are tiny next to it) and the activation's temporary.

It applies only where it cannot change what the user sees: the BatchNorm is in eval mode with
running statistics, no gradient would be recorded (grad mode off, or nothing involved requires
grad), neither module has hooks, no op observer is active (``ember._op_hooks``), and the convolution's ``forward`` is the stock one (subclasses
that only change ``_conv_forward``, like TensorFlow-style "same" padding, qualify). Anything else
runs module by module, so training mode and autograd behave exactly as without fusion.
"""
from __future__ import annotations

import math

from ..._op_hooks import OBSERVERS
from ..._tensor import Tensor, _make
from ...autograd.grad_mode import STATE
from .._functional.norm import frozen_batch_norm_affine
from .activation import Hardtanh, ReLU
from .conv import _Conv
from .normalization import _BatchNorm

__all__ = ["sequential_eval_forward"]


def _no_hooks(m) -> bool:
    return not (m._forward_pre_hooks or m._forward_hooks or m._backward_hooks or m._backward_pre_hooks)


def _foldable(conv, bn) -> bool:
    return (isinstance(conv, _Conv) and type(conv).forward is _Conv.forward and _no_hooks(conv)
            and isinstance(bn, _BatchNorm) and type(bn).forward is _BatchNorm.forward and _no_hooks(bn)
            and not bn.training and bn.running_mean is not None and bn.running_var is not None
            and bn.num_features == conv.out_channels and conv._nd + 2 in bn._expected_dims)


def _records_grad(x: Tensor, conv, bn) -> bool:
    if not STATE.enabled:
        return False
    return any(t is not None and t._rg for t in (x, conv.weight, conv.bias, bn.weight, bn.bias))


def _clamp_bounds(m):
    """``(lo, hi)`` of a stock ReLU / ReLU6 / Hardtanh without hooks, else None."""
    if not _no_hooks(m):
        return None
    if type(m) is ReLU:
        return 0.0, math.inf
    if isinstance(m, Hardtanh) and type(m).forward is Hardtanh.forward:
        return float(m.min_val), float(m.max_val)
    return None


def conv_bn(conv, bn, x: Tensor) -> Tensor:
    """``bn(conv(x))`` in eval mode as one convolution with folded weight and bias."""
    w = conv.weight
    xp = w._device.xp
    scale, shift = frozen_batch_norm_affine(xp, bn.running_mean, bn.running_var, bn.weight, bn.bias, bn.eps,
                                            w._data.dtype)
    folded_w = w._data * scale.reshape((-1,) + (1,) * (w._data.ndim - 1))
    folded_b = shift if conv.bias is None else conv.bias._data * scale + shift
    return conv._conv_forward(x, _make(folded_w, w._device), _make(folded_b, w._device))


def sequential_eval_forward(modules, input):
    """Run ``modules`` in order, fusing conv -> BatchNorm [-> clamp] triples where allowed."""
    i, n = 0, len(modules)
    while i < n:
        m = modules[i]
        # Op observers (graph capture, the profiler) must see the modules' own ops, unfolded.
        if (i + 1 < n and not OBSERVERS and isinstance(input, Tensor) and _foldable(m, modules[i + 1])
                and not _records_grad(input, m, modules[i + 1])):
            input = conv_bn(m, modules[i + 1], input)
            i += 2
            bounds = _clamp_bounds(modules[i]) if i < n else None
            if bounds is not None and input._data.dtype.kind == "f":
                d = input._data  # a fresh convolution output: nothing else refers to it
                input._device.xp.clip(d, bounds[0], bounds[1], out=d)
                i += 1
            continue
        input = m(input)
        i += 1
    return input
