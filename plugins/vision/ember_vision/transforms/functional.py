"""Functional image transforms (``torchvision.transforms.functional``) for PIL images and Ember tensors.

Every function accepts a PIL image (handled with Pillow's own operations) or an Ember tensor of
shape (..., C, H, W) (handled with vectorised array code on the tensor's device), and returns the
same kind of image::

    >>> import ember_vision.transforms.functional as F
    >>> F.resize(ember.rand(3, 64, 48), [32, 24]).shape
    ember.Size([3, 32, 24])
"""
from __future__ import annotations

import math
import numbers
import sys
import warnings
from enum import Enum
from typing import Any

import numpy as np
from PIL import Image

import ember
from ember import Tensor

from . import _functional_pil as F_pil
from . import _functional_tensor as F_t

__all__ = [
    "InterpolationMode", "get_dimensions", "get_image_size", "get_image_num_channels", "to_tensor", "pil_to_tensor",
    "convert_image_dtype", "to_dtype", "to_pil_image", "normalize", "resize", "pad", "crop", "center_crop",
    "resized_crop", "hflip", "vflip", "perspective", "five_crop", "ten_crop", "adjust_brightness",
    "adjust_contrast", "adjust_saturation", "adjust_hue", "adjust_gamma", "adjust_sharpness", "rotate", "affine",
    "to_grayscale", "rgb_to_grayscale", "erase", "gaussian_blur", "invert", "posterize", "solarize",
    "autocontrast", "equalize",
]


