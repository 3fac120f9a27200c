"""What the ``vision`` plugin registers in Ember's dataset registry (``ember.hub.list_datasets()``)."""
from __future__ import annotations

from ember.plugins import RegistrationTable

from . import CIFAR10, CIFAR100, EMNIST, KMNIST, MNIST, DatasetFolder, Digits, FakeData, FashionMNIST, ImageFolder
from .folder import default_loader

# Names are lower-case like torchvision's model names; metadata is filterable:
# ember.hub.list_datasets(task="image-classification", num_classes=10).
DATASETS = RegistrationTable("datasets", task="image-classification", modality="image")
DATASETS.add("mnist", MNIST, num_classes=10, image_size=(1, 28, 28), downloadable=True)
DATASETS.add("fashion_mnist", FashionMNIST, num_classes=10, image_size=(1, 28, 28), downloadable=True)
DATASETS.add("kmnist", KMNIST, num_classes=10, image_size=(1, 28, 28), downloadable=True)
DATASETS.add("emnist", EMNIST, num_classes=None, splits=EMNIST.splits, image_size=(1, 28, 28), downloadable=True)
DATASETS.add("cifar10", CIFAR10, num_classes=10, image_size=(3, 32, 32), downloadable=True)
DATASETS.add("cifar100", CIFAR100, num_classes=100, image_size=(3, 32, 32), downloadable=True)
# data_spec: `ember finetune MODEL imagefolder:DIR` builds ImageFolder(DIR); reader: how `ember predict` reads a file.
DATASETS.add("image_folder", ImageFolder, num_classes=None, image_size=None, downloadable=False,
             data_spec="imagefolder", reader=default_loader)
DATASETS.add("dataset_folder", DatasetFolder, num_classes=None, image_size=None, downloadable=False)
DATASETS.add("fake_data", FakeData, num_classes=None, image_size=None, downloadable=False, synthetic=True)
DATASETS.add("digits", Digits, num_classes=10, image_size=(1, 8, 8), downloadable=False, requires="scikit-learn")
