"""scikit-learn's bundled 8x8 handwritten digits as an image dataset (needs scikit-learn)."""
from __future__ import annotations

import os
from typing import Callable

import numpy as np

import ember

from .mnist import _GrayImages

__all__ = ["Digits"]


def _load_sklearn_digits():
    try:
        from sklearn.datasets import load_digits
    except ImportError as e:
        raise ImportError("ember_vision.datasets.Digits needs scikit-learn, which bundles the 8x8 digits: "
                          "pip install scikit-learn") from e
    return load_digits()


class Digits(_GrayImages):
    """The 1,797 8x8 digit images bundled with scikit-learn (UCI optical digits), MNIST-style.

    Nothing is downloaded: ``root`` and ``download`` are accepted for a uniform signature and ignored.
    The split is fixed: a permutation of all images drawn from an :class:`ember.Generator` seeded with
    ``split_seed``; the first 80% (1,437 images) are the training set, the rest (360) the test set,
    the same split as ``examples/train_digits.py``.

    Images are PIL images of mode ``"L"`` (8x8, the 0..16 intensities scaled to 0..255), targets
    ``int``; ``data`` is a uint8 tensor ``(N, 8, 8)`` and ``targets`` an int64 tensor.

    >>> img, target = Digits(train=False)[0]
    """

    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]
    train_fraction = 0.8

    root_required = False

    def __init__(self, root: str | os.PathLike | None = None, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False, *, split_seed: int = 0) -> None:
        self.split_seed = split_seed
        super().__init__(root, train, transform, target_transform)  # nothing to download

    def _load(self) -> None:
        digits = _load_sklearn_digits()
        images = np.rint(np.asarray(digits.images, dtype=np.float64) * (255.0 / 16.0)).astype(np.uint8)
        perm = ember.randperm(len(images), generator=ember.Generator().manual_seed(self.split_seed)).numpy()
        n_train = int(self.train_fraction * len(images))
        idx = perm[:n_train] if self.train else perm[n_train:]
        self.data = ember.from_numpy(np.ascontiguousarray(images[idx]))
        self.targets = ember.from_numpy(np.asarray(digits.target, dtype=np.int64)[idx])
