"""Image operations on Ember tensors of shape (..., C, H, W) (torchvision's ``_functional_tensor``).

Every operation works on the tensor's device array (NumPy on the CPU, CuPy on CUDA) through the
device's array module ``xp`` and returns a new tensor on the same device; none records autograd
history. Geometric operations are vectorised: resizing is separable, each axis a weighted sum of
a few gathered taps (indices and weights built on the host, they are small); rotations, affine
and perspective warps sample an inverse-mapped coordinate grid with gathered bilinear or nearest
taps. Python loops run over kernel taps only, never over pixels or images.

Numerics follow torchvision: integer images are processed in float32 and rounded back where
torchvision rounds (resampling, blurring), truncated where it truncates (colour blends).
"""
from __future__ import annotations

import numbers
import warnings

import numpy as np

import ember
from ember import Tensor
from ember.plugins.arrays import array_module, from_array, to_array

# ---------------------------------------------------------------------------------------
# Adapters between Ember tensors and device arrays
# ---------------------------------------------------------------------------------------


def _unwrap(img: Tensor):
    """The tensor's device array and the array module that works on it."""
    return to_array(img), array_module(img)


def _wrap(arr, like: Tensor) -> Tensor:
    """A tensor on ``like``'s device holding ``arr`` (no copy)."""
    return from_array(arr, like.device)


def _to_device(host: np.ndarray, xp):
    return host if xp is np else xp.asarray(host)


def _is_float(dtype) -> bool:
    return np.dtype(dtype).kind == "f"


def _work_dtype(dtype):
    """The float dtype an image of ``dtype`` is processed in (its own if float, else float32)."""
    return np.dtype(dtype) if _is_float(dtype) and np.dtype(dtype).itemsize >= 4 else np.dtype(np.float32)


def _max_value(dtype) -> int:
    """The value of "white": 1 for float images, the dtype's maximum for integer ones."""
    dtype = np.dtype(dtype)
    if dtype.kind in "ui":
        return int(np.iinfo(dtype).max)
    return 1


def _cast_out(res, dtype):
    """Back to the image dtype, rounding first for integer images (as torchvision does)."""
    dtype = np.dtype(dtype)
    if res.dtype == dtype:
        return res
    if dtype.kind in "uib":
        res = res.round()
    return res.astype(dtype)


# ---------------------------------------------------------------------------------------
# Checks and metadata
# ---------------------------------------------------------------------------------------


def _assert_image_tensor(img: Tensor) -> None:
    if img.ndim < 2:
        raise TypeError("Tensor is not a torch image.")


def get_dimensions(img: Tensor) -> list[int]:
    _assert_image_tensor(img)
    channels = 1 if img.ndim == 2 else img.shape[-3]
    height, width = img.shape[-2:]
    return [channels, height, width]


def get_image_size(img: Tensor) -> list[int]:
    _assert_image_tensor(img)
    return [img.shape[-1], img.shape[-2]]


def get_image_num_channels(img: Tensor) -> int:
    _assert_image_tensor(img)
    return 1 if img.ndim == 2 else img.shape[-3]


def _assert_channels(img: Tensor, permitted: list[int]) -> None:
    c = get_dimensions(img)[0]
    if c not in permitted:
        raise TypeError(f"Input image tensor permitted channel values are {permitted}, but found {c}")


def _image_array(img: Tensor, channels: list[int] | None = None):
    """The device array and array module of a tensor image, checked (and its channel count, if given)."""
    _assert_image_tensor(img)
    if channels is not None:
        _assert_channels(img, channels)
    return _unwrap(img)


def _uint8_image(img: Tensor):
    """The device array and array module of a uint8 image tensor with 1 or 3 channels, checked."""
    _assert_image_tensor(img)
    _assert_min_3d(img)
    if img.dtype is not ember.uint8:
        raise TypeError(f"Only ember.uint8 image tensors are supported, but found {img.dtype}")
    _assert_channels(img, [1, 3])
    return _unwrap(img)


def _check_non_negative(value: float, name: str) -> None:
    if value < 0:
        raise ValueError(f"{name} ({value}) is not non-negative.")


def _assert_min_3d(img: Tensor) -> None:
    if img.ndim < 3:
        raise TypeError(f"Input image tensor should have at least 3 dimensions, but found {img.ndim}")


# ---------------------------------------------------------------------------------------
# dtype conversion
# ---------------------------------------------------------------------------------------


