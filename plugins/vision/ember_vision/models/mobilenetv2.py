"""MobileNetV2 (Sandler et al., 2018) with torchvision's names and state_dict keys: ``features.0`` (stem),
``features.1`` ... ``features.17`` (inverted residual blocks, each ``.conv``), ``features.18`` (1x1 to
1280 channels) and ``classifier.1``. No pretrained weights ship for this model.
"""
from __future__ import annotations

from typing import Callable, Sequence

from ember import nn
from ember.nn import functional as F

from ._api import register_model
from ._classifier import ClassifierMixin
from ._layers import Conv2dNormActivation
from ._utils import handle_legacy_weights, init_weights, make_divisible

__all__ = ["MobileNetV2", "InvertedResidual", "mobilenet_v2"]

# expansion t, output channels c, repeats n, first stride s (Table 2 of the paper)
_SETTING = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2],
            [6, 320, 1, 1]]


class InvertedResidual(nn.Module):
    """1x1 expansion (ReLU6), 3x3 depthwise (ReLU6), linear 1x1 projection; residual when shapes allow."""

    def __init__(self, inp: int, oup: int, stride: int, expand_ratio: int,
                 norm_layer: Callable[..., nn.Module] | None = None) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride should be 1 or 2 instead of {stride}")
        norm_layer = norm_layer or nn.BatchNorm2d
        hidden_dim = int(round(inp * expand_ratio))
        self.use_res_connect = stride == 1 and inp == oup
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(Conv2dNormActivation(inp, hidden_dim, kernel_size=1, norm_layer=norm_layer,
                                               activation_layer=nn.ReLU6))
        layers += [Conv2dNormActivation(hidden_dim, hidden_dim, stride=stride, groups=hidden_dim,
                                        norm_layer=norm_layer, activation_layer=nn.ReLU6),
                   nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False), norm_layer(oup)]
        self.conv = nn.Sequential(*layers)
        self.out_channels = oup
        self._is_cn = stride > 1

    def forward(self, x):
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileNetV2(ClassifierMixin, nn.Module):
    """MobileNetV2 (signature of torchvision's class: ``width_mult``, ``round_nearest``, ``dropout`` ...)."""

    classifier_head = "classifier.1"

    def __init__(self, num_classes: int = 1000, width_mult: float = 1.0,
                 inverted_residual_setting: Sequence[Sequence[int]] | None = None, round_nearest: int = 8,
                 block: Callable[..., nn.Module] | None = None, norm_layer: Callable[..., nn.Module] | None = None,
                 dropout: float = 0.2) -> None:
        super().__init__()
        block = block or InvertedResidual
        norm_layer = norm_layer or nn.BatchNorm2d
        setting = inverted_residual_setting if inverted_residual_setting is not None else _SETTING
        if len(setting) == 0 or any(len(row) != 4 for row in setting):
            raise ValueError(f"inverted_residual_setting should be non-empty and a 4-element list, got {setting}")
        input_channel = make_divisible(32 * width_mult, round_nearest)
        self.last_channel = make_divisible(1280 * max(1.0, width_mult), round_nearest)
        features: list[nn.Module] = [Conv2dNormActivation(3, input_channel, stride=2, norm_layer=norm_layer,
                                                          activation_layer=nn.ReLU6)]
        for t, c, n, s in setting:
            output_channel = make_divisible(c * width_mult, round_nearest)
            for i in range(n):
                features.append(block(input_channel, output_channel, s if i == 0 else 1, expand_ratio=t,
                                      norm_layer=norm_layer))
                input_channel = output_channel
        features.append(Conv2dNormActivation(input_channel, self.last_channel, kernel_size=1, norm_layer=norm_layer,
                                             activation_layer=nn.ReLU6))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), nn.Linear(self.last_channel, num_classes))
        init_weights(self, linear="normal")

    def forward_features(self, x):
        return self.features(x)

    def _pool_features(self, x):
        return F.adaptive_avg_pool2d(x, (1, 1)).flatten(1)


@register_model(family="mobilenet", input_size=(3, 224, 224))
def mobilenet_v2(*, weights=None, progress: bool = True, **kwargs) -> MobileNetV2:
    """MobileNetV2 (3.5M parameters with 1000 classes). Keywords go to :class:`MobileNetV2`."""
    handle_legacy_weights(None, weights, "mobilenet_v2")
    return MobileNetV2(**kwargs)
