"""LeNet-5 (LeCun et al., 1998) in its common modern form (ReLU, max pooling), for 28x28 or 32x32 images.

torchvision has no LeNet; the layout follows its AlexNet/VGG naming: ``features.{0,3}`` are the two
convolutions, ``classifier.{0,2,4}`` the three linear layers (``classifier.4`` is the head)::

    features:   Conv2d(C, 6, 5, padding=2) ReLU MaxPool2d(2)  Conv2d(6, 16, 5) ReLU MaxPool2d(2)
    classifier: Linear(400, 120) ReLU Linear(120, 84) ReLU Linear(84, num_classes)

With ``padding=2`` on the first convolution a 28x28 input gets the paper's 32x32 geometry (the flattened
features are 16x5x5 = 400); for 32x32 inputs build it with ``padding=0``.

Weights: ``LeNet5_Weights.FASHIONMNIST_V1`` were trained by ``plugins/vision/scripts/train_lenet5.py``;
their metadata states the recipe and the measured test accuracy.
"""
from __future__ import annotations

from functools import partial

from ember import nn
from ember.plugins.weights import Weights, WeightsEnum

from ._api import register_model
from ._classifier import ClassifierMixin
from ._presets import ImageClassification
from ._utils import handle_legacy_weights, load_weights, ovewrite_named_param

__all__ = ["LeNet5", "LeNet5_Weights", "lenet5", "FASHIONMNIST_CATEGORIES"]

FASHIONMNIST_CATEGORIES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                           "Bag", "Ankle boot"]

# Fashion-MNIST training-set pixel statistics (of ToTensor()'s [0, 1] values).
FASHIONMNIST_MEAN, FASHIONMNIST_STD = (0.2860,), (0.3530,)


class LeNet5(ClassifierMixin, nn.Module):
    """LeNet-5: two 5x5 convolutions with max pooling, then three linear layers.

    ``padding`` is the first convolution's padding: 2 (default) for 28x28 inputs, 0 for 32x32.

    >>> model = LeNet5(num_classes=10)
    >>> model(ember.zeros(2, 1, 28, 28)).shape
    ember.Size([2, 10])
    """

    classifier_head = "classifier.4"

    def __init__(self, num_classes: int = 10, in_channels: int = 1, padding: int = 2) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5, padding=padding), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=2, stride=2),
            nn.Conv2d(6, 16, kernel_size=5), nn.ReLU(inplace=True), nn.MaxPool2d(kernel_size=2, stride=2),
        )
        self.classifier = nn.Sequential(
            nn.Linear(16 * 5 * 5, 120), nn.ReLU(inplace=True),
            nn.Linear(120, 84), nn.ReLU(inplace=True),
            nn.Linear(84, num_classes),
        )

    def forward_features(self, x):
        return self.features(x)

    def _pool_features(self, x):
        return x.flatten(1)


_fashion_transforms = partial(ImageClassification, crop_size=28, resize_size=28, mean=FASHIONMNIST_MEAN,
                              std=FASHIONMNIST_STD)


class LeNet5_Weights(WeightsEnum):
    """Weights for :func:`lenet5`. ``FASHIONMNIST_V1``: trained by this repository's
    ``plugins/vision/scripts/train_lenet5.py`` on Fashion-MNIST; 90.05% on its 10,000 test images."""

    FASHIONMNIST_V1 = Weights(
        url="package://ember_vision/weights/lenet5_fashionmnist_v1.ember",
        sha256="c7d71b161cc468c803f037510739aae444baa393eb9c2e06b2f4edd1849681d8",
        size=249064,
        meta={
            "categories": FASHIONMNIST_CATEGORIES,
            "num_params": 61706,
            "dataset": "Fashion-MNIST",
            "recipe": "python plugins/vision/scripts/train_lenet5.py --epochs 10 --batch-size 128 --lr 0.001 "
                      "--seed 0: Adam, lr x0.5 after epochs 6 and 8, inputs normalised with mean 0.2860 / "
                      "std 0.3530, no augmentation (about 3 minutes on 2 CPU cores)",
            "metrics": {"accuracy": 0.9005},
            "evaluation": "full Fashion-MNIST test set (10,000 images)",
            "min_size": (28, 28),
        },
        transforms=_fashion_transforms,
    )
    DEFAULT = FASHIONMNIST_V1


@register_model(family="lenet", input_size=(1, 28, 28))
def lenet5(*, weights: LeNet5_Weights | str | None = None, progress: bool = True, **kwargs) -> LeNet5:
    """LeNet-5 (``num_classes``, ``in_channels``, ``padding`` as in :class:`LeNet5`); ``weights`` loads
    pretrained weights (``"DEFAULT"`` = Fashion-MNIST)."""
    weights = handle_legacy_weights(LeNet5_Weights, weights, "lenet5")
    if weights is not None:
        ovewrite_named_param(kwargs, "num_classes", len(weights.meta["categories"]), "vision:lenet5",
                             reset_classifier=True)
    return load_weights(LeNet5(**kwargs), weights, progress)
