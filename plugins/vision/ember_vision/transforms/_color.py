"""Colour transforms: jitter, greyscale, and the single photometric operations applied with a
probability (invert, posterize, solarize, sharpness, autocontrast, equalize)."""
from __future__ import annotations

import numbers

import ember
from ember.nn import Module

from . import functional as F
from ._utils import _rand, _uniform

__all__ = ["ColorJitter", "Grayscale", "RandomGrayscale", "RandomInvert", "RandomPosterize", "RandomSolarize",
           "RandomAdjustSharpness", "RandomAutocontrast", "RandomEqualize"]


class ColorJitter(Module):
    """Randomly change brightness, contrast, saturation and hue, in a random order."""

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        super().__init__()
        self.brightness = self._check_input(brightness, "brightness")
        self.contrast = self._check_input(contrast, "contrast")
        self.saturation = self._check_input(saturation, "saturation")
        self.hue = self._check_input(hue, "hue", center=0, bound=(-0.5, 0.5), clip_first_on_zero=False)

    @staticmethod
    def _check_input(value, name, center=1, bound=(0, float("inf")), clip_first_on_zero=True):
        if isinstance(value, numbers.Number):
            if value < 0:
                raise ValueError(f"If {name} is a single number, it must be non negative.")
            value = [center - float(value), center + float(value)]
            if clip_first_on_zero:
                value[0] = max(value[0], 0.0)
        elif isinstance(value, (tuple, list)) and len(value) == 2:
            value = [float(value[0]), float(value[1])]
        else:
            raise TypeError(f"{name} should be a single number or a list/tuple with length 2.")
        if not bound[0] <= value[0] <= value[1] <= bound[1]:
            raise ValueError(f"{name} values should be between {bound}, but got {value}.")
        # the identity range (1, 1) or (0, 0) for hue means: leave it alone
        if value[0] == value[1] == center:
            return None
        return tuple(value)

    @staticmethod
    def get_params(brightness, contrast, saturation, hue):
        """(order of the 4 adjustments, brightness, contrast, saturation, hue factors or None)."""
        fn_idx = ember.randperm(4)
        b = None if brightness is None else _uniform(brightness[0], brightness[1])
        c = None if contrast is None else _uniform(contrast[0], contrast[1])
        s = None if saturation is None else _uniform(saturation[0], saturation[1])
        h = None if hue is None else _uniform(hue[0], hue[1])
        return fn_idx, b, c, s, h

    def forward(self, img):
        fn_idx, b, c, s, h = self.get_params(self.brightness, self.contrast, self.saturation, self.hue)
        for fn_id in fn_idx.tolist():
            if fn_id == 0 and b is not None:
                img = F.adjust_brightness(img, b)
            elif fn_id == 1 and c is not None:
                img = F.adjust_contrast(img, c)
            elif fn_id == 2 and s is not None:
                img = F.adjust_saturation(img, s)
            elif fn_id == 3 and h is not None:
                img = F.adjust_hue(img, h)
        return img

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(brightness={self.brightness}, contrast={self.contrast}, "
                f"saturation={self.saturation}, hue={self.hue})")


class Grayscale(Module):
    """Convert to greyscale with 1 or 3 output channels."""

    def __init__(self, num_output_channels: int = 1):
        super().__init__()
        self.num_output_channels = num_output_channels

    def forward(self, img):
        return F.rgb_to_grayscale(img, num_output_channels=self.num_output_channels)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(num_output_channels={self.num_output_channels})"


class RandomGrayscale(Module):
    """Convert to greyscale (keeping the channel count) with probability ``p``."""

    def __init__(self, p: float = 0.1):
        super().__init__()
        self.p = p

    def forward(self, img):
        num_output_channels, _, _ = F.get_dimensions(img)
        if _rand() < self.p:
            return F.rgb_to_grayscale(img, num_output_channels=num_output_channels)
        return img

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(p={self.p})"


class _RandomOp(Module):
    """Apply the function ``_fn(img, *args)`` with probability ``p``; ``_args`` names the attributes that
    hold the function's arguments (and are shown by ``repr``)."""

    _fn = None
    _args: tuple = ()

    def __init__(self, p: float = 0.5):
        super().__init__()
        self.p = p

    def forward(self, img):
        if _rand() < self.p:
            return type(self)._fn(img, *(getattr(self, name) for name in self._args))
        return img

    def __repr__(self) -> str:
        args = "".join(f"{name}={getattr(self, name)}, " for name in self._args)
        return f"{self.__class__.__name__}({args}p={self.p})"


class RandomInvert(_RandomOp):
    """Invert the colours with probability ``p``."""

    _fn = staticmethod(F.invert)


class RandomPosterize(_RandomOp):
    """Posterize to ``bits`` bits per channel with probability ``p``."""

    _fn, _args = staticmethod(F.posterize), ("bits",)

    def __init__(self, bits: int, p: float = 0.5):
        super().__init__(p)
        self.bits = bits


class RandomSolarize(_RandomOp):
    """Solarize above ``threshold`` with probability ``p``."""

    _fn, _args = staticmethod(F.solarize), ("threshold",)

    def __init__(self, threshold: float, p: float = 0.5):
        super().__init__(p)
        self.threshold = threshold


class RandomAdjustSharpness(_RandomOp):
    """Adjust the sharpness by ``sharpness_factor`` with probability ``p``."""

    _fn, _args = staticmethod(F.adjust_sharpness), ("sharpness_factor",)

    def __init__(self, sharpness_factor: float, p: float = 0.5):
        super().__init__(p)
        self.sharpness_factor = sharpness_factor


class RandomAutocontrast(_RandomOp):
    """Autocontrast with probability ``p``."""

    _fn = staticmethod(F.autocontrast)


class RandomEqualize(_RandomOp):
    """Equalize the histogram with probability ``p``."""

    _fn = staticmethod(F.equalize)
