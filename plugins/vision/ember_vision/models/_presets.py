"""The preprocessing presets that pretrained weights carry (torchvision's ``models/_presets.py``):
``weights.transforms()`` returns one, configured for the data the weights were trained on.
"""
from __future__ import annotations

from typing import Sequence

import ember
from ember import nn

__all__ = ["ImageClassification"]


class ImageClassification(nn.Module):
    """The preprocessing that pretrained classification weights expect (torchvision's preset of that name):
    resize the shorter side to ``resize_size``, center-crop ``crop_size``, scale to [0, 1] floats, normalise.

    Accepts a PIL image or a uint8/float tensor ``(..., C, H, W)``. ``weights.transforms()`` returns one.
    """

    def __init__(self, *, crop_size: int, resize_size: int = 256, mean: Sequence[float] = (0.485, 0.456, 0.406),
                 std: Sequence[float] = (0.229, 0.224, 0.225), interpolation: str = "bilinear",
                 antialias: bool | None = True):
        super().__init__()
        self.crop_size, self.resize_size = [crop_size], [resize_size]
        self.mean, self.std = list(mean), list(std)
        self.interpolation, self.antialias = interpolation, antialias

    def forward(self, img):
        from ..transforms import functional as TF
        mode = TF.InterpolationMode(self.interpolation) if isinstance(self.interpolation, str) else self.interpolation
        img = TF.resize(img, self.resize_size, interpolation=mode, antialias=self.antialias)
        img = TF.center_crop(img, self.crop_size)
        if not isinstance(img, ember.Tensor):
            img = TF.pil_to_tensor(img)
        img = TF.convert_image_dtype(img, ember.float32)
        return TF.normalize(img, mean=self.mean, std=self.std)

    def extra_repr(self) -> str:
        return (f"crop_size={self.crop_size}, resize_size={self.resize_size}, mean={self.mean}, std={self.std}, "
                f"interpolation={self.interpolation}")

    def describe(self) -> str:
        return (f"Resized to {self.resize_size} ({self.interpolation}), center-cropped to {self.crop_size}, "
                f"rescaled to [0.0, 1.0], normalised with mean={self.mean} and std={self.std}.")
