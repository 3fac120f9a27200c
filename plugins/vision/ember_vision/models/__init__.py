"""Image classification models with torchvision's builders, module names and state_dict keys.

>>> from ember_vision.models import resnet18, efficientnet_lite0, EfficientNet_Lite0_Weights
>>> model = efficientnet_lite0(weights="DEFAULT").eval()          # real ImageNet weights
>>> preprocess = EfficientNet_Lite0_Weights.DEFAULT.transforms()
>>> net = resnet18(num_classes=10)
>>> net.reset_classifier(5); net.get_classifier()      # timm-style, every model
Linear(in_features=512, out_features=5, bias=True)
>>> net.forward_features(ember.zeros(1, 3, 64, 64)).shape
ember.Size([1, 512, 2, 2])
>>> from ember_vision.models.feature_extraction import create_feature_extractor
>>> body = create_feature_extractor(net, return_nodes={"layer3": "c4", "layer4": "c5"})

Each builder is registered where it is defined (``@register_model``, in ``_api.py``); the plugin hands
:data:`MODELS` to Ember. Through the hub (every plugin):
``ember.hub.get_model("vision:resnet18", num_classes=10)``. Models:
LeNet5 (weights trained here on Fashion-MNIST), the MNIST CNN of ``digit-recognizer-py`` (its weights),
ResNet-18/34/50, VGG-11/16 with BatchNorm, MobileNetV2, MobileNetV3-Small, EfficientNet-B0,
EfficientNet-Lite0 (ImageNet weights), ViT-B/16 and ``vit_tiny_patch4_32`` (a small ViT for 32x32).
"""
from __future__ import annotations

from ._api import (MODELS, get_model, get_model_builder, get_model_weights, get_weight,  # noqa: F401
                   list_models, register_model)
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
from ._presets import ImageClassification  # noqa: F401 (the preset that weights.transforms() returns)