def _convert_dtype(a, dtype):
    """Array-level :func:`convert_image_dtype` (``dtype`` is a NumPy dtype)."""
    src, dst = a.dtype, np.dtype(dtype)
    if src == dst:
        return a
    if _is_float(src):
        if _is_float(dst):
            return a.astype(dst)
        if (src == np.float32 and dst in (np.int32, np.int64)) or (src == np.float64 and dst == np.int64):
            raise RuntimeError(f"The cast from ember.{src} to ember.{dst} cannot be performed safely.")
        # max + 1 - eps spreads [0, 1] evenly over the integer range (only 1.0 maps to max)
        eps = 1e-3
        return (a * (_max_value(dst) + 1.0 - eps)).astype(dst)
    if src == np.bool_:
        a, src = a.astype(np.uint8), np.dtype(np.uint8)
    in_max = _max_value(src)
    if _is_float(dst):
        return a.astype(dst) / dst.type(in_max)
    out_max = _max_value(dst)
    if in_max > out_max:
        factor = (in_max + 1) // (out_max + 1)
        return (a // factor).astype(dst)
    factor = (out_max + 1) // (in_max + 1)
    return a.astype(dst) * dst.type(factor)


def convert_image_dtype(image: Tensor, dtype=ember.float32) -> Tensor:
    if image.dtype is dtype:
        return image
    a, _ = _unwrap(image)
    return _wrap(_convert_dtype(a, dtype.np), image)


# ---------------------------------------------------------------------------------------
# Flips, crops, padding
# ---------------------------------------------------------------------------------------


def vflip(img: Tensor) -> Tensor:
    a, xp = _image_array(img)
    return _wrap(xp.ascontiguousarray(a[..., ::-1, :]), img)


def hflip(img: Tensor) -> Tensor:
    a, xp = _image_array(img)
    return _wrap(xp.ascontiguousarray(a[..., ::-1]), img)


def crop(img: Tensor, top: int, left: int, height: int, width: int) -> Tensor:
    a, xp = _image_array(img)
    return _wrap(_crop(a, xp, top, left, height, width), img)


def _crop(a, xp, top, left, height, width):
    h, w = a.shape[-2:]
    right, bottom = left + width, top + height
    if left < 0 or top < 0 or right > w or bottom > h:
        # the part outside the image is zero, as torchvision pads it
        inner = a[..., max(top, 0):max(bottom, 0), max(left, 0):max(right, 0)]
        ltrb = [max(-left + min(0, right), 0), max(-top + min(0, bottom), 0),
                max(right - max(w, left), 0), max(bottom - max(h, top), 0)]
        return _pad(inner, xp, [ltrb[0], ltrb[2], ltrb[1], ltrb[3]], 0, "constant")
    return xp.ascontiguousarray(a[..., top:bottom, left:right])


def _parse_pad_padding(padding) -> list[int]:
    """int | [p] | [lr, tb] | [l, t, r, b] -> [left, right, top, bottom]."""
    if isinstance(padding, numbers.Number):
        p = int(padding)
        return [p, p, p, p]
    padding = list(padding)
    if len(padding) == 1:
        return padding * 4
    if len(padding) == 2:
        return [padding[0], padding[0], padding[1], padding[1]]
    return [padding[0], padding[2], padding[1], padding[3]]


def pad(img: Tensor, padding, fill=0, padding_mode: str = "constant") -> Tensor:
    _assert_image_tensor(img)
    if fill is None:
        fill = 0
    if not isinstance(padding, (int, tuple, list)):
        raise TypeError("Got inappropriate padding arg")
    if not isinstance(fill, (int, float)):
        raise TypeError("Got inappropriate fill arg")
    if not isinstance(padding_mode, str):
        raise TypeError("Got inappropriate padding_mode arg")
    if isinstance(padding, (tuple, list)) and len(padding) not in (1, 2, 4):
        raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple")
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    a, xp = _unwrap(img)
    return _wrap(_pad(a, xp, _parse_pad_padding(padding), fill, padding_mode), img)


def _pad(a, xp, lrtb, fill, mode):
    """Pad the last two axes by [left, right, top, bottom]; negative amounts crop."""
    left, right, top, bottom = (int(p) for p in lrtb)
    if min(left, right, top, bottom) < 0:
        h, w = a.shape[-2:]
        a = a[..., max(-top, 0):h - max(-bottom, 0), max(-left, 0):w - max(-right, 0)]
        left, right, top, bottom = max(left, 0), max(right, 0), max(top, 0), max(bottom, 0)
    if mode == "reflect":
        h, w = a.shape[-2:]
        for (p0, p1), size, dim in (((left, right), w, a.ndim - 1), ((top, bottom), h, a.ndim - 2)):
            if p0 >= size or p1 >= size:
                raise RuntimeError(f"Padding size should be less than the corresponding input dimension, but got: "
                                   f"padding ({p0}, {p1}) at dimension {dim} of input {list(a.shape)}")
    widths = [(0, 0)] * (a.ndim - 2) + [(top, bottom), (left, right)]
    if mode == "constant":
        return xp.pad(a, widths, mode="constant", constant_values=fill)
    return xp.pad(a, widths, mode=mode)


# ---------------------------------------------------------------------------------------
# Colour
# ---------------------------------------------------------------------------------------


def _gray(a, xp):
    """Luma of an (..., 3, H, W) array as (..., 1, H, W) in the input dtype (truncated, as torchvision)."""
    f = a.astype(_work_dtype(a.dtype), copy=False)
    r, g, b = f[..., 0, :, :], f[..., 1, :, :], f[..., 2, :, :]
    return (0.2989 * r + 0.587 * g + 0.114 * b).astype(a.dtype)[..., None, :, :]


def rgb_to_grayscale(img: Tensor, num_output_channels: int = 1) -> Tensor:
    _assert_min_3d(img)
    _assert_channels(img, [1, 3])
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    a, xp = _unwrap(img)
    g = _gray(a, xp) if a.shape[-3] == 3 else a.copy()
    if num_output_channels == 3:
        g = xp.ascontiguousarray(xp.broadcast_to(g, a.shape))
    return _wrap(g, img)


def _blend(a1, a2, ratio: float):
    ratio = float(ratio)
    wd = _work_dtype(a1.dtype)
    out = ratio * a1.astype(wd, copy=False) + (1.0 - ratio) * a2.astype(wd, copy=False)
    out = out.clip(0, _max_value(a1.dtype))
    return out.astype(a1.dtype, copy=False)


def adjust_brightness(img: Tensor, brightness_factor: float) -> Tensor:
    _check_non_negative(brightness_factor, "brightness_factor")
    a, xp = _image_array(img, [1, 3])
    return _wrap(_blend(a, xp.zeros((), dtype=a.dtype), brightness_factor), img)


def adjust_contrast(img: Tensor, contrast_factor: float) -> Tensor:
    _check_non_negative(contrast_factor, "contrast_factor")
    a, xp = _image_array(img, [3, 1])
    wd = _work_dtype(a.dtype)
    g = _gray(a, xp) if get_dimensions(img)[0] == 3 else a
    mean = g.astype(wd).mean(axis=(-3, -2, -1), keepdims=True)
    return _wrap(_blend(a, mean, contrast_factor), img)


def adjust_saturation(img: Tensor, saturation_factor: float) -> Tensor:
    _check_non_negative(saturation_factor, "saturation_factor")
    _assert_image_tensor(img)
    _assert_channels(img, [1, 3])
    if get_dimensions(img)[0] == 1:  # as PIL: nothing to desaturate
        return img
    a, xp = _unwrap(img)
    return _wrap(_blend(a, _gray(a, xp), saturation_factor), img)


def _rgb2hsv(a, xp):
    r, g, b = a[..., 0, :, :], a[..., 1, :, :], a[..., 2, :, :]
    maxc, minc = a.max(axis=-3), a.min(axis=-3)
    eqc = maxc == minc  # grey pixels: S = H = 0 (guarding the divisions below)
    cr = maxc - minc
    s = cr / xp.where(eqc, 1, maxc)
    crd = xp.where(eqc, 1, cr)
    rc, gc, bc = (maxc - r) / crd, (maxc - g) / crd, (maxc - b) / crd
    hr = (maxc == r) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
    hb = ((maxc != g) & (maxc != r)) * (4.0 + gc - rc)
    h = xp.fmod((hr + hg + hb) / 6.0 + 1.0, 1.0)
    return h.astype(a.dtype), s, maxc


def _hsv2rgb(h, s, v, xp):
    i = xp.floor(h * 6.0)
    f = h * 6.0 - i
    i = i.astype(np.int32) % 6
    p = xp.clip(v * (1.0 - s), 0.0, 1.0)
    q = xp.clip(v * (1.0 - s * f), 0.0, 1.0)
    t = xp.clip(v * (1.0 - s * (1.0 - f)), 0.0, 1.0)
    # pick, per pixel, one of six (r, g, b) arrangements of (v, p, q, t) by the hue sector i
    table = ((v, q, p, p, t, v), (t, v, v, q, p, p), (p, p, t, v, v, q))
    sector = [i == k for k in range(6)]
    chans = [sum(xp.where(m, c, 0) for m, c in zip(sector, row)) for row in table]
    return xp.stack(chans, axis=-3).astype(h.dtype)


def adjust_hue(img: Tensor, hue_factor: float) -> Tensor:
    if not (-0.5 <= hue_factor <= 0.5):
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    if not isinstance(img, Tensor):
        raise TypeError("Input img should be Tensor image")
    _assert_image_tensor(img)
    _assert_channels(img, [1, 3])
    if get_dimensions(img)[0] == 1:  # as PIL
        return img
    a, xp = _unwrap(img)
    f = _convert_dtype(a, np.float32)
    h, s, v = _rgb2hsv(f, xp)
    h = xp.mod(h + np.float32(hue_factor), np.float32(1.0))  # Python-style modulo: stays in [0, 1)
    return _wrap(_convert_dtype(_hsv2rgb(h, s, v, xp), a.dtype), img)


def adjust_gamma(img: Tensor, gamma: float, gain: float = 1) -> Tensor:
    if not isinstance(img, Tensor):
        raise TypeError("Input img should be a Tensor.")
    _assert_channels(img, [1, 3])
    if gamma < 0:
        raise ValueError("Gamma should be a non-negative real number")
    a, xp = _unwrap(img)
    f = a if _is_float(a.dtype) else _convert_dtype(a, np.float32)
    res = (gain * f ** gamma).clip(0, 1).astype(f.dtype)
    return _wrap(_convert_dtype(res, a.dtype), img)


def invert(img: Tensor) -> Tensor:
    _assert_image_tensor(img)
    _assert_min_3d(img)
    _assert_channels(img, [1, 3])
    a, xp = _unwrap(img)
    return _wrap((a.dtype.type(_max_value(a.dtype)) - a).astype(a.dtype), img)


def posterize(img: Tensor, bits: int) -> Tensor:
    a, xp = _uint8_image(img)
    mask = np.uint8((-int(2 ** (8 - bits))) & 0xFF)  # keeps the top `bits` bits
    return _wrap(a & mask, img)


def solarize(img: Tensor, threshold: float) -> Tensor:
    _assert_image_tensor(img)
    _assert_min_3d(img)
    _assert_channels(img, [1, 3])
    a, xp = _unwrap(img)
    if threshold > _max_value(a.dtype):
        raise TypeError("Threshold should be less than bound of img.")
    inverted = (a.dtype.type(_max_value(a.dtype)) - a).astype(a.dtype)
    return _wrap(xp.where(a >= threshold, inverted, a), img)


def _conv_valid_3x3(f, kernel, xp):
    """Valid 3x3 correlation over the last two axes (kernel given on the host)."""
    h, w = f.shape[-2:]
    out = 0
    for dy in range(3):
        for dx in range(3):
            if kernel[dy, dx]:
                out = out + f.dtype.type(kernel[dy, dx]) * f[..., dy:h - 2 + dy, dx:w - 2 + dx]
    return out


def adjust_sharpness(img: Tensor, sharpness_factor: float) -> Tensor:
    _check_non_negative(sharpness_factor, "sharpness_factor")
    _assert_image_tensor(img)
    _assert_channels(img, [1, 3])
    if img.shape[-1] <= 2 or img.shape[-2] <= 2:
        return img
    a, xp = _unwrap(img)
    # PIL's SMOOTH filter: centre weight 5, the 8 neighbours 1; border pixels stay as they are
    kernel = np.ones((3, 3))
    kernel[1, 1] = 5.0
    kernel /= kernel.sum()
    blurred = _cast_out(_conv_valid_3x3(a.astype(_work_dtype(a.dtype)), kernel, xp), a.dtype)
    degenerate = a.copy()
    degenerate[..., 1:-1, 1:-1] = blurred
    return _wrap(_blend(a, degenerate, sharpness_factor), img)


def autocontrast(img: Tensor) -> Tensor:
    _assert_image_tensor(img)
    _assert_min_3d(img)
    _assert_channels(img, [1, 3])
    a, xp = _unwrap(img)
    bound = _max_value(a.dtype)
    wd = _work_dtype(a.dtype)
    lo = a.min(axis=(-2, -1), keepdims=True).astype(wd)
    hi = a.max(axis=(-2, -1), keepdims=True).astype(wd)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = wd.type(bound) / (hi - lo)
    flat = ~xp.isfinite(scale)  # constant channels are left unchanged
    lo = xp.where(flat, 0, lo).astype(wd)
    scale = xp.where(flat, 1, scale).astype(wd)
    return _wrap(((a - lo) * scale).clip(0, bound).astype(a.dtype), img)


def equalize(img: Tensor) -> Tensor:
    a, xp = _uint8_image(img)
    shape = a.shape
    flat = a.reshape(-1, shape[-2] * shape[-1]).astype(np.int64)  # one row per channel
    rows = flat.shape[0]
    offsets = (xp.arange(rows, dtype=np.int64) * 256)[:, None]
    hist = xp.bincount((flat + offsets).ravel(), minlength=rows * 256).reshape(rows, 256)
    # PIL's step: pixels not in the brightest occupied bin, spread over 255 levels
    last = 255 - xp.argmax(hist[:, ::-1] > 0, axis=1)
    step = (hist.sum(axis=1) - hist[xp.arange(rows), last]) // 255
    safe = xp.where(step == 0, 1, step)[:, None]
    lut = (xp.cumsum(hist, axis=1) + safe // 2) // safe
    lut = xp.concatenate([xp.zeros((rows, 1), dtype=lut.dtype), lut[:, :-1]], axis=1).clip(0, 255)
    out = xp.take_along_axis(lut, flat, axis=1).astype(np.uint8)
    out = xp.where((step == 0)[:, None], flat.astype(np.uint8), out)
    return _wrap(out.reshape(shape), img)


# ---------------------------------------------------------------------------------------
# Normalize and erase (Ember ops, so in-place versions bump the version counter)
# ---------------------------------------------------------------------------------------


def normalize(tensor: Tensor, mean, std, inplace: bool = False) -> Tensor:
    _assert_image_tensor(tensor)
    if not tensor.is_floating_point():
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if tensor.ndim < 3:
        raise ValueError("Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = "
                         f"{tensor.size()}.")
    if not inplace:
        tensor = tensor.clone()
    dtype = tensor.dtype
    mean = ember.as_tensor(mean, dtype=dtype, device=tensor.device)
    std = ember.as_tensor(std, dtype=dtype, device=tensor.device)
    if bool((std == 0).any()):
        raise ValueError(f"std evaluated to zero after conversion to {dtype}, leading to division by zero.")
    if mean.ndim == 1:
        mean = mean.view(-1, 1, 1)
    if std.ndim == 1:
        std = std.view(-1, 1, 1)
    return tensor.sub_(mean).div_(std)


def erase(img: Tensor, i: int, j: int, h: int, w: int, v, inplace: bool = False) -> Tensor:
    _assert_image_tensor(img)
    if not inplace:
        img = img.clone()
    if isinstance(v, Tensor) and v.device != img.device:
        v = v.to(img.device)
    img[..., i:i + h, j:j + w] = v
    return img


# ---------------------------------------------------------------------------------------
# Resize: separable interpolation matrices
# ---------------------------------------------------------------------------------------


def _nearest_index(n_in: int, n_out: int, exact: bool) -> np.ndarray:
    """Source index of each output index (PyTorch's float32 arithmetic for "nearest")."""
    scale = np.float32(n_in) / np.float32(n_out)
    dst = np.arange(n_out, dtype=np.float32)
    if exact:
        src = np.floor((dst + np.float32(0.5)) * scale)
    elif n_out == n_in:
        return np.arange(n_out)
    elif n_out == 2 * n_in:
        return np.arange(n_out) >> 1
    else:
        src = np.floor(dst * scale)
    return np.minimum(src.astype(np.int64), n_in - 1)


def _cubic(x, a):
    """Keys' cubic convolution kernel with parameter ``a``."""
    x = np.abs(x)
    return np.where(x <= 1, ((a + 2) * x - (a + 3)) * x * x + 1,
                    np.where(x < 2, ((a * x - 5 * a) * x + 8 * a) * x - 4 * a, 0.0))


def _interp_taps(n_in: int, n_out: int, mode: str, antialias: bool):
    """Resampling of one axis as taps: source indices and weights, both (n_out, K) (rows sum to 1).

    Taps beyond an output's support have weight 0 (and a valid index), so every output has K taps.
    """
    scale = n_in / n_out
    rows = np.arange(n_out)
    if antialias:
        # PIL's (and PyTorch's antialias) convolution resampling: the filter is stretched by the
        # scale when downsampling, so every input pixel contributes
        interp_size = 2 if mode == "bilinear" else 4
        support = interp_size * 0.5 * scale if scale >= 1.0 else interp_size * 0.5
        invscale = 1.0 / scale if scale >= 1.0 else 1.0
        center = scale * (rows + 0.5)
        xmin = np.maximum(np.trunc(center - support + 0.5).astype(np.int64), 0)
        xsize = np.minimum(np.trunc(center + support + 0.5).astype(np.int64), n_in) - xmin
        taps = np.arange(max(int(xsize.max()), 1))
        x = (taps[None, :] + xmin[:, None] - center[:, None] + 0.5) * invscale
        w = np.maximum(1.0 - np.abs(x), 0.0) if mode == "bilinear" else _cubic(x, -0.5)
        w = np.where(taps[None, :] < xsize[:, None], w, 0.0)
        total = w.sum(axis=1, keepdims=True)
        w = w / np.where(total == 0, 1.0, total)
        return np.minimum(xmin[:, None] + taps[None, :], n_in - 1), w
    src = scale * (rows + 0.5) - 0.5  # half-pixel centres (align_corners=False)
    if mode == "bilinear":
        src = np.maximum(src, 0.0)
        i0 = src.astype(np.int64)
        lam = np.clip(src - i0, 0.0, 1.0)
        i1 = i0 + (i0 < n_in - 1)
        return np.stack([i0, i1], 1), np.stack([1.0 - lam, lam], 1)
    # bicubic: 4 taps around floor(src), Keys a = -0.75, indices clamped to the border
    i0 = np.floor(src).astype(np.int64)
    t = src - i0
    ks = np.arange(-1, 3)
    return np.clip(i0[:, None] + ks, 0, n_in - 1), _cubic(t[:, None] - ks, -0.75)


def _resample_axis(f, xp, axis: int, idx: np.ndarray, w: np.ndarray):
    """Weighted sum of gathered taps along ``axis`` (-2 or -1): one vectorised gather per tap."""
    out = 0
    for k in range(idx.shape[1]):
        wk = _to_device(w[:, k].astype(f.dtype), xp)
        g = xp.take(f, _to_device(idx[:, k], xp), axis=axis)
        out = out + g * (wk[:, None] if axis == -2 else wk)
    return out


def _resize_array(a, xp, size, interpolation: str, antialias: bool):
    h, w = a.shape[-2:]
    oh, ow = size
    if interpolation in ("nearest", "nearest-exact"):
        exact = interpolation == "nearest-exact"
        if oh != h:
            a = xp.take(a, _to_device(_nearest_index(h, oh, exact), xp), axis=-2)
        if ow != w:
            a = xp.take(a, _to_device(_nearest_index(w, ow, exact), xp), axis=-1)
        return xp.ascontiguousarray(a)
    out_dtype = a.dtype
    wd = a.dtype if a.dtype in (np.float32, np.float64) else np.dtype(np.float32)
    f = a.astype(wd, copy=False)
    # resample the axis that shrinks most first: the second pass then works on less data
    steps = [(-2, h, oh), (-1, w, ow)]
    if ow / w < oh / h:
        steps.reverse()
    for axis, n_in, n_out in steps:
        if n_in != n_out:  # every mode is the identity at scale 1
            f = _resample_axis(f, xp, axis, *_interp_taps(n_in, n_out, interpolation, antialias))
    if interpolation == "bicubic" and out_dtype == np.uint8:
        f = f.clip(0, 255)
    return _cast_out(f, out_dtype)


def resize(img: Tensor, size: list[int], interpolation: str = "bilinear", antialias: bool | None = True) -> Tensor:
    _assert_image_tensor(img)
    if interpolation not in ("nearest", "nearest-exact", "bilinear", "bicubic"):
        raise ValueError(f"Interpolation mode '{interpolation}' is unsupported with Tensor input")
    antialias = bool(antialias) and interpolation in ("bilinear", "bicubic")
    a, xp = _unwrap(img)
    return _wrap(_resize_array(a, xp, list(size), interpolation, antialias), img)


# ---------------------------------------------------------------------------------------
# Grid transforms: rotate, affine, perspective
# ---------------------------------------------------------------------------------------


def _assert_grid_transform_inputs(img, matrix, interpolation, fill, supported, coeffs=None) -> None:
    if not isinstance(img, Tensor):
        raise TypeError("Input img should be Tensor")
    _assert_image_tensor(img)
    if matrix is not None and not isinstance(matrix, list):
        raise TypeError("Argument matrix should be a list")
    if matrix is not None and len(matrix) != 6:
        raise ValueError("Argument matrix should have 6 float values")
    if coeffs is not None and len(coeffs) != 8:
        raise ValueError("Argument coeffs should have 8 float values")
    if fill is not None and not isinstance(fill, (int, float, tuple, list)):
        warnings.warn("Argument fill should be either int, float, tuple or list")
    num_channels = get_dimensions(img)[0]
    if isinstance(fill, (tuple, list)) and len(fill) > 1 and len(fill) != num_channels:
        raise ValueError("The number of elements in 'fill' cannot broadcast to match the number of channels of "
                         f"the image ({len(fill)} != {num_channels})")
    if interpolation not in supported:
        raise ValueError(f"Interpolation mode '{interpolation}' is unsupported with Tensor input")


def _affine_source_coords(matrix, w, h, ow, oh, dtype):
    """Source pixel coordinates (x, y) of every output pixel, for an inverse affine ``matrix``
    given about the image centre (torchvision's convention)."""
    # normalised grid coordinates computed in the grid dtype in torchvision's order of operations (so
    # that nearest sampling breaks ties the same way), then unnormalised as grid_sample does
    dtype = np.dtype(dtype)
    theta = np.asarray(matrix, dtype=dtype).reshape(2, 3) / np.array([[0.5 * w], [0.5 * h]], dtype=dtype)
    x = np.linspace(-ow * 0.5 + 0.5, ow * 0.5 - 0.5, ow).astype(dtype)[None, :]
    y = np.linspace(-oh * 0.5 + 0.5, oh * 0.5 - 0.5, oh).astype(dtype)[:, None]
    gx = x * theta[0, 0] + y * theta[0, 1] + theta[0, 2]
    gy = x * theta[1, 0] + y * theta[1, 1] + theta[1, 2]
    one, half = dtype.type(1), dtype.type(0.5)
    return ((gx + one) * dtype.type(w) - one) * half, ((gy + one) * dtype.type(h) - one) * half


def _sample(a, xp, sx, sy, mode: str, fill):
    """Sample (..., C, H, W) at source coordinates (oh, ow) with zero padding outside, then paint
    ``fill`` where the source falls outside the image (grid_sample with align_corners=False).

    Each tap is one gather of the flattened image with a linear index; taps outside the image get
    index 0 and weight 0, so the summed weights are the "inside" mask used for the fill.
    """
    h, w = a.shape[-2:]
    oh, ow = sx.shape
    out_dtype = a.dtype
    wd = np.dtype(sx.dtype)
    flat = a.astype(wd, copy=False).reshape(a.shape[:-2] + (h * w,))
    sx, sy = _to_device(sx.ravel(), xp), _to_device(sy.ravel(), xp)
    if mode == "nearest":
        corners = [(xp.rint(sx), xp.rint(sy), None)]  # round half to even, as grid_sample
    else:
        x0, y0 = xp.floor(sx), xp.floor(sy)
        wx1, wy1 = sx - x0, sy - y0
        wx0, wy0 = 1 - wx1, 1 - wy1
        corners = [(x0, y0, wx0 * wy0), (x0 + 1, y0, wx1 * wy0), (x0, y0 + 1, wx0 * wy1), (x0 + 1, y0 + 1, wx1 * wy1)]
    out, mask = 0, 0
    for xi, yi, wt in corners:
        inside = (xi >= 0) & (xi <= w - 1) & (yi >= 0) & (yi <= h - 1)
        idx = xp.where(inside, yi * w + xi, 0).astype(np.int64)
        wt = inside.astype(wd) if wt is None else xp.where(inside, wt, 0).astype(wd)
        out = out + xp.take(flat, idx, axis=-1) * wt
        mask = mask + wt
    if fill is not None:
        fill_list = list(fill) if isinstance(fill, (tuple, list)) else [float(fill)]
        fv = xp.asarray(np.asarray(fill_list, dtype=wd).reshape(len(fill_list), 1))
        if mode == "nearest":
            out = xp.where(mask < 0.5, fv, out)
        else:
            out = out * mask + (1 - mask) * fv
    out = out.astype(wd, copy=False).reshape(a.shape[:-2] + (oh, ow))
    return _cast_out(out, out_dtype)


def _grid_dtype(a):
    return a.dtype if _is_float(a.dtype) and a.dtype.itemsize >= 4 else np.dtype(np.float32)


def affine(img: Tensor, matrix: list[float], interpolation: str = "nearest", fill=None) -> Tensor:
    _assert_grid_transform_inputs(img, matrix, interpolation, fill, ["nearest", "bilinear"])
    a, xp = _unwrap(img)
    h, w = a.shape[-2:]
    sx, sy = _affine_source_coords(matrix, w, h, w, h, _grid_dtype(a))
    return _wrap(_sample(a, xp, sx, sy, interpolation, fill), img)


def _compute_affine_output_size(matrix: list[float], w: int, h: int) -> tuple[int, int]:
    """Size of the box holding the transformed image corners (as PIL's ``rotate(expand=True)``)."""
    pts = np.array([[-0.5 * w, -0.5 * h, 1.0], [-0.5 * w, 0.5 * h, 1.0],
                    [0.5 * w, 0.5 * h, 1.0], [0.5 * w, -0.5 * h, 1.0]], dtype=np.float32)
    theta = np.asarray(matrix, dtype=np.float32).reshape(2, 3)
    new_pts = pts @ theta.T
    lo = new_pts.min(axis=0) + np.array([w * 0.5, h * 0.5], dtype=np.float32)
    hi = new_pts.max(axis=0) + np.array([w * 0.5, h * 0.5], dtype=np.float32)
    tol = 1e-4  # truncate to 1e-4 so that 1e-15 above an integer doesn't round up
    cmax = np.ceil(np.trunc(hi / tol) * tol)
    cmin = np.floor(np.trunc(lo / tol) * tol)
    size = cmax - cmin
    return int(size[0]), int(size[1])


def rotate(img: Tensor, matrix: list[float], interpolation: str = "nearest", expand: bool = False,
           fill=None) -> Tensor:
    _assert_grid_transform_inputs(img, matrix, interpolation, fill, ["nearest", "bilinear"])
    a, xp = _unwrap(img)
    h, w = a.shape[-2:]
    ow, oh = _compute_affine_output_size(matrix, w, h) if expand else (w, h)
    sx, sy = _affine_source_coords(matrix, w, h, ow, oh, _grid_dtype(a))
    return _wrap(_sample(a, xp, sx, sy, interpolation, fill), img)


def perspective(img: Tensor, perspective_coeffs: list[float], interpolation: str = "bilinear", fill=None) -> Tensor:
    if not isinstance(img, Tensor):
        raise TypeError("Input img should be Tensor.")
    _assert_image_tensor(img)
    _assert_grid_transform_inputs(img, None, interpolation, fill, ["nearest", "bilinear"], coeffs=perspective_coeffs)
    a, xp = _unwrap(img)
    h, w = a.shape[-2:]
    c = [float(v) for v in perspective_coeffs]
    x = (np.arange(w, dtype=np.float64) + 0.5)[None, :]
    y = (np.arange(h, dtype=np.float64) + 0.5)[:, None]
    den = c[6] * x + c[7] * y + 1.0
    # source pixel coordinates of each output pixel centre (PIL's PERSPECTIVE convention)
    sx = (c[0] * x + c[1] * y + c[2]) / den - 0.5
    sy = (c[3] * x + c[4] * y + c[5]) / den - 0.5
    dt = _grid_dtype(a)
    return _wrap(_sample(a, xp, sx.astype(dt), sy.astype(dt), interpolation, fill), img)


# ---------------------------------------------------------------------------------------
# Gaussian blur
# ---------------------------------------------------------------------------------------


def _gaussian_kernel1d(kernel_size: int, sigma: float, dtype) -> np.ndarray:
    half = (kernel_size - 1) * 0.5
    x = np.linspace(-half, half, kernel_size).astype(dtype)
    pdf = np.exp(-0.5 * (x / dtype.type(sigma)) ** 2)
    return pdf / pdf.sum()


def gaussian_blur(img: Tensor, kernel_size: list[int], sigma: list[float]) -> Tensor:
    if not isinstance(img, Tensor):
        raise TypeError(f"img should be Tensor. Got {type(img)}")
    a, xp = _image_array(img)
    wd = _work_dtype(a.dtype)
    kx = _gaussian_kernel1d(kernel_size[0], sigma[0], wd)
    ky = _gaussian_kernel1d(kernel_size[1], sigma[1], wd)
    px, py = kernel_size[0] // 2, kernel_size[1] // 2
    f = _pad(a.astype(wd, copy=False), xp, [px, px, py, py], 0, "reflect")
    h, w = a.shape[-2:]
    # separable correlation: one vectorised pass per kernel tap, first along x, then along y
    rows = sum(wd.type(kx[k]) * f[..., :, k:k + w] for k in range(kernel_size[0]))
    out = sum(wd.type(ky[k]) * rows[..., k:k + h, :] for k in range(kernel_size[1]))
    return _wrap(_cast_out(out, a.dtype), img)
