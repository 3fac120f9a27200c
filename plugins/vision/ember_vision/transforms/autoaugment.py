"""Automatic augmentation policies: TrivialAugmentWide and RandAugment (torchvision's ``autoaugment``).

Operations and magnitude ranges follow torchvision; the random draws come from Ember's default
generator. Tensor inputs should be uint8 (Posterize and Equalize need it, as in torchvision).

    >>> aug = TrivialAugmentWide()
    >>> out = aug(ember.randint(0, 256, (3, 32, 32), dtype=ember.uint8))
"""
from __future__ import annotations

import math

import numpy as np

import ember
from ember import Tensor
from ember.nn import Module

from . import functional as F
from .functional import InterpolationMode, _check_interpolation

__all__ = ["TrivialAugmentWide", "RandAugment"]


def _apply_op(img, op_name: str, magnitude: float, interpolation: InterpolationMode, fill):
    if op_name == "ShearX":
        # shear by the angle whose tangent is the magnitude: the (1, level, 0, 0, 1, 0) matrix of AutoAugment
        return F.affine(img, angle=0.0, translate=[0, 0], scale=1.0, shear=[math.degrees(math.atan(magnitude)), 0.0],
                        interpolation=interpolation, fill=fill, center=[0, 0])
    if op_name == "ShearY":
        return F.affine(img, angle=0.0, translate=[0, 0], scale=1.0, shear=[0.0, math.degrees(math.atan(magnitude))],
                        interpolation=interpolation, fill=fill, center=[0, 0])
    if op_name == "TranslateX":
        return F.affine(img, angle=0.0, translate=[int(magnitude), 0], scale=1.0, interpolation=interpolation,
                        shear=[0.0, 0.0], fill=fill)
    if op_name == "TranslateY":
        return F.affine(img, angle=0.0, translate=[0, int(magnitude)], scale=1.0, interpolation=interpolation,
                        shear=[0.0, 0.0], fill=fill)
    if op_name == "Rotate":
        return F.rotate(img, magnitude, interpolation=interpolation, fill=fill)
    if op_name == "Brightness":
        return F.adjust_brightness(img, 1.0 + magnitude)
    if op_name == "Color":
        return F.adjust_saturation(img, 1.0 + magnitude)
    if op_name == "Contrast":
        return F.adjust_contrast(img, 1.0 + magnitude)
    if op_name == "Sharpness":
        return F.adjust_sharpness(img, 1.0 + magnitude)
    if op_name == "Posterize":
        return F.posterize(img, int(magnitude))
    if op_name == "Solarize":
        return F.solarize(img, magnitude)
    if op_name == "AutoContrast":
        return F.autocontrast(img)
    if op_name == "Equalize":
        return F.equalize(img)
    if op_name == "Invert":
        return F.invert(img)
    if op_name == "Identity":
        return img
    raise ValueError(f"The provided operator {op_name} is not recognized.")


def _linspace(start: float, end: float, steps: int) -> np.ndarray:
    return np.linspace(start, end, steps, dtype=np.float32)


def _posterize_bits(num_bins: int, levels: int) -> np.ndarray:
    return 8 - np.round(np.arange(num_bins, dtype=np.float32) / np.float32((num_bins - 1) / levels)).astype(np.int64)


_NO_MAGNITUDE = np.asarray(0.0, dtype=np.float32)


class _AugmentBase(Module):
    def __init__(self, interpolation, fill):
        super().__init__()
        self.interpolation = _check_interpolation(interpolation)
        self.fill = fill

    def _fill_for(self, img):
        fill = self.fill
        if isinstance(img, Tensor):
            channels = F.get_dimensions(img)[0]
            if isinstance(fill, (int, float)):
                fill = [float(fill)] * channels
            elif fill is not None:
                fill = [float(f) for f in fill]
        return fill

    @staticmethod
    def _pick(op_meta: dict) -> str:
        return list(op_meta)[int(ember.randint(len(op_meta), (1,)).item())]

    @staticmethod
    def _signed(magnitude: float, signed: bool) -> float:
        if signed and int(ember.randint(2, (1,)).item()):
            return -magnitude
        return magnitude


