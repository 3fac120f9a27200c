"""Reading and writing images as uint8 (C, H, W) tensors, through Pillow (``torchvision.io``).

    >>> import os, tempfile
    >>> from ember_vision.io import read_image, write_png, ImageReadMode
    >>> path = os.path.join(tempfile.mkdtemp(), "cat.png")
    >>> write_png(ember.zeros(3, 4, 5, dtype=ember.uint8), path)
    >>> img = read_image(path, mode=ImageReadMode.RGB)      # ember.uint8, shape (3, H, W)
    >>> img.shape, img.dtype
    (ember.Size([3, 4, 5]), ember.uint8)

Images of 16-bit depth come back as int32 tensors (Ember has no uint16), as older torchvision did.

A file or buffer that can't be decoded raises :class:`ImageDecodeError`, a ``RuntimeError`` (the error
torchvision raises) whose message names the file (or says ``data (N bytes)`` for encoded bytes) and
the problem: malformed, truncated or unsupported data, whatever Pillow's decoders raised for it
(``OSError``, ``SyntaxError``, ``IndexError``, ...), and images larger than
``PIL.Image.MAX_IMAGE_PIXELS`` pixels (Pillow's decompression-bomb limit; raise or clear it to
decode bigger images). ``read_image`` raises ``FileNotFoundError``/``IsADirectoryError`` for a path
that is missing or a directory.
"""
from __future__ import annotations

import io as _io
import os
import struct
from enum import Enum

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

import ember
from ember import Tensor

__all__ = ["ImageReadMode", "ImageDecodeError", "read_file", "write_file", "decode_image", "decode_png", "decode_jpeg",
           "read_image", "encode_png", "encode_jpeg", "write_png", "write_jpeg"]


class ImageDecodeError(RuntimeError):
    """Encoded image data could not be decoded; the message names the file and the problem."""


class ImageReadMode(Enum):
    """How to convert a decoded image: keep it (UNCHANGED) or convert to GRAY, GRAY_ALPHA, RGB, RGB_ALPHA."""

    UNCHANGED = 0
    GRAY = 1
    GRAY_ALPHA = 2
    RGB = 3
    RGB_ALPHA = 4
    RGBA = RGB_ALPHA  # alias, as in torchvision


_MODE_TO_PIL = {ImageReadMode.GRAY: "L", ImageReadMode.GRAY_ALPHA: "LA", ImageReadMode.RGB: "RGB",
                ImageReadMode.RGB_ALPHA: "RGBA"}


def _mode(mode) -> ImageReadMode:
    if isinstance(mode, str):
        try:
            return ImageReadMode[mode.upper()]
        except KeyError:
            raise ValueError(f"unknown image read mode {mode!r}; expected one of "
                             f"{[m.name for m in ImageReadMode]}") from None
    if not isinstance(mode, ImageReadMode):
        raise TypeError(f"mode should be an ImageReadMode, got {type(mode).__name__}")
    return mode


def _as_bytes(data: Tensor, what: str) -> bytes:
    if not isinstance(data, Tensor):
        raise TypeError(f"{what} should be a Tensor, got {type(data).__name__}")
    if data.dtype is not ember.uint8 or data.ndim != 1:
        raise ValueError(f"{what} should be a 1-d uint8 tensor of encoded bytes, got a {data.ndim}-d "
                         f"{data.dtype} tensor")
    return data.numpy(force=True).tobytes()


def _bytes_tensor(data: bytes) -> Tensor:
    return ember.from_numpy(np.frombuffer(data, dtype=np.uint8).copy())


