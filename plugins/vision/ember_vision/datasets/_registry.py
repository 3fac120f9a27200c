"""What the ``vision`` plugin registers in Ember's dataset registry (``ember.hub.list_datasets()``)."""
from __future__ import annotations

from . import CIFAR10, CIFAR100, EMNIST, KMNIST, MNIST, DatasetFolder, Digits, FakeData, FashionMNIST, ImageFolder

# name -> (class, metadata). Names are lower-case like torchvision's model names; metadata is filterable:
# ember.hub.list_datasets(task="image-classification", num_classes=10).
DATASETS = {
    "mnist": (MNIST, dict(num_classes=10, image_size=(1, 28, 28), downloadable=True)),
    "fashion_mnist": (FashionMNIST, dict(num_classes=10, image_size=(1, 28, 28), downloadable=True)),
    "kmnist": (KMNIST, dict(num_classes=10, image_size=(1, 28, 28), downloadable=True)),
    "emnist": (EMNIST, dict(num_classes=None, splits=EMNIST.splits, image_size=(1, 28, 28), downloadable=True)),
    "cifar10": (CIFAR10, dict(num_classes=10, image_size=(3, 32, 32), downloadable=True)),
    "cifar100": (CIFAR100, dict(num_classes=100, image_size=(3, 32, 32), downloadable=True)),
    "image_folder": (ImageFolder, dict(num_classes=None, image_size=None, downloadable=False)),
    "dataset_folder": (DatasetFolder, dict(num_classes=None, image_size=None, downloadable=False)),
    "fake_data": (FakeData, dict(num_classes=None, image_size=None, downloadable=False, synthetic=True)),
    "digits": (Digits, dict(num_classes=10, image_size=(1, 8, 8), downloadable=False, requires="scikit-learn")),
}


def register(registry) -> None:
    """``registry.add(name, DatasetClass, task=..., modality=..., **metadata)`` for every dataset."""
    for name, (cls, meta) in DATASETS.items():
        registry.add(name, cls, task="image-classification", modality="image", **meta)
