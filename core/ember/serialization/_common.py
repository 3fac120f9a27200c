"""Pieces shared by the checkpoint formats: errors, a bounds-checked reader, device placement."""
from __future__ import annotations

import math
import os
import pickle
import sys

import numpy as np

from .. import _dtype as dt
from .._tensor import Tensor, _make
from ..backend import CPU, Device
from ..nn.parameter import Parameter
from ..ops.creation import place, resolve_device

# Element types by the names the native format stores (Ember dtype names).
DTYPES = {d.name: d for d in dt.ALL}
# dtype *values* (a state dict's ``_packed_params.dtype``) may also be the quantized types.
VALUE_DTYPES = {d.name: d for d in dt.ALL + dt.QUANTIZED}

#: The most dimensions a loaded tensor may have (NumPy's limit, and far beyond any real model's).
MAX_DIMS = 64
# NumPy's limit on an array's byte size, zero-length dimensions aside (np.intp's maximum).
_MAX_BYTES = np.iinfo(np.intp).max


class CheckpointError(RuntimeError):
    """A checkpoint file is malformed, truncated, corrupted or uses something Ember can't represent.

    A ``RuntimeError``, as PyTorch's own errors for broken checkpoint files are; the message starts
    with the file's name.
    """


class CheckpointUnpicklingError(CheckpointError, pickle.UnpicklingError):
    """A PyTorch checkpoint's pickle data is malformed (truncated, bad opcodes, wrong arguments).

    Both a :class:`CheckpointError` and a ``pickle.UnpicklingError``, the class ``torch.load``
    (``weights_only=True``) raises for pickles it can't load, so either ``except`` clause catches it.
    """


class UnsafeUnpicklingError(pickle.UnpicklingError):
    """A PyTorch checkpoint's pickle asked for a global (or an operation) the restricted unpickler refuses."""


def file_name(f) -> str:
    """How errors name ``f``: the path, or the file object's ``name``, or its type."""
    if isinstance(f, (str, bytes, os.PathLike)):
        return repr(os.fsdecode(f))
    name = getattr(f, "name", None)
    return repr(name) if isinstance(name, str) else f"<{type(f).__name__}>"


class Reader:
    """Reads byte ranges of a seekable binary file, relative to where the checkpoint starts,
    checking every range against the file's size (so a corrupt header can't make us read past
    the end or allocate more than the file holds)."""

    def __init__(self, f, name: str):
        self.f = f
        self.name = name
        self.start = f.tell()
        self.size = f.seek(0, os.SEEK_END) - self.start
        f.seek(self.start)
        self.widened = 0  # bfloat16 tensors loaded as float32, for one warning at the end

    def error(self, problem: str) -> CheckpointError:
        return CheckpointError(f"{self.name}: {problem}")

    def check_range(self, offset: int, n: int, what: str) -> None:
        if offset < 0 or n < 0 or offset + n > self.size:
            raise self.error(f"file is truncated or corrupted: {what} needs bytes {offset}..{offset + n} "
                             f"but the file has only {self.size} bytes")

    def read(self, offset: int, n: int, what: str) -> bytes:
        self.check_range(offset, n, what)
        self.f.seek(self.start + offset)
        data = self.f.read(n)
        if len(data) != n:
            raise self.error(f"file is truncated: could not read {what} ({len(data)} of {n} bytes)")
        return data

    def check_shape(self, shape, itemsize: int, what: str) -> int:
        """The element count of ``shape`` after checking it is a real, allocatable shape: at most
        ``MAX_DIMS`` non-negative integers whose product (zero-length dimensions aside) times
        ``itemsize`` fits NumPy's limit. Checked before anything is allocated."""
        if not isinstance(shape, (list, tuple)) or not all(type(n) is int and n >= 0 for n in shape):
            raise self.error(f"{what} has an invalid shape {shape!r:.80} (expected non-negative integers)")
        if len(shape) > MAX_DIMS:
            raise self.error(f"{what} has {len(shape)} dimensions; at most {MAX_DIMS} are supported")
        if math.prod(max(n, 1) for n in shape) * itemsize > _MAX_BYTES:
            raise self.error(f"{what} has an impossibly large shape {list(shape)!r:.120}")
        return math.prod(shape)

    def read_array(self, offset: int, np_dtype: np.dtype, shape: tuple, what: str) -> np.ndarray:
        """An owned, native-byte-order array of ``shape`` from little-endian bytes at ``offset``.

        The shape and the byte range are checked against the file before the array is allocated,
        so a corrupt size field can't ask for more memory than the file could fill.
        """
        numel = self.check_shape(shape, np_dtype.itemsize, what)
        self.check_range(offset, numel * np_dtype.itemsize, what)
        arr = np.empty(shape, np_dtype)
        raw = arr.reshape(-1).view(np.uint8)
        self.f.seek(self.start + offset)
        got = 0
        while got < raw.size:  # readinto may return short counts on raw/unbuffered files
            n = self.f.readinto(raw[got:])
            if not n:
                raise self.error(f"file is truncated: could not read {what} ({got} of {raw.size} bytes)")
            got += n
        return from_little_endian(arr)


