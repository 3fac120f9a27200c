"""Transforms that hold other transforms: chained, applied with a probability, in a random order, or
one picked at random (torchvision's ``Compose``, ``RandomApply``, ``RandomOrder``, ``RandomChoice``)."""
from __future__ import annotations

from collections.abc import Sequence

import ember
from ember.nn import Module

from ._utils import _rand, _randint

__all__ = ["RandomChoice", "RandomOrder", "RandomApply", "Compose", "RandomTransforms"]


class Compose:
    """Chain transforms: ``Compose([CenterCrop(10), PILToTensor()])``."""

    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        lines = "".join(f"\n    {t}" for t in self.transforms)
        return f"{self.__class__.__name__}({lines}\n)"


class RandomTransforms:
    """Base class for a list of transforms applied in a random way."""

    def __init__(self, transforms):
        if not isinstance(transforms, Sequence):
            raise TypeError("Argument transforms should be a sequence")
        self.transforms = transforms

    def __call__(self, *args, **kwargs):
        raise NotImplementedError()

    def __repr__(self) -> str:
        lines = "".join(f"\n    {t}" for t in self.transforms)
        return f"{self.__class__.__name__}({lines}\n)"


class RandomApply(Module):
    """Apply the list of transforms with probability ``p``."""

    def __init__(self, transforms, p: float = 0.5):
        super().__init__()
        self.transforms = transforms
        self.p = p

    def forward(self, img):
        if self.p < _rand():
            return img
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        lines = "".join(f"\n    {t}" for t in self.transforms)
        return f"{self.__class__.__name__}(\n    p={self.p}{lines}\n)"


class RandomOrder(RandomTransforms):
    """Apply the transforms in a random order."""

    def __call__(self, img):
        for i in ember.randperm(len(self.transforms)).tolist():
            img = self.transforms[i](img)
        return img


class RandomChoice(RandomTransforms):
    """Apply one transform picked at random (with weights ``p`` when given)."""

    def __init__(self, transforms, p=None):
        super().__init__(transforms)
        if p is not None and not isinstance(p, Sequence):
            raise TypeError("Argument p should be a sequence")
        if p is not None and len(p) != len(transforms):
            raise ValueError(f"Argument p should have one weight per transform ({len(transforms)}), got {len(p)}")
        self.p = p

    def __call__(self, *args):
        if self.p is None:
            idx = _randint(0, len(self.transforms))
        else:
            idx = int(ember.multinomial(ember.tensor([float(w) for w in self.p], dtype=ember.float64), 1).item())
        return self.transforms[idx](*args)

    def __repr__(self) -> str:
        return f"{super().__repr__()}(p={self.p})"