def read_file(path) -> Tensor:
    """The bytes of a file as a 1-d uint8 tensor."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        return _bytes_tensor(f.read())


def write_file(filename, data: Tensor) -> None:
    """Write a 1-d uint8 tensor of bytes to ``filename``."""
    payload = _as_bytes(data, "data")
    with open(os.fspath(filename), "wb") as f:
        f.write(payload)


def _pil_to_chw(img: Image.Image, mode: ImageReadMode) -> Tensor:
    if mode is ImageReadMode.UNCHANGED:
        if img.mode == "P":  # palettes are expanded, keeping transparency if any
            img = img.convert("RGBA" if "transparency" in img.info else "RGB")
        elif img.mode == "1":
            img = img.convert("L")
        elif img.mode in ("PA", "La"):
            img = img.convert("RGBA" if img.mode == "PA" else "LA")
        elif img.mode not in ("L", "LA", "RGB", "RGBA", "I;16", "I;16B", "I;16L", "I", "CMYK"):
            img = img.convert("RGB")
    else:
        if img.mode.startswith("I;16") or img.mode == "I":
            # scale 16-bit data to 8 bits first: Pillow's convert would clip instead
            arr = np.asarray(img).astype(np.int64)
            img = Image.fromarray((arr >> 8).clip(0, 255).astype(np.uint8), "L")
        img = img.convert(_MODE_TO_PIL[mode])
    arr = np.asarray(img)
    if arr.dtype == np.uint16 or arr.dtype.byteorder == ">":
        arr = arr.astype(np.int32)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return ember.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))


# What Pillow raises on malformed data, wrapped into ImageDecodeError. Seen in the fuzz suite (tests/fuzz):
# OSError (truncated data, decoder errors), SyntaxError and IndexError (broken PNG chunks), ValueError and
# the decompression-bomb error. The rest are what its header, EXIF and TIFF-tag parsers can raise on short
# or inconsistent fields; MemoryError is an image that passed the pixel limit but not the allocation; the
# bomb warning is raised when warnings are errors.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, IndexError, KeyError, TypeError, struct.error, EOFError,
                  ZeroDivisionError, MemoryError, Image.DecompressionBombError, Image.DecompressionBombWarning)


def _decode(data: bytes, mode, apply_exif_orientation: bool, name: str) -> Tensor:
    """Decode ``data`` (the whole encoded image, in memory: Pillow then never asks the OS for a
    corrupt chunk length's worth of bytes) into a (C, H, W) tensor."""
    mode = _mode(mode)
    try:
        with Image.open(_io.BytesIO(data)) as img:
            _check_pixels(img, name)
            img.load()
            if img.mode in ("P", "PA") and img.palette is None:  # Pillow would fail an assert converting it
                raise ImageDecodeError(f"could not decode image {name}: a palette image without a palette "
                                       "(PLTE chunk)")
            if apply_exif_orientation:
                img = ImageOps.exif_transpose(img)
            return _pil_to_chw(img, mode)
    except ImageDecodeError:
        raise
    except UnidentifiedImageError as e:
        raise ImageDecodeError(f"could not decode image {name}: {e}") from None
    except MemoryError:
        raise ImageDecodeError(f"could not decode image {name}: not enough memory") from None
    except _DECODE_ERRORS as e:
        raise ImageDecodeError(f"could not decode image {name}: malformed or truncated image data "
                               f"({type(e).__name__}: {e})") from None


def _check_pixels(img: Image.Image, name: str) -> None:
    """Refuse images over Pillow's decompression-bomb limit before their pixels are allocated (Pillow
    itself only warns below twice the limit)."""
    limit = Image.MAX_IMAGE_PIXELS
    width, height = img.size
    if limit and width * height > limit:
        raise ImageDecodeError(f"could not decode image {name}: its {width} x {height} pixels exceed "
                               f"PIL.Image.MAX_IMAGE_PIXELS ({limit}), Pillow's decompression-bomb limit; raise "
                               "that limit to decode it")


def decode_image(input, mode=ImageReadMode.UNCHANGED, apply_exif_orientation: bool = False) -> Tensor:
    """Decode encoded image bytes (a 1-d uint8 tensor, or a path) into a uint8 (C, H, W) tensor."""
    if isinstance(input, (str, os.PathLike)):
        return read_image(input, mode, apply_exif_orientation)
    data = _as_bytes(input, "input")
    return _decode(data, mode, apply_exif_orientation, f"data ({len(data)} bytes)")


def decode_png(input: Tensor, mode=ImageReadMode.UNCHANGED, apply_exif_orientation: bool = False) -> Tensor:
    """Decode PNG bytes into a (C, H, W) tensor."""
    return decode_image(input, mode, apply_exif_orientation)


def decode_jpeg(input: Tensor, mode=ImageReadMode.UNCHANGED, device="cpu",
                apply_exif_orientation: bool = False) -> Tensor:
    """Decode JPEG bytes into a uint8 (C, H, W) tensor (on ``device``)."""
    return decode_image(input, mode, apply_exif_orientation).to(device)


def read_image(path, mode=ImageReadMode.UNCHANGED, apply_exif_orientation: bool = False) -> Tensor:
    """Read a JPEG, PNG, GIF, BMP, WebP, ... file into a uint8 (C, H, W) tensor.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "photo.png")
    >>> write_png(ember.zeros(3, 4, 5, dtype=ember.uint8), path)
    >>> read_image(path, ImageReadMode.GRAY).shape    # (1, H, W)
    ember.Size([1, 4, 5])
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"image file not found: {path!r}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"expected an image file, got a directory: {path!r}")
    with open(path, "rb") as f:
        data = f.read()
    return _decode(data, mode, apply_exif_orientation, f"file {path!r}")


def _hwc(input: Tensor, what: str) -> np.ndarray:
    """A uint8 (C, H, W) tensor with 1 or 3 (PNG also 2, 4) channels as an (H, W[, C]) array."""
    if not isinstance(input, Tensor):
        raise TypeError(f"input should be a Tensor, got {type(input).__name__}")
    if input.dtype is not ember.uint8:
        raise RuntimeError(f"Input tensor dtype should be uint8, got {input.dtype}")
    if input.ndim != 3:
        raise RuntimeError(f"Input data should be a 3-dimensional tensor (C, H, W), got {input.ndim} dimensions")
    allowed = (1, 3) if what == "JPEG" else (1, 2, 3, 4)
    if input.shape[0] not in allowed:
        raise ValueError(f"The number of channels should be {' or '.join(map(str, allowed))} for {what}, "
                         f"got {input.shape[0]}")
    arr = np.ascontiguousarray(input.numpy(force=True).transpose(1, 2, 0))
    return arr[:, :, 0] if arr.shape[2] == 1 else arr


def encode_png(input: Tensor, compression_level: int = 6) -> Tensor:
    """Encode a uint8 (C, H, W) tensor as PNG bytes (a 1-d uint8 tensor)."""
    if not 0 <= compression_level <= 9:
        raise ValueError(f"Compression level should be between 0 and 9, got {compression_level}")
    buf = _io.BytesIO()
    Image.fromarray(_hwc(input, "PNG")).save(buf, format="PNG", compress_level=compression_level)
    return _bytes_tensor(buf.getvalue())


def encode_jpeg(input, quality: int = 75):
    """Encode a uint8 (C, H, W) tensor (or a list of them) as JPEG bytes (1-d uint8 tensors)."""
    if not 1 <= quality <= 100:
        raise ValueError(f"Image quality should be a positive number between 1 and 100, got {quality}")
    if isinstance(input, list):
        return [encode_jpeg(t, quality) for t in input]
    buf = _io.BytesIO()
    Image.fromarray(_hwc(input, "JPEG")).save(buf, format="JPEG", quality=quality)
    return _bytes_tensor(buf.getvalue())


def write_png(input: Tensor, filename, compression_level: int = 6) -> None:
    """Write a uint8 (C, H, W) tensor to a PNG file."""
    write_file(filename, encode_png(input, compression_level))


def write_jpeg(input: Tensor, filename, quality: int = 75) -> None:
    """Write a uint8 (C, H, W) tensor to a JPEG file."""
    write_file(filename, encode_jpeg(input, quality))