class InterpolationMode(Enum):
    """Interpolation modes: ``nearest``, ``nearest-exact``, ``bilinear``, ``bicubic`` (tensors and PIL),
    ``box``, ``hamming``, ``lanczos`` (PIL only)."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    # for PIL compatibility
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


_INT_TO_MODE = {0: InterpolationMode.NEAREST, 2: InterpolationMode.BILINEAR, 3: InterpolationMode.BICUBIC,
                4: InterpolationMode.BOX, 5: InterpolationMode.HAMMING, 1: InterpolationMode.LANCZOS}

pil_modes_mapping = {
    InterpolationMode.NEAREST: 0,
    InterpolationMode.BILINEAR: 2,
    InterpolationMode.BICUBIC: 3,
    InterpolationMode.NEAREST_EXACT: 0,
    InterpolationMode.BOX: 4,
    InterpolationMode.HAMMING: 5,
    InterpolationMode.LANCZOS: 1,
}


def _interpolation_modes_from_int(i: int) -> InterpolationMode:
    return _INT_TO_MODE[i]


def _check_interpolation(interpolation) -> InterpolationMode:
    """An InterpolationMode from the enum or a Pillow integer constant."""
    if isinstance(interpolation, int):
        return _interpolation_modes_from_int(interpolation)
    if not isinstance(interpolation, InterpolationMode):
        raise TypeError("Argument interpolation should be a InterpolationMode or a corresponding Pillow integer "
                        "constant")
    return interpolation


_is_pil_image = F_pil._is_pil_image


def _is_tensor(img: Any) -> bool:
    return isinstance(img, Tensor)


# ---------------------------------------------------------------------------------------
# Metadata
# ---------------------------------------------------------------------------------------


def get_dimensions(img) -> list[int]:
    """The dimensions of an image as ``[channels, height, width]``."""
    return F_t.get_dimensions(img) if _is_tensor(img) else F_pil.get_dimensions(img)


def get_image_size(img) -> list[int]:
    """The size of an image as ``[width, height]``."""
    return F_t.get_image_size(img) if _is_tensor(img) else F_pil.get_image_size(img)


def get_image_num_channels(img) -> int:
    """The number of channels of an image."""
    return F_t.get_image_num_channels(img) if _is_tensor(img) else F_pil.get_image_num_channels(img)


# ---------------------------------------------------------------------------------------
# Conversions
# ---------------------------------------------------------------------------------------


def _from_numpy(arr: np.ndarray) -> Tensor:
    """A CPU tensor holding ``arr`` (unsigned 16/32-bit data, which Ember lacks, widened to signed)."""
    if arr.dtype == np.uint16:
        arr = arr.astype(np.int32)
    elif arr.dtype == np.uint32:
        arr = arr.astype(np.int64)
    return ember.from_numpy(np.ascontiguousarray(arr))


def to_tensor(pic) -> Tensor:
    """A PIL image or (H, W[, C]) ndarray as a (C, H, W) tensor; uint8 data is scaled to [0, 1] floats.

    >>> to_tensor(Image.new("RGB", (4, 2))).shape
    ember.Size([3, 2, 4])
    """
    if not (_is_pil_image(pic) or isinstance(pic, np.ndarray)):
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    if isinstance(pic, np.ndarray) and pic.ndim not in (2, 3):
        raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
    float_dtype = ember.get_default_dtype().np
    if isinstance(pic, np.ndarray):
        arr = pic[:, :, None] if pic.ndim == 2 else pic
        arr = np.ascontiguousarray(arr.transpose(2, 0, 1))
    else:
        mode_to_nptype = {"I": np.int32, "I;16" if sys.byteorder == "little" else "I;16B": np.int16, "F": np.float32}
        arr = np.array(pic, mode_to_nptype.get(pic.mode, np.uint8), copy=True)
        if pic.mode == "1":
            arr = 255 * arr
        arr = arr.reshape(pic.size[1], pic.size[0], F_pil.get_image_num_channels(pic))
        arr = np.ascontiguousarray(arr.transpose(2, 0, 1))
    if arr.dtype == np.uint8:
        arr = arr.astype(float_dtype) / float_dtype.type(255)
    return _from_numpy(arr)


def pil_to_tensor(pic) -> Tensor:
    """A PIL image as a (C, H, W) tensor of the same type (no scaling).

    >>> pil_to_tensor(Image.new("L", (4, 2))).dtype
    ember.uint8
    """
    if not _is_pil_image(pic):
        raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
    arr = np.array(pic, copy=True)
    arr = arr.reshape(pic.size[1], pic.size[0], F_pil.get_image_num_channels(pic))
    return _from_numpy(arr.transpose(2, 0, 1))


def convert_image_dtype(image: Tensor, dtype=ember.float32) -> Tensor:
    """Convert a tensor image to ``dtype``, rescaling values (uint8 255 <-> float 1.0).

    >>> convert_image_dtype(ember.tensor([[[255]]], dtype=ember.uint8), ember.float32)
    tensor([[[1.]]])
    """
    if not isinstance(image, Tensor):
        raise TypeError("Input img should be Tensor Image")
    return F_t.convert_image_dtype(image, dtype)


def to_dtype(inpt, dtype=ember.float32, scale: bool = False):
    """Convert a tensor image to ``dtype``; with ``scale=True`` values are rescaled to the dtype's range
    (as :func:`convert_image_dtype`). PIL images pass through unchanged (torchvision.transforms.v2)."""
    if not isinstance(inpt, Tensor):
        return inpt
    if scale:
        return F_t.convert_image_dtype(inpt, dtype)
    return inpt.to(dtype)


def to_pil_image(pic, mode: str | None = None):
    """A (C, H, W) tensor or (H, W, C) ndarray as a PIL image (float data is scaled by 255 unless mode="F").

    >>> to_pil_image(ember.zeros(3, 2, 4)).size
    (4, 2)
    """
    if isinstance(pic, Tensor):
        if pic.ndim == 3:
            pic = pic.permute((1, 2, 0))
        pic = pic.numpy(force=True)
    elif not isinstance(pic, np.ndarray):
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
    if pic.ndim == 2:
        pic = np.expand_dims(pic, 2)
    if pic.ndim != 3:
        raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
    if pic.shape[-1] > 4:
        raise ValueError(f"pic should not have > 4 channels. Got {pic.shape[-1]} channels.")
    npimg = pic
    if np.issubdtype(npimg.dtype, np.floating) and mode != "F":
        npimg = (npimg * 255).astype(np.uint8)

    if npimg.shape[2] == 1:
        npimg = npimg[:, :, 0]
        expected = {np.dtype(np.uint8): "L", np.dtype(np.int16): "I;16" if sys.byteorder == "little" else "I;16B",
                    np.dtype(np.int32): "I", np.dtype(np.float32): "F"}.get(npimg.dtype)
        if mode is not None and mode != expected:
            raise ValueError(f"Incorrect mode ({mode}) supplied for input type {npimg.dtype}. Should be {expected}")
        mode = expected
    elif npimg.shape[2] == 2:
        permitted = ["LA"]
        if mode is not None and mode not in permitted:
            raise ValueError(f"Only modes {permitted} are supported for 2D inputs")
        if mode is None and npimg.dtype == np.uint8:
            mode = "LA"
    elif npimg.shape[2] == 4:
        permitted = ["RGBA", "CMYK", "RGBX"]
        if mode is not None and mode not in permitted:
            raise ValueError(f"Only modes {permitted} are supported for 4D inputs")
        if mode is None and npimg.dtype == np.uint8:
            mode = "RGBA"
    else:
        permitted = ["RGB", "YCbCr", "HSV"]
        if mode is not None and mode not in permitted:
            raise ValueError(f"Only modes {permitted} are supported for 3D inputs")
        if mode is None and npimg.dtype == np.uint8:
            mode = "RGB"
    if mode is None:
        raise TypeError(f"Input type {npimg.dtype} is not supported")
    npimg = np.ascontiguousarray(npimg)
    if npimg.ndim == 3 and npimg.dtype != np.uint8:
        raise TypeError(f"Input type {npimg.dtype} is not supported for mode {mode}")
    if mode in ("I;16", "I;16B"):
        return Image.frombytes(mode, (npimg.shape[1], npimg.shape[0]), npimg.astype(np.uint16).tobytes())
    return Image.frombytes(mode, (npimg.shape[1], npimg.shape[0]), npimg.tobytes())


def normalize(tensor: Tensor, mean, std, inplace: bool = False) -> Tensor:
    """Normalize a float (..., C, H, W) tensor per channel: ``(x - mean) / std``.

    >>> normalize(ember.ones(3, 2, 2), [0.5] * 3, [0.5] * 3)[0, 0, 0]
    tensor(1.)
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
    return F_t.normalize(tensor, mean=mean, std=std, inplace=inplace)


