"""Random images for testing pipelines (torchvision's ``FakeData``)."""
from __future__ import annotations

import operator
from typing import Any, Callable

import numpy as np

import ember

from .vision import VisionDataset

__all__ = ["FakeData"]

_CHANNELS = (1, 2, 3, 4)  # modes "L", "LA", "RGB", "RGBA"


class FakeData(VisionDataset):
    """``size`` random PIL images with random integer targets; sample ``i`` depends only on
    ``i + random_offset`` (it is generated from a generator seeded with that number), so it is the
    same every time and in every DataLoader worker, and the global random state is untouched.

    Args:
        size: number of samples.
        image_size: ``(C, H, W)``; ``C`` of 1, 2, 3 or 4 gives mode ``"L"``, ``"LA"``, ``"RGB"``, ``"RGBA"``.
        num_classes: targets lie in ``[0, num_classes)``.
        transform, target_transform: applied to the image and to the ``int`` target.
        random_offset: shifts the seeds, giving a different dataset of the same size.

    >>> img, target = FakeData(size=10, image_size=(3, 32, 32))[3]
    """

    def __init__(self, size: int = 1000, image_size: tuple[int, ...] = (3, 224, 224), num_classes: int = 10,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 random_offset: int = 0) -> None:
        super().__init__(None, transform=transform, target_transform=target_transform)
        image_size = tuple(image_size)
        if len(image_size) != 3 or image_size[0] not in _CHANNELS or min(image_size) < 1:
            raise ValueError(f"FakeData: image_size must be (C, H, W) with C in 1..4 and H, W >= 1, got {image_size}")
        if num_classes < 1:
            raise ValueError(f"FakeData: num_classes must be at least 1, got {num_classes}")
        self.size = operator.index(size)
        self.num_classes = num_classes
        self.image_size = image_size
        self.random_offset = random_offset

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """``(image, target)``: a PIL image and an ``int`` in ``[0, num_classes)``."""
        from PIL import Image
        index = operator.index(index)
        if index < 0:
            index += self.size
        if not 0 <= index < self.size:
            raise IndexError(f"{type(self).__name__} index out of range")
        g = ember.Generator().manual_seed(index + self.random_offset)
        pixels = ember.randn(*self.image_size, generator=g).numpy()
        target = int(ember.randint(0, self.num_classes, (1,), generator=g).item())
        # As torchvision's ToPILImage on a float tensor: scale by 255 and convert to bytes, wrapping
        # out-of-range values (standard normal pixels are meant to be noise, not a distribution).
        channels_last = (pixels.transpose(1, 2, 0) * 255).astype(np.int64).astype(np.uint8)
        img = Image.fromarray(channels_last[:, :, 0] if self.image_size[0] == 1 else channels_last)  # L/LA/RGB/RGBA
        return self._apply_transforms(img, target)

    def __len__(self) -> int:
        return self.size