def from_little_endian(arr: np.ndarray) -> np.ndarray:
    """Swap a freshly read little-endian array in place on big-endian hosts (no-op elsewhere)."""
    if sys.byteorder == "big" and arr.dtype.itemsize > 1:
        arr.byteswap(inplace=True)
    return arr


def to_little_endian(arr: np.ndarray) -> np.ndarray:
    """A C-contiguous little-endian view or copy of ``arr``, ready to write as raw bytes."""
    arr = np.ascontiguousarray(arr)
    if sys.byteorder == "big" and arr.dtype.itemsize > 1:
        arr = arr.byteswap()
    return arr


def host_bytes(t: Tensor) -> np.ndarray:
    """The tensor's data on the host as a flat little-endian uint8 array (no copy for contiguous CPU data)."""
    return to_little_endian(t._host()).reshape(-1).view(np.uint8)


def bfloat16_to_float32(bits: np.ndarray) -> np.ndarray:
    """bfloat16 (stored as uint16 bit patterns) -> float32: bfloat16 is the top half of a float32."""
    return (bits.astype(np.uint32) << 16).view(np.float32)


def make_placer(map_location):
    """``place(tensor_on_cpu, saved_location) -> tensor`` implementing ``map_location``.

    ``None`` keeps tensors on the CPU; a device (string or ``ember.device``) moves every tensor
    there; a dict maps saved location strings to devices (unlisted locations load on the CPU);
    a callable ``f(tensor, location)`` returns the tensor to use (or a device, or None for the CPU).
    """
    if map_location is None:
        return lambda t, location: t
    if isinstance(map_location, (str, Device)):
        target = resolve_device(map_location)  # validates the device now, before reading the file
        return lambda t, location: _to(t, target)
    if isinstance(map_location, dict):
        table = {str(k): resolve_device(v) for k, v in map_location.items()}
        return lambda t, location: _to(t, table.get(location, CPU))
    if callable(map_location):
        def place_with(t, location):
            r = map_location(t, location)
            if r is None:
                return t
            if isinstance(r, Tensor):
                return r
            if isinstance(r, (str, Device)):
                return _to(t, resolve_device(r))
            raise TypeError(f"map_location callable must return a tensor, a device or None, got {type(r).__name__}")
        return place_with
    raise TypeError("map_location must be None, a device (string or ember.device), a dict mapping saved "
                    f"locations to devices, or a callable (tensor, location); got {type(map_location).__name__}")


def _to(t: Tensor, device: Device) -> Tensor:
    if device is CPU:
        return t
    arr = t._data
    span = _span(arr)
    as_strided = _as_strided_of(device)
    if arr.size <= span or as_strided is None:
        return place(arr, device)
    # An overlapping view (an expanded tensor, say) holds more elements than the memory it covers:
    # move only that memory and view it again on the device, rather than materialising every element.
    block = np.lib.stride_tricks.as_strided(arr, (span,), (arr.itemsize,), writeable=False)
    moved = place(np.ascontiguousarray(block), device)._data
    return _make(as_strided(moved, arr.shape, arr.strides), device)


def _as_strided_of(device: Device):
    """The device array module's ``as_strided`` (NumPy and CuPy have one), or None."""
    stride_tricks = getattr(getattr(device.backend.xp, "lib", None), "stride_tricks", None)
    return getattr(stride_tricks, "as_strided", None)


def _span(arr: np.ndarray) -> int:
    """How many elements of memory ``arr`` reaches, from its first element to its last (strides >= 0)."""
    if arr.size == 0:
        return 0
    return 1 + sum((n - 1) * s for n, s in zip(arr.shape, arr.strides)) // arr.itemsize


def new_tensor(arr: np.ndarray, location: str, placer, parameter: bool = False,
               requires_grad: bool = True) -> Tensor:
    """Wrap a freshly loaded host array, place it per ``map_location``, and make it a Parameter if asked."""
    t = placer(_make(arr, CPU), location)
    return make_parameter(t, requires_grad) if parameter else t


def make_parameter(t: Tensor, requires_grad: bool) -> Parameter:
    if not isinstance(t, Tensor):
        raise TypeError(f"a Parameter's data must be a tensor, got {type(t).__name__}")
    return Parameter(t, bool(requires_grad))