# ---------------------------------------------------------------------------------------
# Geometry
# ---------------------------------------------------------------------------------------


def _compute_resized_output_size(image_size, size, max_size=None) -> list[int]:
    h, w = image_size
    short, long = (w, h) if w <= h else (h, w)
    if len(size) == 1:  # the smaller edge is matched to size
        requested_new_short = size[0]
        new_short, new_long = requested_new_short, int(requested_new_short * long / short)
        if max_size is not None:
            if max_size <= requested_new_short:
                raise ValueError(f"max_size = {max_size} must be strictly greater than the requested "
                                 f"size for the smaller edge size = {size}")
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
        new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    else:
        new_w, new_h = size[1], size[0]
    return [new_h, new_w]


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size: int | None = None,
           antialias: bool | None = True):
    """Resize to ``size`` ((h, w), or an int to match the smaller edge keeping the aspect ratio).

    Tensors support NEAREST, NEAREST_EXACT, BILINEAR and BICUBIC; ``antialias`` (default True) filters
    when downscaling with BILINEAR/BICUBIC as PIL does. PIL images always antialias.

    >>> resize(ember.rand(3, 40, 60), 20).shape
    ember.Size([3, 20, 30])
    """
    interpolation = _check_interpolation(interpolation)
    if isinstance(size, (list, tuple)):
        if len(size) not in (1, 2):
            raise ValueError(f"Size must be an int or a 1 or 2 element tuple/list, not a {len(size)} element "
                             "tuple/list")
        if max_size is not None and len(size) != 1:
            raise ValueError("max_size should only be passed if size specifies the length of the smaller edge, "
                             "i.e. size should be an int or a sequence of length 1 in torchscript mode.")
    elif not isinstance(size, numbers.Integral):
        raise TypeError(f"Size should be int or sequence. Got {type(size)}")
    _, image_height, image_width = get_dimensions(img)
    if isinstance(size, numbers.Integral):
        size = [int(size)]
    output_size = _compute_resized_output_size((image_height, image_width), list(size), max_size)
    if [image_height, image_width] == output_size:
        return img
    if not _is_tensor(img):
        if antialias is False:
            warnings.warn("Anti-alias option is always applied for PIL Image input. Argument antialias is ignored.")
        return F_pil.resize(img, size=output_size, interpolation=pil_modes_mapping[interpolation])
    return F_t.resize(img, size=output_size, interpolation=interpolation.value, antialias=antialias)


