"""VGG with batch normalisation (Simonyan & Zisserman, 2014), torchvision's names and state_dict keys:
``features.N`` (conv, BatchNorm, ReLU triples and max pools) and ``classifier.{0,3,6}``.
No pretrained weights ship for these models.
"""
from __future__ import annotations

from ember import nn

from ._api import register_model
from ._classifier import ClassifierMixin
from ._utils import handle_legacy_weights, init_weights as _init_weights

__all__ = ["VGG", "make_layers", "vgg11_bn", "vgg16_bn"]

# Output channels of each 3x3 convolution, "M" for a 2x2 max pool (configurations A and D of the paper).
CFGS: dict[str, list[int | str]] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
}


class VGG(ClassifierMixin, nn.Module):
    """``features`` (a conv trunk), adaptive average pool to 7x7, then a three-layer ``classifier``."""

    classifier_head = "classifier.6"

    def __init__(self, features: nn.Module, num_classes: int = 1000, init_weights: bool = True,
                 dropout: float = 0.5) -> None:
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        if init_weights:
            _init_weights(self, linear="normal")

    def forward_features(self, x):
        return self.features(x)

    def _pool_features(self, x):
        return self.avgpool(x).flatten(1)


def make_layers(cfg: list[int | str], batch_norm: bool = False) -> nn.Sequential:
    """The convolutional trunk for a configuration list (see ``CFGS``)."""
    layers: list[nn.Module] = []
    in_channels = 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(nn.Conv2d(in_channels, v, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(v))
        layers.append(nn.ReLU(inplace=True))
        in_channels = v
    return nn.Sequential(*layers)


def _vgg(name: str, cfg: str, batch_norm: bool, weights, progress: bool, **kwargs) -> VGG:
    handle_legacy_weights(None, weights, name)
    return VGG(make_layers(CFGS[cfg], batch_norm=batch_norm), **kwargs)


@register_model(family="vgg", input_size=(3, 224, 224))
def vgg11_bn(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    """VGG-11 with batch normalisation (132.9M parameters with 1000 classes)."""
    return _vgg("vgg11_bn", "A", True, weights, progress, **kwargs)


@register_model(family="vgg", input_size=(3, 224, 224))
def vgg16_bn(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    """VGG-16 with batch normalisation (138.4M parameters with 1000 classes)."""
    return _vgg("vgg16_bn", "D", True, weights, progress, **kwargs)
