"""``ember.accelerator``: the device-agnostic accelerator API of PyTorch 2.6+ (``torch.accelerator``).

Scripts written for current PyTorch pick their device with it instead of ``torch.cuda``::

    device = ember.accelerator.current_accelerator() if ember.accelerator.is_available() else ember.device("cpu")

The accelerator is the first available non-CPU device type: CUDA (CuPy with a GPU) if available, else
a device type registered by a plugin backend. PyTorch fixes its accelerator when it is built and
``current_accelerator()`` names it even when no device is present (unless ``check_available=True``);
Ember has no build-time accelerator, so it returns ``None`` whenever none can be used. Functions that
need a device raise PyTorch's ``RuntimeError`` when there is none.
"""
from __future__ import annotations

import contextlib
from typing import Iterator

from . import backend as _backend
from .backend import Device

__all__ = ["is_available", "current_accelerator", "device_count", "current_device_index", "current_device_idx",
           "set_device_index", "set_device_idx", "device_index", "synchronize", "empty_cache"]

_NONE_AVAILABLE = "Cannot access accelerator device when none is available."


def _accelerator_type() -> str | None:
    """The device type of the accelerator that can be used now (``"cuda"`` first), or ``None``."""
    backends = _backend.registered_backends()
    for name in ["cuda"] + sorted(n for n in backends if n not in ("cpu", "cuda")):
        b = backends.get(name)
        if b is None:
            continue
        try:
            if b.is_available() and b.device_count() > 0:
                return name
        except Exception:  # noqa: BLE001  (a broken plugin backend is not an accelerator)
            continue
    return None


def _require() -> str:
    kind = _accelerator_type()
    if kind is None:
        raise RuntimeError(_NONE_AVAILABLE)
    return kind


def _index_of(device, kind: str) -> int:
    """The device index that ``device`` (``None``, an int, a string or an :class:`ember.device`) names."""
    if device is None:
        return _backend._current_index.get(kind, 0)
    if isinstance(device, int) and not isinstance(device, bool):
        return device
    d = Device(device)
    if d.type != kind:
        raise ValueError(f"{d} is not a device of the current accelerator ({kind!r})")
    return d.index if d.index is not None else _backend._current_index.get(kind, 0)


def is_available() -> bool:
    """True when an accelerator (a GPU through CuPy, or a plugin's device) can be used.

    >>> ember.accelerator.is_available()     # on a CPU-only machine
    False
    """
    return _accelerator_type() is not None


def current_accelerator(check_available: bool = False) -> Device | None:
    """The accelerator's device type as an :class:`ember.device` (``device(type='cuda')``), or ``None``.

    ``check_available`` is accepted for PyTorch's signature: Ember only ever reports an available accelerator.
    """
    kind = _accelerator_type()
    return None if kind is None else Device(kind)


def device_count() -> int:
    """How many devices the accelerator has (0 without one)."""
    kind = _accelerator_type()
    return 0 if kind is None else int(_backend.get_backend(kind).device_count())


def current_device_index() -> int:
    """The index of the accelerator's current device; ``RuntimeError`` without an accelerator."""
    return _backend._current_index.get(_require(), 0)


def set_device_index(device, /) -> None:
    """Make ``device`` (an index, ``"cuda:1"`` or an :class:`ember.device`) the accelerator's current device."""
    kind = _require()
    index = _index_of(device, kind)
    count = _backend.get_backend(kind).device_count()
    if not 0 <= index < count:
        raise RuntimeError(f"invalid device index {index}: the {kind} accelerator has {count} device(s)")
    _backend._current_index[kind] = index


@contextlib.contextmanager
def device_index(device, /) -> Iterator[None]:
    """Within the block, ``device`` is the current accelerator device; ``None`` changes nothing.

    >>> with ember.accelerator.device_index(None):
    ...     pass
    """
    if device is None:
        yield
        return
    kind = _require()
    previous = _backend._current_index.get(kind, 0)
    set_device_index(device)
    try:
        yield
    finally:
        _backend._current_index[kind] = previous


def synchronize(device=None, /) -> None:
    """Wait until the work queued on ``device`` (default: the current accelerator device) is done."""
    kind = _require()
    _backend.get_backend(kind).synchronize(_index_of(device, kind))


def empty_cache() -> None:
    """Give cached, unused accelerator memory back, where the backend keeps such a cache."""
    release = getattr(_backend.get_backend(_require()), "empty_cache", None)
    if callable(release):
        release()


# Names PyTorch 2.6 introduced and later renamed; kept, as PyTorch keeps them.
current_device_idx = current_device_index
set_device_idx = set_device_index