def pad(img, padding, fill=0, padding_mode: str = "constant"):
    """Pad all sides: ``padding`` is an int, (left/right, top/bottom) or (left, top, right, bottom);
    ``padding_mode`` is "constant" (with ``fill``), "edge", "reflect" or "symmetric"."""
    if not _is_tensor(img):
        return F_pil.pad(img, padding=padding, fill=fill, padding_mode=padding_mode)
    return F_t.pad(img, padding=padding, fill=fill, padding_mode=padding_mode)


def crop(img, top: int, left: int, height: int, width: int):
    """Crop the box at (top, left) of size (height, width); outside the image is zero."""
    if not _is_tensor(img):
        return F_pil.crop(img, top, left, height, width)
    return F_t.crop(img, top, left, height, width)


def _pair(size) -> tuple:
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if isinstance(size, (tuple, list)) and len(size) == 1:
        return size[0], size[0]
    return tuple(size)


def center_crop(img, output_size):
    """Crop the centre ``output_size`` ((h, w) or int); zero-padded when larger than the image.

    >>> center_crop(ember.rand(3, 10, 10), 4).shape
    ember.Size([3, 4, 4])
    """
    output_size = _pair(output_size)
    _, image_height, image_width = get_dimensions(img)
    crop_height, crop_width = output_size
    if crop_width > image_width or crop_height > image_height:
        padding_ltrb = [
            (crop_width - image_width) // 2 if crop_width > image_width else 0,
            (crop_height - image_height) // 2 if crop_height > image_height else 0,
            (crop_width - image_width + 1) // 2 if crop_width > image_width else 0,
            (crop_height - image_height + 1) // 2 if crop_height > image_height else 0,
        ]
        img = pad(img, padding_ltrb, fill=0)
        _, image_height, image_width = get_dimensions(img)
        if crop_width == image_width and crop_height == image_height:
            return img
    crop_top = int(round((image_height - crop_height) / 2.0))
    crop_left = int(round((image_width - crop_width) / 2.0))
    return crop(img, crop_top, crop_left, crop_height, crop_width)


def resized_crop(img, top: int, left: int, height: int, width: int, size,
                 interpolation=InterpolationMode.BILINEAR, antialias: bool | None = True):
    """Crop the box, then resize it to ``size`` (used by RandomResizedCrop)."""
    img = crop(img, top, left, height, width)
    return resize(img, size, interpolation, antialias=antialias)


def hflip(img):
    """Flip horizontally (mirror left-right)."""
    return F_t.hflip(img) if _is_tensor(img) else F_pil.hflip(img)


def vflip(img):
    """Flip vertically (upside down)."""
    return F_t.vflip(img) if _is_tensor(img) else F_pil.vflip(img)


def five_crop(img, size):
    """The four corner crops and the centre crop: ``(tl, tr, bl, br, center)``."""
    size = _pair(size)
    if len(size) != 2:
        raise ValueError("Please provide only two dimensions (h, w) for size.")
    _, image_height, image_width = get_dimensions(img)
    crop_height, crop_width = size
    if crop_width > image_width or crop_height > image_height:
        raise ValueError(f"Requested crop size {size} is bigger than input size {(image_height, image_width)}")
    tl = crop(img, 0, 0, crop_height, crop_width)
    tr = crop(img, 0, image_width - crop_width, crop_height, crop_width)
    bl = crop(img, image_height - crop_height, 0, crop_height, crop_width)
    br = crop(img, image_height - crop_height, image_width - crop_width, crop_height, crop_width)
    center = center_crop(img, [crop_height, crop_width])
    return tl, tr, bl, br, center


