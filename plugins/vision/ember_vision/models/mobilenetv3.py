"""MobileNetV3-Small (Howard et al., 2019) with torchvision's names and state_dict keys: ``features.0``
(stem), ``features.1`` ... ``features.11`` (blocks, each ``.block``), ``features.12`` (1x1 to 576) and
``classifier.{0,3}``. BatchNorm eps 1e-3, momentum 0.01 (as torchvision). No pretrained weights ship.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable, Sequence

from ember import nn

from ._api import register_model
from ._classifier import ClassifierMixin
from ._layers import Conv2dNormActivation, SqueezeExcitation
from ._utils import handle_legacy_weights, init_weights, make_divisible

__all__ = ["MobileNetV3", "InvertedResidualConfig", "InvertedResidual", "mobilenet_v3_small"]


@dataclass
class InvertedResidualConfig:
    """One block: channels in/expanded/out (scaled by ``width_mult``), kernel, squeeze-excitation,
    activation ``"RE"`` (ReLU) or ``"HS"`` (hard swish), stride and dilation."""

    input_channels: int
    kernel: int
    expanded_channels: int
    out_channels: int
    use_se: bool
    activation: str
    stride: int
    dilation: int
    width_mult: float = 1.0

    def __post_init__(self):
        self.input_channels = self.adjust_channels(self.input_channels, self.width_mult)
        self.expanded_channels = self.adjust_channels(self.expanded_channels, self.width_mult)
        self.out_channels = self.adjust_channels(self.out_channels, self.width_mult)
        self.use_hs = self.activation == "HS"

    @staticmethod
    def adjust_channels(channels: int, width_mult: float) -> int:
        return make_divisible(channels * width_mult, 8)


class InvertedResidual(nn.Module):
    """Expansion 1x1, depthwise kxk, optional squeeze-excitation (hard sigmoid), linear projection."""

    def __init__(self, cnf: InvertedResidualConfig, norm_layer: Callable[..., nn.Module],
                 se_layer: Callable[..., nn.Module] = partial(SqueezeExcitation, scale_activation=nn.Hardsigmoid)):
        super().__init__()
        if not 1 <= cnf.stride <= 2:
            raise ValueError("illegal stride value")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        act = nn.Hardswish if cnf.use_hs else nn.ReLU
        layers: list[nn.Module] = []
        if cnf.expanded_channels != cnf.input_channels:
            layers.append(Conv2dNormActivation(cnf.input_channels, cnf.expanded_channels, kernel_size=1,
                                               norm_layer=norm_layer, activation_layer=act))
        stride = 1 if cnf.dilation > 1 else cnf.stride
        layers.append(Conv2dNormActivation(cnf.expanded_channels, cnf.expanded_channels, kernel_size=cnf.kernel,
                                           stride=stride, dilation=cnf.dilation, groups=cnf.expanded_channels,
                                           norm_layer=norm_layer, activation_layer=act))
        if cnf.use_se:
            layers.append(se_layer(cnf.expanded_channels, make_divisible(cnf.expanded_channels // 4, 8)))
        layers.append(Conv2dNormActivation(cnf.expanded_channels, cnf.out_channels, kernel_size=1,
                                           norm_layer=norm_layer, activation_layer=None))
        self.block = nn.Sequential(*layers)
        self.out_channels = cnf.out_channels
        self._is_cn = cnf.stride > 1

    def forward(self, x):
        out = self.block(x)
        return out + x if self.use_res_connect else out


class MobileNetV3(ClassifierMixin, nn.Module):
    """MobileNetV3 trunk for a block configuration list, then ``Linear -> Hardswish -> Dropout -> Linear``."""

    classifier_head = "classifier.3"

    def __init__(self, inverted_residual_setting: Sequence[InvertedResidualConfig], last_channel: int,
                 num_classes: int = 1000, block: Callable[..., nn.Module] | None = None,
                 norm_layer: Callable[..., nn.Module] | None = None, dropout: float = 0.2, **kwargs) -> None:
        super().__init__()
        if not inverted_residual_setting:
            raise ValueError("The inverted_residual_setting should not be empty")
        if not all(isinstance(s, InvertedResidualConfig) for s in inverted_residual_setting):
            raise TypeError("The inverted_residual_setting should be List[InvertedResidualConfig]")
        block = block or InvertedResidual
        norm_layer = norm_layer or partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)
        first = inverted_residual_setting[0].input_channels
        layers: list[nn.Module] = [Conv2dNormActivation(3, first, kernel_size=3, stride=2, norm_layer=norm_layer,
                                                        activation_layer=nn.Hardswish)]
        layers += [block(cnf, norm_layer) for cnf in inverted_residual_setting]
        last_in = inverted_residual_setting[-1].out_channels
        layers.append(Conv2dNormActivation(last_in, 6 * last_in, kernel_size=1, norm_layer=norm_layer,
                                           activation_layer=nn.Hardswish))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Linear(6 * last_in, last_channel), nn.Hardswish(inplace=True),
                                        nn.Dropout(p=dropout, inplace=True), nn.Linear(last_channel, num_classes))
        init_weights(self, linear="normal")

    def forward_features(self, x):
        return self.features(x)

    def _pool_features(self, x):
        return self.avgpool(x).flatten(1)


def _small_config(width_mult: float = 1.0, reduced_tail: bool = False, dilated: bool = False):
    rd, d = (2 if reduced_tail else 1), (2 if dilated else 1)
    c = partial(InvertedResidualConfig, width_mult=width_mult)
    setting = [
        c(16, 3, 16, 16, True, "RE", 2, 1), c(16, 3, 72, 24, False, "RE", 2, 1), c(24, 3, 88, 24, False, "RE", 1, 1),
        c(24, 5, 96, 40, True, "HS", 2, 1), c(40, 5, 240, 40, True, "HS", 1, 1), c(40, 5, 240, 40, True, "HS", 1, 1),
        c(40, 5, 120, 48, True, "HS", 1, 1), c(48, 5, 144, 48, True, "HS", 1, 1),
        c(48, 5, 288, 96 // rd, True, "HS", 2, d), c(96 // rd, 5, 576 // rd, 96 // rd, True, "HS", 1, d),
        c(96 // rd, 5, 576 // rd, 96 // rd, True, "HS", 1, d),
    ]
    return setting, InvertedResidualConfig.adjust_channels(1024 // rd, width_mult)


@register_model(family="mobilenet", input_size=(3, 224, 224))
def mobilenet_v3_small(*, weights=None, progress: bool = True, width_mult: float = 1.0, reduced_tail: bool = False,
                       dilated: bool = False, **kwargs) -> MobileNetV3:
    """MobileNetV3-Small (2.5M parameters with 1000 classes). Keywords go to :class:`MobileNetV3`."""
    handle_legacy_weights(None, weights, "mobilenet_v3_small")
    setting, last_channel = _small_config(width_mult, reduced_tail, dilated)
    return MobileNetV3(setting, last_channel, **kwargs)
