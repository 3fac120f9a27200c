"""Image operations on PIL images, through Pillow's own operations (torchvision's ``_functional_pil``)."""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from PIL import Image, ImageEnhance, ImageOps


def _is_pil_image(img: Any) -> bool:
    return isinstance(img, Image.Image)


def _check(img) -> None:
    if not _is_pil_image(img):
        raise TypeError(f"img should be PIL Image. Got {type(img)}")


def get_dimensions(img) -> list[int]:
    _check(img)
    channels = len(img.getbands())
    width, height = img.size
    return [channels, height, width]


def get_image_size(img) -> list[int]:
    _check(img)
    return list(img.size)


def get_image_num_channels(img) -> int:
    _check(img)
    return len(img.getbands())


def hflip(img):
    _check(img)
    return img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)


def vflip(img):
    _check(img)
    return img.transpose(Image.Transpose.FLIP_TOP_BOTTOM)


def _enhance(enhancer, img, factor):
    _check(img)
    return enhancer(img).enhance(factor)


def adjust_brightness(img, brightness_factor: float):
    return _enhance(ImageEnhance.Brightness, img, brightness_factor)


def adjust_contrast(img, contrast_factor: float):
    return _enhance(ImageEnhance.Contrast, img, contrast_factor)


def adjust_saturation(img, saturation_factor: float):
    return _enhance(ImageEnhance.Color, img, saturation_factor)


def adjust_sharpness(img, sharpness_factor: float):
    return _enhance(ImageEnhance.Sharpness, img, sharpness_factor)


def adjust_hue(img, hue_factor: float):
    if not (-0.5 <= hue_factor <= 0.5):
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    _check(img)
    input_mode = img.mode
    if input_mode in {"L", "1", "I", "F"}:
        return img
    h, s, v = img.convert("HSV").split()
    np_h = np.array(h, dtype=np.uint8)
    # uint8 arithmetic wraps around, which rotates the hue
    np_h += np.uint8(int(hue_factor * 255) % 256)
    h = Image.fromarray(np_h, "L")
    return Image.merge("HSV", (h, s, v)).convert(input_mode)


def adjust_gamma(img, gamma: float, gain: float = 1):
    _check(img)
    if gamma < 0:
        raise ValueError("Gamma should be a non-negative real number")
    input_mode = img.mode
    img = img.convert("RGB")
    gamma_map = [min(int((255 + 1 - 1e-3) * gain * pow(ele / 255.0, gamma)), 255) for ele in range(256)] * 3
    return img.point(gamma_map).convert(input_mode)


def _parse_fill(fill, img, name: str = "fillcolor") -> dict:
    """Pillow's fill argument for ``img``: one value per band (ints unless the image is float)."""
    num_channels = get_image_num_channels(img)
    if fill is None:
        fill = 0
    if isinstance(fill, (int, float)) and num_channels > 1:
        fill = tuple([fill] * num_channels)
    if isinstance(fill, (list, tuple)):
        if len(fill) == 1:
            fill = fill * num_channels
        elif len(fill) != num_channels:
            raise ValueError("The number of elements in 'fill' does not match the number of channels of the image "
                             f"({len(fill)} != {num_channels})")
        fill = tuple(fill)
    if img.mode != "F":
        fill = tuple(int(x) for x in fill) if isinstance(fill, tuple) else int(fill)
    return {name: fill}


def pad(img, padding, fill=0, padding_mode: str = "constant"):
    _check(img)
    if not isinstance(padding, (numbers.Number, tuple, list)):
        raise TypeError("Got inappropriate padding arg")
    if fill is not None and not isinstance(fill, (numbers.Number, tuple, list)):
        raise TypeError("Got inappropriate fill arg")
    if not isinstance(padding_mode, str):
        raise TypeError("Got inappropriate padding_mode arg")
    if isinstance(padding, list):
        padding = tuple(padding)
    if isinstance(padding, tuple) and len(padding) not in (1, 2, 4):
        raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple")
    if isinstance(padding, tuple) and len(padding) == 1:
        padding = padding[0]
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")

    if padding_mode == "constant":
        opts = _parse_fill(fill, img, name="fill")
        if img.mode == "P":
            palette = img.getpalette()
            image = ImageOps.expand(img, border=padding, **opts)
            image.putpalette(palette)
            return image
        return ImageOps.expand(img, border=padding, **opts)

    if isinstance(padding, numbers.Number):
        left = right = top = bottom = int(padding)
    elif len(padding) == 2:
        left = right = padding[0]
        top = bottom = padding[1]
    else:
        left, top, right, bottom = padding
    p = [left, top, right, bottom]
    cropping = -np.minimum(p, 0)
    if cropping.any():
        cl, ct, cr, cb = (int(c) for c in cropping)
        img = img.crop((cl, ct, img.width - cr, img.height - cb))
    left, top, right, bottom = (int(v) for v in np.maximum(p, 0))
    palette = img.getpalette() if img.mode == "P" else None
    arr = np.asarray(img)
    widths = ((top, bottom), (left, right)) + (((0, 0),) if arr.ndim == 3 else ())
    out = Image.fromarray(np.pad(arr, widths, padding_mode))
    if palette is not None:  # a palette image comes back as "L" from its indices
        out.putpalette(palette)
    return out


def crop(img, top: int, left: int, height: int, width: int):
    _check(img)
    return img.crop((left, top, left + width, top + height))


def resize(img, size: list[int], interpolation: int = Image.Resampling.BILINEAR):
    _check(img)
    if not (isinstance(size, (list, tuple)) and len(size) == 2):
        raise TypeError(f"Got inappropriate size arg: {size}")
    return img.resize(tuple(size[::-1]), Image.Resampling(interpolation))


def affine(img, matrix, interpolation: int = Image.Resampling.NEAREST, fill=None):
    _check(img)
    opts = _parse_fill(fill, img)
    return img.transform(img.size, Image.Transform.AFFINE, matrix, Image.Resampling(interpolation), **opts)


def rotate(img, angle: float, interpolation: int = Image.Resampling.NEAREST, expand: bool = False, center=None,
           fill=None):
    _check(img)
    opts = _parse_fill(fill, img)
    return img.rotate(angle, Image.Resampling(interpolation), expand, center, **opts)


def perspective(img, perspective_coeffs, interpolation: int = Image.Resampling.BICUBIC, fill=None):
    _check(img)
    opts = _parse_fill(fill, img)
    return img.transform(img.size, Image.Transform.PERSPECTIVE, perspective_coeffs,
                         Image.Resampling(interpolation), **opts)


def to_grayscale(img, num_output_channels: int):
    _check(img)
    if num_output_channels == 1:
        return img.convert("L")
    if num_output_channels == 3:
        g = np.array(img.convert("L"), dtype=np.uint8)
        return Image.fromarray(np.dstack([g, g, g]), "RGB")
    raise ValueError("num_output_channels should be either 1 or 3")


def invert(img):
    _check(img)
    return ImageOps.invert(img)


def posterize(img, bits: int):
    _check(img)
    return ImageOps.posterize(img, bits)


def solarize(img, threshold: float):
    _check(img)
    return ImageOps.solarize(img, threshold)


def autocontrast(img):
    _check(img)
    return ImageOps.autocontrast(img)


def equalize(img):
    _check(img)
    return ImageOps.equalize(img)