class TrivialAugmentWide(_AugmentBase):
    """TrivialAugment Wide (Müller & Hutter, 2021): one random operation at a random magnitude per image."""

    def __init__(self, num_magnitude_bins: int = 31, interpolation=InterpolationMode.NEAREST, fill=None) -> None:
        super().__init__(interpolation, fill)
        self.num_magnitude_bins = num_magnitude_bins

    def _augmentation_space(self, num_bins: int) -> dict:
        return {
            # op_name: (magnitudes, signed)
            "Identity": (_NO_MAGNITUDE, False),
            "ShearX": (_linspace(0.0, 0.99, num_bins), True),
            "ShearY": (_linspace(0.0, 0.99, num_bins), True),
            "TranslateX": (_linspace(0.0, 32.0, num_bins), True),
            "TranslateY": (_linspace(0.0, 32.0, num_bins), True),
            "Rotate": (_linspace(0.0, 135.0, num_bins), True),
            "Brightness": (_linspace(0.0, 0.99, num_bins), True),
            "Color": (_linspace(0.0, 0.99, num_bins), True),
            "Contrast": (_linspace(0.0, 0.99, num_bins), True),
            "Sharpness": (_linspace(0.0, 0.99, num_bins), True),
            "Posterize": (_posterize_bits(num_bins, 6), False),
            "Solarize": (_linspace(255.0, 0.0, num_bins), False),
            "AutoContrast": (_NO_MAGNITUDE, False),
            "Equalize": (_NO_MAGNITUDE, False),
        }

    def forward(self, img):
        fill = self._fill_for(img)
        op_meta = self._augmentation_space(self.num_magnitude_bins)
        op_name = self._pick(op_meta)
        magnitudes, signed = op_meta[op_name]
        magnitude = float(magnitudes[int(ember.randint(len(magnitudes), (1,)).item())]) if magnitudes.ndim > 0 \
            else 0.0
        magnitude = self._signed(magnitude, signed)
        return _apply_op(img, op_name, magnitude, interpolation=self.interpolation, fill=fill)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(num_magnitude_bins={self.num_magnitude_bins}, "
                f"interpolation={self.interpolation}, fill={self.fill})")


class RandAugment(_AugmentBase):
    """RandAugment (Cubuk et al., 2019): ``num_ops`` random operations at a fixed ``magnitude`` bin."""

    def __init__(self, num_ops: int = 2, magnitude: int = 9, num_magnitude_bins: int = 31,
                 interpolation=InterpolationMode.NEAREST, fill=None) -> None:
        super().__init__(interpolation, fill)
        self.num_ops = num_ops
        self.magnitude = magnitude
        self.num_magnitude_bins = num_magnitude_bins

    def _augmentation_space(self, num_bins: int, image_size) -> dict:
        return {
            "Identity": (_NO_MAGNITUDE, False),
            "ShearX": (_linspace(0.0, 0.3, num_bins), True),
            "ShearY": (_linspace(0.0, 0.3, num_bins), True),
            "TranslateX": (_linspace(0.0, 150.0 / 331.0 * image_size[1], num_bins), True),
            "TranslateY": (_linspace(0.0, 150.0 / 331.0 * image_size[0], num_bins), True),
            "Rotate": (_linspace(0.0, 30.0, num_bins), True),
            "Brightness": (_linspace(0.0, 0.9, num_bins), True),
            "Color": (_linspace(0.0, 0.9, num_bins), True),
            "Contrast": (_linspace(0.0, 0.9, num_bins), True),
            "Sharpness": (_linspace(0.0, 0.9, num_bins), True),
            "Posterize": (_posterize_bits(num_bins, 4), False),
            "Solarize": (_linspace(255.0, 0.0, num_bins), False),
            "AutoContrast": (_NO_MAGNITUDE, False),
            "Equalize": (_NO_MAGNITUDE, False),
        }

    def forward(self, img):
        fill = self._fill_for(img)
        _, height, width = F.get_dimensions(img)
        op_meta = self._augmentation_space(self.num_magnitude_bins, (height, width))
        for _ in range(self.num_ops):
            op_name = self._pick(op_meta)
            magnitudes, signed = op_meta[op_name]
            magnitude = float(magnitudes[self.magnitude]) if magnitudes.ndim > 0 else 0.0
            img = _apply_op(img, op_name, self._signed(magnitude, signed), interpolation=self.interpolation,
                            fill=fill)
        return img

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(num_ops={self.num_ops}, magnitude={self.magnitude}, "
                f"num_magnitude_bins={self.num_magnitude_bins}, interpolation={self.interpolation}, "
                f"fill={self.fill})")