def ten_crop(img, size, vertical_flip: bool = False):
    """:func:`five_crop` of the image and of its flipped version (horizontal unless ``vertical_flip``)."""
    size = _pair(size)
    if len(size) != 2:
        raise ValueError("Please provide only two dimensions (h, w) for size.")
    first_five = five_crop(img, size)
    img = vflip(img) if vertical_flip else hflip(img)
    return first_five + five_crop(img, size)


def _get_perspective_coeffs(startpoints, endpoints) -> list[float]:
    """Coefficients (a..h) mapping each output pixel (x, y) to the input
    ((ax + by + c) / (gx + hy + 1), (dx + ey + f) / (gx + hy + 1))."""
    if len(startpoints) != 4 or len(endpoints) != 4:
        raise ValueError(f"Please provide exactly four corners, got {len(startpoints)} startpoints and "
                         f"{len(endpoints)} endpoints.")
    a = np.zeros((8, 8), dtype=np.float64)
    for i, (p1, p2) in enumerate(zip(endpoints, startpoints)):
        a[2 * i] = [p1[0], p1[1], 1, 0, 0, 0, -p2[0] * p1[0], -p2[0] * p1[1]]
        a[2 * i + 1] = [0, 0, 0, p1[0], p1[1], 1, -p2[1] * p1[0], -p2[1] * p1[1]]
    b = np.asarray(startpoints, dtype=np.float64).reshape(8)
    res = np.linalg.lstsq(a, b, rcond=None)[0].astype(np.float32)
    return res.tolist()


def perspective(img, startpoints, endpoints, interpolation=InterpolationMode.BILINEAR, fill=None):
    """Warp so that the four ``startpoints`` corners land on ``endpoints``."""
    coeffs = _get_perspective_coeffs(startpoints, endpoints)
    interpolation = _check_interpolation(interpolation)
    if not _is_tensor(img):
        return F_pil.perspective(img, coeffs, interpolation=pil_modes_mapping[interpolation], fill=fill)
    return F_t.perspective(img, coeffs, interpolation=interpolation.value, fill=fill)


def _get_inverse_affine_matrix(center, angle: float, translate, scale: float, shear, inverted: bool = True):
    """The (inverse) affine matrix T * C * R * S * Sh * C^-1 as 6 numbers (PIL's convention).

    R rotates by ``angle`` degrees, Sh = SHy(sy) * SHx(sx) shears, S scales, C moves the centre to the
    origin and T translates. Pillow wants the inverse map (output -> input), which is the default.
    """
    rot = math.radians(angle)
    sx, sy = math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    # rotation with shear, without scale
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    if inverted:
        # det([[a, b], [c, d]]) == 1, so the inverse is the adjugate
        matrix = [x / scale for x in (d, -b, 0.0, -c, a, 0.0)]
        matrix[2] += matrix[0] * (-cx - tx) + matrix[1] * (-cy - ty)
        matrix[5] += matrix[3] * (-cx - tx) + matrix[4] * (-cy - ty)
        matrix[2] += cx
        matrix[5] += cy
    else:
        matrix = [x * scale for x in (a, b, 0.0, c, d, 0.0)]
        matrix[2] += matrix[0] * (-cx) + matrix[1] * (-cy)
        matrix[5] += matrix[3] * (-cx) + matrix[4] * (-cy)
        matrix[2] += cx + tx
        matrix[5] += cy + ty
    return matrix


def rotate(img, angle: float, interpolation=InterpolationMode.NEAREST, expand: bool = False, center=None,
           fill=None):
    """Rotate by ``angle`` degrees counter-clockwise about ``center`` (default: the image centre).

    >>> rotate(ember.rand(1, 8, 8), 90.0).shape
    ember.Size([1, 8, 8])
    """
    interpolation = _check_interpolation(interpolation)
    if not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError("Argument center should be a sequence")
    if not _is_tensor(img):
        return F_pil.rotate(img, angle=angle, interpolation=pil_modes_mapping[interpolation], expand=expand,
                            center=center, fill=fill)
    center_f = [0.0, 0.0]
    if center is not None:
        _, height, width = get_dimensions(img)
        # pixel coordinates relative to the image centre
        center_f = [1.0 * (c - s * 0.5) for c, s in zip(center, [width, height])]
    # rotate() turns counter-clockwise while affine() turns clockwise
    matrix = _get_inverse_affine_matrix(center_f, -angle, [0.0, 0.0], 1.0, [0.0, 0.0])
    return F_t.rotate(img, matrix=matrix, interpolation=interpolation.value, expand=expand, fill=fill)


