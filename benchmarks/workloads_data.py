"""Data-loading benchmark workloads: images/s of a DataLoader over a dataset with a CPU-heavy per-item
transform, at num_workers 0, 1 and 2. The same code runs with ``ember.utils.data`` and
``torch.utils.data``; one step is one epoch of ``N_IMAGES`` images, so images/s = N_IMAGES / time.

Worker processes are persistent, so a step measures steady-state throughput (including the refill at
each epoch start) rather than process start-up.
"""
from __future__ import annotations

import importlib

import numpy as np

from workloads import Workload

N_IMAGES = 256
BATCH_SIZE = 32


class AugmentedImages:
    """3x32x32 float32 images with a per-item augmentation written in NumPy: random crop of a padded
    image, random horizontal flip, 5x5 Gaussian blur, unsharp mask, colour jitter and normalisation."""

    def __init__(self, lib, n: int = N_IMAGES):
        self.lib = lib
        rng = np.random.default_rng(0)
        self.images = rng.random((n, 3, 32, 32), dtype=np.float32)
        self.labels = rng.integers(0, 10, n)
        k = np.array([1, 4, 6, 4, 1], dtype=np.float32)
        self.kernel = k / k.sum()
        self.mean = np.array([0.49, 0.48, 0.45], dtype=np.float32)[:, None, None]
        self.std = np.array([0.25, 0.24, 0.26], dtype=np.float32)[:, None, None]

    def __len__(self) -> int:
        return len(self.images)

    def _blur(self, img):
        # Separable 5-tap blur: shifted weighted sums along each spatial axis.
        p = np.pad(img, ((0, 0), (2, 2), (2, 2)), mode="reflect")
        rows = sum(w * p[:, i:i + 32, :] for i, w in enumerate(self.kernel))
        return sum(w * rows[:, :, i:i + 32] for i, w in enumerate(self.kernel))

    def __getitem__(self, i):
        img = np.pad(self.images[i], ((0, 0), (4, 4), (4, 4)), mode="reflect")
        y, x = np.random.randint(0, 9, size=2)
        img = img[:, y:y + 32, x:x + 32]
        if np.random.rand() < 0.5:
            img = img[:, :, ::-1]
        blurred = self._blur(img)
        img = np.clip(img + 0.5 * (img - self._blur(blurred)), 0, 1)          # unsharp mask
        gain = 1 + 0.2 * (np.random.rand(3, 1, 1).astype(np.float32) - 0.5)     # colour jitter
        img = (img * gain - self.mean) / self.std
        return self.lib.from_numpy(np.ascontiguousarray(img, dtype=np.float32)), int(self.labels[i])


def _loader(num_workers: int):
    def setup(lib):
        data = importlib.import_module(lib.__name__ + ".utils.data")
        kwargs = dict(persistent_workers=True) if num_workers else {}
        loader = data.DataLoader(AugmentedImages(lib), batch_size=BATCH_SIZE, shuffle=True,
                                 num_workers=num_workers, **kwargs)

        def step():
            for images, labels in loader:
                pass
        return step
    return setup


ALL = [
    Workload(f"data: {N_IMAGES} augmented 3x32x32 images, num_workers={w}", _loader(w), 1.0) for w in (0, 1, 2)
]
