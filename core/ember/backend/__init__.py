"""Devices and the backend registry.

A :class:`Device` names where a tensor lives (``cpu``, ``cuda:0``). A :class:`Backend`
supplies the array module (``xp``) for a device type and moves arrays to and from the
host. Backends are looked up by device type in a registry, so tests can register a
NumPy-backed stand-in accelerator and plugins can add their own.
"""
from __future__ import annotations

import threading

import numpy as np

__all__ = ["Device", "device", "Backend", "CPUBackend", "register_backend", "get_backend",
           "registered_backends", "unregister_backend"]


class Backend:
    """Array-library adapter for one device type.

    Subclasses set ``name`` and ``xp`` (a NumPy-compatible module) and implement the
    transfers. ``xp`` may be resolved lazily (CuPy is imported only when first used).
    """

    name = "abstract"
    xp = None

    def is_available(self) -> bool:
        return True

    def device_count(self) -> int:
        return 1

    def unavailable_reason(self) -> str:
        return f"device type {self.name!r} is not available"

    def from_host(self, array: np.ndarray, index: int):
        """Copy (or share) a NumPy array onto device ``index``."""
        raise NotImplementedError

    def to_host(self, array) -> np.ndarray:
        """A NumPy array with the contents of a device array."""
        raise NotImplementedError

    def move(self, array, index: int):
        """Move an array of this backend to device ``index`` of the same backend."""
        return self.from_host(self.to_host(array), index)

    def synchronize(self, index: int | None = None) -> None:
        pass

    def index_of(self, array) -> int:
        return 0

    def make_rng(self, seed: int):
        """A random generator with NumPy's Generator methods (random, standard_normal, integers)."""
        return np.random.Generator(np.random.PCG64(seed))


class CPUBackend(Backend):
    name = "cpu"
    xp = np

    def from_host(self, array, index):
        return array

    def to_host(self, array):
        return array

    def move(self, array, index):
        return array


class CuPyBackend(Backend):
    """CUDA through CuPy, imported the first time a CUDA tensor is asked for."""

    name = "cuda"

    def __init__(self):
        self._cupy = None
        self._error = None

    def _load(self):
        if self._cupy is None and self._error is None:
            try:
                import cupy
                cupy.cuda.runtime.getDeviceCount()
                self._cupy = cupy
            except Exception as e:  # ImportError, or CUDA driver/runtime errors
                self._error = e
        return self._cupy

    @property
    def xp(self):
        cp = self._load()
        if cp is None:
            raise RuntimeError(self.unavailable_reason())
        return cp

    def is_available(self) -> bool:
        return self._load() is not None and self.device_count() > 0

    def device_count(self) -> int:
        cp = self._load()
        if cp is None:
            return 0
        try:
            return cp.cuda.runtime.getDeviceCount()
        except Exception:
            return 0

    def unavailable_reason(self) -> str:
        self._load()
        if isinstance(self._error, ImportError):
            return ("CUDA is not available: CuPy is not installed. Install Ember's CUDA extra, "
                    "e.g. `pip install 'ember[cuda]'` (or `pip install cupy-cuda12x`), on a machine with an NVIDIA GPU.")
        if self._error is not None:
            return f"CUDA is not available: CuPy could not reach a GPU ({type(self._error).__name__}: {self._error})"
        return "CUDA is not available: no CUDA device was found"

    def from_host(self, array, index):
        cp = self.xp
        with cp.cuda.Device(index):
            return cp.asarray(array)

    def to_host(self, array):
        return self.xp.asnumpy(array)

    def move(self, array, index):
        cp = self.xp
        if array.device.id == index:
            return array
        with cp.cuda.Device(index):
            return cp.asarray(array)

    def index_of(self, array) -> int:
        return array.device.id

    def synchronize(self, index=None):
        cp = self.xp
        if index is None:
            cp.cuda.Device().synchronize()
        else:
            cp.cuda.Device(index).synchronize()

    def make_rng(self, seed):
        return self.xp.random.default_rng(seed)


_registry: dict[str, Backend] = {}
_lock = threading.Lock()


def register_backend(backend: Backend, name: str | None = None) -> None:
    """Register ``backend`` for a device type (``backend.name`` unless ``name`` is given).

    Registering over an existing type replaces it (tests use this to stand in for CUDA).
    """
    name = name or backend.name
    with _lock:
        _registry[name] = backend


def unregister_backend(name: str) -> None:
    with _lock:
        _registry.pop(name, None)


def get_backend(name: str) -> Backend:
    try:
        return _registry[name]
    except KeyError:
        raise RuntimeError(
            f"unknown device type {name!r}; registered device types: {', '.join(sorted(_registry))}"
        ) from None


def registered_backends() -> dict[str, Backend]:
    return dict(_registry)


register_backend(CPUBackend())
register_backend(CuPyBackend())


class Device:
    """Where a tensor lives: ``ember.device("cpu")``, ``ember.device("cuda:1")``, ``ember.device("cuda", 0)``.

    Devices are interned: equal devices are the same object, so identity is a valid
    (and fast) equality test.
    """

    __slots__ = ("type", "index", "_str")
    _cache: dict = {}

    def __new__(cls, spec, index: int | None = None):
        if type(spec) is Device:
            if index is not None and index != spec.index:
                raise ValueError(f"device {spec} already has an index; got index={index}")
            return spec
        key = (spec, index)
        d = cls._cache.get(key)
        if d is not None:
            return d
        if isinstance(spec, int) and not isinstance(spec, bool):
            dtype_name, idx = "cuda", spec
        elif isinstance(spec, str):
            dtype_name, _, idx_s = spec.strip().partition(":")
            idx = None
            if idx_s:
                if not idx_s.isdigit():
                    raise RuntimeError(f"invalid device string {spec!r}: the index after ':' must be a non-negative integer")
                idx = int(idx_s)
                if index is not None:
                    raise RuntimeError(f"device string {spec!r} has an index and index={index} was also given")
            if index is not None:
                if not isinstance(index, int) or index < 0:
                    raise RuntimeError(f"device index must be a non-negative integer, got {index!r}")
                idx = index
        else:
            raise TypeError(f"expected a device string, index or ember.device, got {type(spec).__name__}")
        if dtype_name not in _registry:
            raise RuntimeError(
                f"invalid device {spec!r}: unknown device type {dtype_name!r}; expected one of "
                + ", ".join(sorted(_registry))
            )
        if dtype_name == "cpu" and idx not in (None, 0):
            raise RuntimeError(f"invalid device {spec!r}: the CPU device has no index other than 0")
        canon = (dtype_name, None if dtype_name == "cpu" else idx)
        d = cls._cache.get(canon)
        if d is None:
            d = object.__new__(cls)
            d.type, d.index = canon
            d._str = d.type if d.index is None else f"{d.type}:{d.index}"
            cls._cache[canon] = d
        cls._cache[key] = d
        return d

    @property
    def backend(self) -> Backend:
        return get_backend(self.type)

    @property
    def xp(self):
        return _registry[self.type].xp

    def resolved(self) -> "Device":
        """This device with an index (``cuda`` -> ``cuda:<current>``); CPU stays ``cpu``."""
        if self.index is not None or self.type == "cpu":
            return self
        return Device(self.type, _current_index.get(self.type, 0))

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self._str

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            try:
                other = Device(other)
            except (RuntimeError, TypeError):
                return False
        return self is other

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self):
        return (Device, (self._str,))


device = Device
_current_index: dict[str, int] = {}
CPU = Device("cpu")