def affine(img, angle: float, translate, scale: float, shear, interpolation=InterpolationMode.NEAREST, fill=None,
           center=None):
    """Affine transformation keeping the centre fixed: rotate ``angle`` degrees clockwise, ``translate``
    (dx, dy) pixels, ``scale``, ``shear`` (degrees, x or (x, y))."""
    interpolation = _check_interpolation(interpolation)
    if not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    if not isinstance(translate, (list, tuple)):
        raise TypeError("Argument translate should be a sequence")
    if len(translate) != 2:
        raise ValueError("Argument translate should be a sequence of length 2")
    if scale <= 0.0:
        raise ValueError("Argument scale should be positive")
    if not isinstance(shear, (numbers.Number, list, tuple)):
        raise TypeError("Shear should be either a single value or a sequence of two values")
    angle = float(angle)
    translate = list(translate)
    if isinstance(shear, numbers.Number):
        shear = [shear, 0.0]
    shear = list(shear)
    if len(shear) == 1:
        shear = [shear[0], shear[0]]
    if len(shear) != 2:
        raise ValueError(f"Shear should be a sequence containing two values. Got {shear}")
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError("Argument center should be a sequence")
    _, height, width = get_dimensions(img)
    if not _is_tensor(img):
        # the centre without the half-pixel offset, so that 90-degree turns match the tensor path
        if center is None:
            center = [width * 0.5, height * 0.5]
        matrix = _get_inverse_affine_matrix(center, angle, translate, scale, shear)
        return F_pil.affine(img, matrix=matrix, interpolation=pil_modes_mapping[interpolation], fill=fill)
    center_f = [0.0, 0.0]
    if center is not None:
        center_f = [1.0 * (c - s * 0.5) for c, s in zip(center, [width, height])]
    translate_f = [1.0 * t for t in translate]
    matrix = _get_inverse_affine_matrix(center_f, angle, translate_f, scale, shear)
    return F_t.affine(img, matrix=matrix, interpolation=interpolation.value, fill=fill)


# ---------------------------------------------------------------------------------------
# Colour
# ---------------------------------------------------------------------------------------


def adjust_brightness(img, brightness_factor: float):
    """Multiply intensities by ``brightness_factor`` (0 gives black, 1 the original)."""
    if not _is_tensor(img):
        return F_pil.adjust_brightness(img, brightness_factor)
    return F_t.adjust_brightness(img, brightness_factor)


def adjust_contrast(img, contrast_factor: float):
    """Blend with the mean grey level (0 gives solid grey, 1 the original)."""
    if not _is_tensor(img):
        return F_pil.adjust_contrast(img, contrast_factor)
    return F_t.adjust_contrast(img, contrast_factor)


def adjust_saturation(img, saturation_factor: float):
    """Blend with the greyscale image (0 gives black and white, 1 the original)."""
    if not _is_tensor(img):
        return F_pil.adjust_saturation(img, saturation_factor)
    return F_t.adjust_saturation(img, saturation_factor)


def adjust_hue(img, hue_factor: float):
    """Shift the hue (HSV) by ``hue_factor`` in [-0.5, 0.5] of a full turn."""
    if not _is_tensor(img):
        return F_pil.adjust_hue(img, hue_factor)
    return F_t.adjust_hue(img, hue_factor)


def adjust_gamma(img, gamma: float, gain: float = 1):
    """Gamma correction: ``out = 255 * gain * (in / 255) ** gamma``."""
    if not _is_tensor(img):
        return F_pil.adjust_gamma(img, gamma, gain)
    return F_t.adjust_gamma(img, gamma, gain)


def adjust_sharpness(img, sharpness_factor: float):
    """Blend with a smoothed image (0 gives blurred, 1 the original, 2 sharper)."""
    if not _is_tensor(img):
        return F_pil.adjust_sharpness(img, sharpness_factor)
    return F_t.adjust_sharpness(img, sharpness_factor)


