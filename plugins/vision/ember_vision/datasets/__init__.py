"""Image datasets with torchvision's names, signatures, on-disk layouts and behaviour.

Each is an :class:`ember.utils.data.Dataset` (through :class:`VisionDataset`) returning
``(PIL image, int target)`` samples, ready for ``transforms`` and the DataLoader::

    >>> from ember_vision import datasets, transforms
    >>> train = datasets.FashionMNIST("data", train=True, download=True,  # doctest: +SKIP
    ...                               transform=transforms.ToTensor())

``download=True`` looks in local directories first (``$EMBER_DATA_PATH``, then well-known places
such as the Debian package ``dataset-fashion-mnist``'s), then the dataset's mirrors; without network
it fails with an error listing the expected files and where to put them. Malformed files raise
:class:`DatasetFormatError` naming the file and the problem.
"""
from .cifar import CIFAR10, CIFAR100
from .digits import Digits
from .fakedata import FakeData
from .folder import IMG_EXTENSIONS, DatasetFolder, ImageFolder, default_loader, pil_loader
from .mnist import EMNIST, KMNIST, MNIST, FashionMNIST
from .utils import DatasetFormatError, DatasetNotFoundError
from .vision import SplitDataset, StandardTransform, VisionDataset

__all__ = ["MNIST", "FashionMNIST", "KMNIST", "EMNIST", "CIFAR10", "CIFAR100", "ImageFolder", "DatasetFolder",
           "FakeData", "Digits", "VisionDataset", "SplitDataset", "StandardTransform", "DatasetFormatError",
           "DatasetNotFoundError",
           "IMG_EXTENSIONS", "default_loader", "pil_loader"]
