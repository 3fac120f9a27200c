"""Building blocks shared by the model families, with torchvision's names (and so its state_dict keys).

``Conv2dNormActivation`` is a ``Sequential`` of conv (``0``), norm (``1``) and activation;
``SqueezeExcitation`` has ``fc1``/``fc2`` (both as in ``torchvision.ops``); ``Conv2dSame`` pads as
TensorFlow does, for weights ported from it; ``stochastic_depth`` drops residual branches.
"""
from __future__ import annotations

import math
from typing import Callable

import ember
from ember import nn
from ember.nn import functional as F

__all__ = ["Conv2dSame", "Conv2dNormActivation", "SqueezeExcitation", "StochasticDepth", "stochastic_depth"]


class Conv2dSame(nn.Conv2d):
    """``Conv2d`` with TensorFlow's ``"same"`` padding for any stride: the output has ``ceil(size / stride)``
    rows/columns, and when the total padding is odd the extra pixel goes bottom/right (as TF pads).

    Used by weights ported from TensorFlow (EfficientNet-Lite). Same parameters and state_dict as ``Conv2d``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=None, dilation=1,
                 groups: int = 1, bias: bool = True, **kwargs):
        # ``padding`` is accepted for Conv2d's signature and ignored: it is computed from each input's size
        super().__init__(in_channels, out_channels, kernel_size, stride, 0, dilation, groups, bias, **kwargs)

    def _same_pads(self, size: int, k: int, s: int, d: int) -> tuple[int, int]:
        total = max((math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0)
        return total // 2, total - total // 2

    def _conv_forward(self, input, weight, bias):
        # Overriding _conv_forward (not forward) keeps eval-mode BatchNorm folding available (nn.Sequential).
        (top, bottom), (left, right) = (self._same_pads(n, k, s, d) for n, k, s, d in
                                        zip(input.shape[-2:], self.kernel_size, self.stride, self.dilation))
        # (before, after) pairs: the convolution pads as it copies its input (no F.pad copy first)
        return F.conv2d(input, weight, bias, self.stride, ((top, bottom), (left, right)), self.dilation, self.groups)


class Conv2dNormActivation(nn.Sequential):
    """Conv2d -> norm -> activation (torchvision.ops.Conv2dNormActivation): children ``0``, ``1``, ``2``.

    ``padding=None`` pads ``(kernel_size - 1) // 2 * dilation``; ``norm_layer``/``activation_layer`` ``None``
    leave that layer out; ``bias=None`` means "bias only when there is no norm layer". ``conv_layer`` lets
    TF-ported models use :class:`Conv2dSame`.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1,
                 padding: int | None = None, groups: int = 1,
                 norm_layer: Callable[..., nn.Module] | None = nn.BatchNorm2d,
                 activation_layer: Callable[..., nn.Module] | None = nn.ReLU, dilation: int = 1,
                 inplace: bool | None = True, bias: bool | None = None,
                 conv_layer: Callable[..., nn.Module] = nn.Conv2d):
        if padding is None:
            padding = (kernel_size - 1) // 2 * dilation
        if bias is None:
            bias = norm_layer is None
        layers = [conv_layer(in_channels, out_channels, kernel_size, stride, padding, dilation=dilation,
                             groups=groups, bias=bias)]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            layers.append(activation_layer(**({} if inplace is None else {"inplace": inplace})))
        super().__init__(*layers)
        self.out_channels = out_channels


class SqueezeExcitation(nn.Module):
    """Channel attention ``x * scale(fc2(act(fc1(avgpool(x)))))`` (torchvision.ops.SqueezeExcitation)."""

    def __init__(self, input_channels: int, squeeze_channels: int,
                 activation: Callable[..., nn.Module] = nn.ReLU,
                 scale_activation: Callable[..., nn.Module] = nn.Sigmoid):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation = activation()
        self.scale_activation = scale_activation()

    def forward(self, input):
        scale = self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(input)))))
        return scale * input


def stochastic_depth(input, p: float, mode: str, training: bool = True):
    """Drop whole residual branches with probability ``p``, per sample (``"row"``) or per batch (``"batch"``),
    scaling the kept ones by ``1 / (1 - p)`` (torchvision.ops.stochastic_depth)."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"drop probability has to be between 0 and 1, but got {p}")
    if mode not in ("batch", "row"):
        raise ValueError(f"mode has to be either 'batch' or 'row', but got {mode}")
    if not training or p == 0.0:
        return input
    survival = 1.0 - p
    shape = [input.shape[0]] + [1] * (input.dim() - 1) if mode == "row" else [1] * input.dim()
    noise = ember.empty(shape, dtype=input.dtype, device=input.device).bernoulli_(survival)
    if survival > 0.0:
        noise = noise / survival
    return input * noise


class StochasticDepth(nn.Module):
    """Module form of :func:`stochastic_depth` (active in training mode only)."""

    def __init__(self, p: float, mode: str):
        super().__init__()
        self.p, self.mode = p, mode

    def forward(self, input):
        return stochastic_depth(input, self.p, self.mode, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, mode={self.mode}"
