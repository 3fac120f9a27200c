"""Pieces shared by the checkpoint formats: errors, a bounds-checked reader, device placement."""
from __future__ import annotations

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


class CheckpointError(RuntimeError):
    """A checkpoint file is malformed, truncated, corrupted or uses something Ember can't represent."""


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

    def read_array(self, offset: int, np_dtype: np.dtype, shape: tuple, what: str) -> np.ndarray:
        """An owned, native-byte-order array of ``shape`` from little-endian bytes at ``offset``."""
        arr = np.empty(shape, np_dtype)
        raw = arr.reshape(-1).view(np.uint8)
        self.check_range(offset, raw.size, what)
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
    return t if device is CPU else place(t._data, device)


def new_tensor(arr: np.ndarray, location: str, placer, parameter: bool = False,
               requires_grad: bool = True) -> Tensor:
    """Wrap a freshly loaded host array, place it per ``map_location``, and make it a Parameter if asked."""
    t = placer(_make(arr, CPU), location)
    return make_parameter(t, requires_grad) if parameter else t


def make_parameter(t: Tensor, requires_grad: bool) -> Parameter:
    if not isinstance(t, Tensor):
        raise TypeError(f"a Parameter's data must be a tensor, got {type(t).__name__}")
    return Parameter(t, bool(requires_grad))
