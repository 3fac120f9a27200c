"""Transform classes (``torchvision.transforms``) for PIL images and Ember tensors.

This module gathers them; each lives with its kind: ``_container`` (Compose, RandomApply, ...),
``_type_conversion`` (ToTensor, ToPILImage, ...), ``_geometry`` (Resize, crops, flips, warps),
``_color`` (ColorJitter, greyscale, single photometric ops), ``_misc`` (Normalize, Lambda,
LinearTransformation, GaussianBlur) and ``_augment`` (RandomErasing).

Random transforms draw from Ember's default generator (``ember.rand``, ``ember.randint``,
``ember.empty(1).uniform_``), so ``ember.manual_seed`` and DataLoader worker seeding make
augmentation pipelines reproducible::

    >>> import ember_vision.transforms as T
    >>> _ = ember.manual_seed(0)
    >>> pipeline = T.Compose([T.RandomResizedCrop(24), T.RandomHorizontalFlip(), T.ToTensor()])
"""
from __future__ import annotations

from ._augment import RandomErasing
from ._color import (ColorJitter, Grayscale, RandomAdjustSharpness, RandomAutocontrast, RandomEqualize, RandomGrayscale,
                     RandomInvert, RandomPosterize, RandomSolarize)
from ._container import Compose, RandomApply, RandomChoice, RandomOrder, RandomTransforms  # noqa: F401 (a base class)
from ._geometry import (CenterCrop, FiveCrop, Pad, RandomAffine, RandomCrop, RandomHorizontalFlip, RandomPerspective,
                        RandomResizedCrop, RandomRotation, RandomVerticalFlip, Resize, TenCrop)
from ._misc import GaussianBlur, Lambda, LinearTransformation, Normalize
from ._type_conversion import ConvertImageDtype, PILToTensor, ToDtype, ToPILImage, ToTensor
from .functional import InterpolationMode

__all__ = [
    "Compose", "ToTensor", "PILToTensor", "ConvertImageDtype", "ToDtype", "ToPILImage", "Normalize", "Resize",
    "CenterCrop", "Pad", "Lambda", "RandomApply", "RandomChoice", "RandomOrder", "RandomCrop",
    "RandomHorizontalFlip", "RandomVerticalFlip", "RandomResizedCrop", "FiveCrop", "TenCrop",
    "LinearTransformation", "ColorJitter", "RandomRotation", "RandomAffine", "Grayscale", "RandomGrayscale",
    "RandomPerspective", "RandomErasing", "GaussianBlur", "InterpolationMode", "RandomInvert", "RandomPosterize",
    "RandomSolarize", "RandomAdjustSharpness", "RandomAutocontrast", "RandomEqualize",
]
