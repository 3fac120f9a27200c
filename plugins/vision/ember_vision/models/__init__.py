"""Image classification models with torchvision's builders, module names and state_dict keys.

>>> from ember_vision.models import resnet18, efficientnet_lite0, EfficientNet_Lite0_Weights
>>> model = efficientnet_lite0(weights="DEFAULT").eval()          # real ImageNet weights
>>> preprocess = EfficientNet_Lite0_Weights.DEFAULT.transforms()
>>> net = resnet18(num_classes=10)
>>> net.reset_classifier(5); net.forward_features(x); net.get_classifier()      # timm-style, every model
>>> from ember_vision.models.feature_extraction import create_feature_extractor
>>> body = create_feature_extractor(net, return_nodes={"layer3": "c4", "layer4": "c5"})

Through the hub (every plugin): ``ember.hub.get_model("vision:resnet18", num_classes=10)``. Models:
LeNet5 (weights trained here on Fashion-MNIST), the MNIST CNN of ``digit-recognizer-py`` (its weights),
ResNet-18/34/50, VGG-11/16 with BatchNorm, MobileNetV2, MobileNetV3-Small, EfficientNet-B0,
EfficientNet-Lite0 (ImageNet weights), ViT-B/16 and ``vit_tiny_patch4_32`` (a small ViT for 32x32).
"""
from __future__ import annotations

from typing import Any, Callable

from .efficientnet import *  # noqa: F401,F403
from .lenet import *  # noqa: F401,F403
from .mnistcnn import *  # noqa: F401,F403
from .mobilenetv2 import *  # noqa: F401,F403
from .mobilenetv3 import *  # noqa: F401,F403
from .resnet import *  # noqa: F401,F403
from .vgg import *  # noqa: F401,F403
from .vit import *  # noqa: F401,F403
from . import efficientnet, lenet, mnistcnn, mobilenetv2, mobilenetv3, resnet, vgg, vit  # noqa: F401 (submodules)
from . import feature_extraction  # noqa: F401  (create_feature_extractor, get_graph_node_names)
from ._classifier import ClassifierMixin  # noqa: F401 (get_classifier / reset_classifier / forward_features)
from ._utils import ImageClassification  # noqa: F401 (the preset that weights.transforms() returns)

_PLUGIN = "vision"


def list_models(module=None, include=None, exclude=None) -> list[str]:
    """Bare names of this package's models (torchvision's ``list_models``; ``module`` narrows to a submodule)."""
    from ember import hub
    return [n.split(":", 1)[1] for n in hub.list_models(module or __name__, include, exclude, plugin=_PLUGIN)]


def get_model(name: str, **config: Any):
    """Build one of this package's models by name: ``get_model("resnet18", weights=None, num_classes=10)``."""
    from ember import hub
    return hub.get_model(f"{_PLUGIN}:{name}", **config)


def get_model_builder(name: str) -> Callable:
    from ember import hub
    return hub.get_model_builder(f"{_PLUGIN}:{name}")


def get_model_weights(name: str | Callable):
    """The weights enum of a model (by name or builder), ``None`` when it has no pretrained weights."""
    from ember import hub
    return hub.get_model_weights(f"{_PLUGIN}:{name}" if isinstance(name, str) else name)


def get_weight(name: str):
    """A weights member from ``"EnumName.MEMBER"`` (``"LeNet5_Weights.FASHIONMNIST_V1"``)."""
    from ember import hub
    return hub.get_weight(name)
