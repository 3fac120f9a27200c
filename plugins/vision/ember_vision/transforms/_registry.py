"""Registration of ember-vision's transforms with Ember's plugin registry.

Each transform class is registered under its snake_case name (``RandomResizedCrop`` ->
``random_resized_crop``) with its functional form, when it has one, and ``modality="image"``.
"""
from __future__ import annotations

from ember.plugins import RegistrationTable

from . import autoaugment as _aa
from . import functional as F
from . import transforms as T

# class -> its function form (None where the transform has no single functional counterpart)
_FUNCTIONAL = {
    T.Compose: None, T.Lambda: None, T.RandomApply: None, T.RandomChoice: None, T.RandomOrder: None,
    T.ToTensor: F.to_tensor, T.PILToTensor: F.pil_to_tensor, T.ToPILImage: F.to_pil_image,
    T.ConvertImageDtype: F.convert_image_dtype, T.ToDtype: F.to_dtype, T.Normalize: F.normalize,
    T.Resize: F.resize, T.CenterCrop: F.center_crop, T.Pad: F.pad, T.RandomCrop: F.crop,
    T.RandomResizedCrop: F.resized_crop, T.FiveCrop: F.five_crop, T.TenCrop: F.ten_crop,
    T.RandomHorizontalFlip: F.hflip, T.RandomVerticalFlip: F.vflip, T.RandomPerspective: F.perspective,
    T.RandomRotation: F.rotate, T.RandomAffine: F.affine, T.LinearTransformation: None,
    T.ColorJitter: None, T.Grayscale: F.rgb_to_grayscale, T.RandomGrayscale: F.rgb_to_grayscale,
    T.GaussianBlur: F.gaussian_blur, T.RandomErasing: F.erase, T.RandomInvert: F.invert,
    T.RandomPosterize: F.posterize, T.RandomSolarize: F.solarize, T.RandomAdjustSharpness: F.adjust_sharpness,
    T.RandomAutocontrast: F.autocontrast, T.RandomEqualize: F.equalize,
    _aa.TrivialAugmentWide: None, _aa.RandAugment: None,
}


TRANSFORMS = RegistrationTable.from_classes("transforms", _FUNCTIONAL, modality="image")
"""Every transform class under its snake_case name, with its function form."""
