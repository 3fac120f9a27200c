"""Conversions between PIL images, NumPy arrays and tensors, and between tensor dtypes."""
from __future__ import annotations

from ember.nn import Module

from . import functional as F

__all__ = ["ToTensor", "PILToTensor", "ConvertImageDtype", "ToDtype", "ToPILImage"]


class ToTensor:
    """PIL image or (H, W, C) ndarray -> (C, H, W) tensor; uint8 data becomes floats in [0, 1]."""

    def __call__(self, pic):
        return F.to_tensor(pic)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}()"


class PILToTensor:
    """PIL image -> (C, H, W) tensor of the same type (uint8 stays uint8)."""

    def __call__(self, pic):
        return F.pil_to_tensor(pic)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}()"


class ConvertImageDtype(Module):
    """Convert a tensor image to ``dtype``, rescaling the values."""

    def __init__(self, dtype) -> None:
        super().__init__()
        self.dtype = dtype

    def forward(self, image):
        return F.convert_image_dtype(image, self.dtype)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(dtype={self.dtype})"


class ToDtype(Module):
    """Convert a tensor image to ``dtype``; ``scale=True`` rescales values to the dtype's range
    (torchvision.transforms.v2.ToDtype). Other inputs pass through."""

    def __init__(self, dtype, scale: bool = False) -> None:
        super().__init__()
        self.dtype = dtype
        self.scale = scale

    def forward(self, inpt):
        return F.to_dtype(inpt, self.dtype, scale=self.scale)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(dtype={self.dtype}, scale={self.scale})"


class ToPILImage:
    """(C, H, W) tensor or (H, W, C) ndarray -> PIL image (``mode`` inferred when None)."""

    def __init__(self, mode=None):
        self.mode = mode

    def __call__(self, pic):
        return F.to_pil_image(pic, self.mode)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(" + (f"mode={self.mode}" if self.mode is not None else "") + ")"