def to_grayscale(img, num_output_channels: int = 1):
    """A PIL image of any mode as greyscale with 1 or 3 channels."""
    if isinstance(img, Image.Image):
        return F_pil.to_grayscale(img, num_output_channels)
    raise TypeError("Input should be PIL Image")


def rgb_to_grayscale(img, num_output_channels: int = 1):
    """An RGB image as greyscale (tensors: 0.2989 R + 0.587 G + 0.114 B, as torchvision) with 1 or 3 channels."""
    if not _is_tensor(img):
        return F_pil.to_grayscale(img, num_output_channels)
    return F_t.rgb_to_grayscale(img, num_output_channels)


def erase(img: Tensor, i: int, j: int, h: int, w: int, v, inplace: bool = False) -> Tensor:
    """Set the box at (i, j) of size (h, w) to ``v`` (tensor images only)."""
    if not isinstance(img, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(img)}")
    return F_t.erase(img, i, j, h, w, v, inplace=inplace)


def gaussian_blur(img, kernel_size, sigma=None):
    """Blur with a Gaussian kernel (``kernel_size`` odd ints, ``sigma`` default 0.3*((k-1)*0.5-1)+0.8),
    reflect-padding the borders. PIL images are blurred through the tensor path, as torchvision does.

    >>> gaussian_blur(ember.rand(3, 9, 9), [3, 3], [1.0, 1.0]).shape
    ember.Size([3, 9, 9])
    """
    if not isinstance(kernel_size, (int, list, tuple)):
        raise TypeError(f"kernel_size should be int or a sequence of integers. Got {type(kernel_size)}")
    if isinstance(kernel_size, int):
        kernel_size = [kernel_size, kernel_size]
    if len(kernel_size) != 2:
        raise ValueError(f"If kernel_size is a sequence its length should be 2. Got {len(kernel_size)}")
    for ksize in kernel_size:
        if ksize % 2 == 0 or ksize < 0:
            raise ValueError(f"kernel_size should have odd and positive integers. Got {kernel_size}")
    if sigma is None:
        sigma = [ksize * 0.15 + 0.35 for ksize in kernel_size]
    if not isinstance(sigma, (int, float, list, tuple)):
        raise TypeError(f"sigma should be either float or sequence of floats. Got {type(sigma)}")
    if isinstance(sigma, (int, float)):
        sigma = [float(sigma), float(sigma)]
    if len(sigma) == 1:
        sigma = [sigma[0], sigma[0]]
    if len(sigma) != 2:
        raise ValueError(f"If sigma is a sequence, its length should be 2. Got {len(sigma)}")
    for s in sigma:
        if s <= 0.0:
            raise ValueError(f"sigma should have positive values. Got {sigma}")
    if _is_tensor(img):
        return F_t.gaussian_blur(img, list(kernel_size), list(sigma))
    if not _is_pil_image(img):
        raise TypeError(f"img should be PIL Image or Tensor. Got {type(img)}")
    out = F_t.gaussian_blur(pil_to_tensor(img), list(kernel_size), list(sigma))
    return to_pil_image(out, mode=img.mode)


def invert(img):
    """Invert the colours (``max - x``)."""
    return F_t.invert(img) if _is_tensor(img) else F_pil.invert(img)


def posterize(img, bits: int):
    """Keep the top ``bits`` (0-8) bits of each uint8 channel value."""
    if not (0 <= bits <= 8):
        raise ValueError(f"The number if bits should be between 0 and 8. Got {bits}")
    return F_t.posterize(img, bits) if _is_tensor(img) else F_pil.posterize(img, bits)


def solarize(img, threshold: float):
    """Invert every value at or above ``threshold``."""
    return F_t.solarize(img, threshold) if _is_tensor(img) else F_pil.solarize(img, threshold)


def autocontrast(img):
    """Stretch each channel so its darkest value becomes black and its lightest white."""
    return F_t.autocontrast(img) if _is_tensor(img) else F_pil.autocontrast(img)


def equalize(img):
    """Equalize the histogram of each channel (uint8 tensors)."""
    return F_t.equalize(img) if _is_tensor(img) else F_pil.equalize(img)
