"""CIFAR-10 and CIFAR-100 in their "python version" layout, read without running pickled code.

The batch files are pickles (protocol 2, written by Python 2) of dicts holding a NumPy uint8 array.
They are read with :func:`ember.plugins.pickles.load_pickle`, Ember's restricted loader for
third-party pickles: plain containers and plain numeric NumPy arrays only. Anything else is refused
with :class:`ember.serialization.UnsafeUnpicklingError` before it is called; object arrays are
refused too.
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from ember.plugins.pickles import PickleFormatError, load_pickle

from .utils import (DatasetFormatError, DatasetNotFoundError, check_integrity, extract_archive, fetch_files,
                    missing_files_hint)
from .vision import SplitDataset

__all__ = ["CIFAR10", "CIFAR100", "load_cifar_pickle"]


def load_cifar_pickle(path: str | os.PathLike) -> Any:
    """Unpickle a CIFAR batch or meta file with the restricted loader (see the module docstring)."""
    path = os.fspath(path)
    try:
        return load_pickle(path, name=repr(path), what="CIFAR pickle")
    except PickleFormatError as e:  # the dataset's documented error, with the loader's message
        raise DatasetFormatError(str(e)) from None


class CIFAR10(SplitDataset):
    """`CIFAR-10 <https://www.cs.toronto.edu/~kriz/cifar.html>`_ (torchvision's ``CIFAR10``).

    Args:
        root: directory holding ``cifar-10-batches-py/`` (``data_batch_1`` ... ``data_batch_5``,
            ``test_batch``, ``batches.meta``).
        train: the 50,000 training images, else the 10,000 test images.
        transform, target_transform: applied to the PIL image (``"RGB"``) and to the ``int`` target.
        download: fetch and unpack the archive (md5-checked) when files are missing.

    ``data`` is a uint8 NumPy array ``(N, 32, 32, 3)`` and ``targets`` a list of ints, as in torchvision.
    """

    base_folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = [
        ["data_batch_1", "c99cafc152244af753f735de768cd75f"],
        ["data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"],
        ["data_batch_3", "54ebc095f3ab1f0389bbae665268c751"],
        ["data_batch_4", "634d18415352ddfa80567beed471001a"],
        ["data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"],
    ]
    test_list = [["test_batch", "40351d587109b95175f43aff81a1287e"]]
    meta = {"filename": "batches.meta", "key": "label_names", "md5": "5ff9c542aee3614f3951f8cda6e48888"}
    labels_key = "labels"
    num_classes = 10
    local_dirs: tuple[str, ...] = ()

    def _load(self) -> None:
        missing = [n for n in self._needed() if not os.path.isfile(os.path.join(self._folder, n))]
        if missing:
            raise DatasetNotFoundError(
                f"{type(self).__name__}: dataset not found in {self._folder}. Use download=True to get it, or "
                f"unpack {self.url} into {self.root}.\n" + missing_files_hint(self._folder, missing, data_path=False))
        self._load_meta()
        data, targets = [], []
        for name, _ in (self.train_list if self.train else self.test_list):
            images, labels = self._load_batch(os.path.join(self._folder, name))
            data.append(images)
            targets.extend(labels)
        self.data = np.vstack(data).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy()  # to HWC
        self.targets = targets

    @property
    def _folder(self) -> str:
        return os.path.join(self.root, self.base_folder)

    def _needed(self) -> list[str]:
        return [n for n, _ in (self.train_list if self.train else self.test_list)] + [self.meta["filename"]]

    def _load_meta(self) -> None:
        path = os.path.join(self._folder, self.meta["filename"])
        entry = load_cifar_pickle(path)
        names = entry.get(self.meta["key"]) if type(entry) is dict else None
        if (not isinstance(names, list) or len(names) != self.num_classes
                or not all(isinstance(n, str) for n in names)):
            raise DatasetFormatError(f"{path!r}: expected a dict whose {self.meta['key']!r} is a list of "
                                     f"{self.num_classes} class names")
        self.classes = names
        self.class_to_idx = {c: i for i, c in enumerate(names)}

    def _load_batch(self, path: str) -> tuple[np.ndarray, list[int]]:
        entry = load_cifar_pickle(path)
        if type(entry) is not dict or "data" not in entry or self.labels_key not in entry:
            raise DatasetFormatError(f"{path!r}: expected a dict with 'data' and {self.labels_key!r}")
        images, labels = entry["data"], entry[self.labels_key]
        if type(images) is not np.ndarray or images.dtype != np.uint8 or images.ndim != 2 or images.shape[1] != 3072:
            got = (f"{images.dtype} array of shape {images.shape}" if isinstance(images, np.ndarray)
                   else type(images).__name__)
            raise DatasetFormatError(f"{path!r}: 'data' must be a uint8 array of shape (N, 3072), got {got}")
        if not isinstance(labels, list) or not all(type(v) is int for v in labels):
            raise DatasetFormatError(f"{path!r}: {self.labels_key!r} must be a list of ints")
        if len(labels) != len(images):
            raise DatasetFormatError(f"{path!r}: {len(images)} images but {len(labels)} labels")
        if labels and not 0 <= min(labels) <= max(labels) < self.num_classes:
            raise DatasetFormatError(f"{path!r}: labels must lie in [0, {self.num_classes}), got "
                                     f"{min(labels)}..{max(labels)}")
        return images, labels

    def _check_integrity(self) -> bool:
        """True when every file of both splits has its published md5."""
        files = self.train_list + self.test_list + [[self.meta["filename"], self.meta["md5"]]]
        return all(check_integrity(os.path.join(self._folder, n), md5) for n, md5 in files)

    def download(self) -> None:
        """Get the archive (a local copy from ``$EMBER_DATA_PATH`` / ``local_dirs`` first, else ``url``;
        md5-checked) and unpack it, unless all files are present with their published md5s."""
        if self._check_integrity():
            return
        try:
            archive, = fetch_files(type(self).__name__, [(self.filename, self.tgz_md5)], self.root,
                                   [self.url.rsplit("/", 1)[0] + "/"], self.local_dirs)
        except DatasetNotFoundError as e:
            raise DatasetNotFoundError(f"{e}\n" + missing_files_hint(
                self._folder, self._needed(), header="Or unpack it yourself, so that these files exist:",
                data_path=False)) from None
        extract_archive(archive, self.root)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """``(image, target)``: a PIL image (mode ``"RGB"``, 32x32) and the class index."""
        from PIL import Image
        img, target = Image.fromarray(self.data[index]), self.targets[index]
        return self._apply_transforms(img, target)



class CIFAR100(CIFAR10):
    """`CIFAR-100 <https://www.cs.toronto.edu/~kriz/cifar.html>`_: as :class:`CIFAR10` with 100 classes
    (the "fine" labels), in ``cifar-100-python/`` (``train``, ``test``, ``meta``)."""

    base_folder = "cifar-100-python"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    filename = "cifar-100-python.tar.gz"
    tgz_md5 = "eb9058c3a382ffc7106e4002c42a8d85"
    train_list = [["train", "16019d7e3df5f24257cddd939b257f8d"]]
    test_list = [["test", "f0ef6b0ae62326f3e7ffdfab6717acfc"]]
    meta = {"filename": "meta", "key": "fine_label_names", "md5": "7973b15100ade9c7d40fb424638fde48"}
    labels_key = "fine_labels"
    num_classes = 100
