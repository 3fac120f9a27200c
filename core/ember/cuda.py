"""``ember.cuda``: availability and control of CUDA devices (through the registered ``cuda`` backend)."""
from __future__ import annotations

from .backend import get_backend

__all__ = ["is_available", "device_count", "synchronize", "manual_seed", "manual_seed_all", "current_device",
           "set_device"]


def _backend():
    return get_backend("cuda")


def is_available() -> bool:
    """True when a CUDA backend (CuPy with a GPU, or a registered stand-in) can be used."""
    return _backend().is_available()


def device_count() -> int:
    b = _backend()
    return b.device_count() if b.is_available() else 0


def _require():
    b = _backend()
    if not b.is_available():
        raise RuntimeError(b.unavailable_reason())
    return b


def synchronize(device=None) -> None:
    """Wait for all work queued on ``device`` (default: the current CUDA device)."""
    from .backend import Device
    b = _require()
    index = None if device is None else Device(device if not isinstance(device, int) else f"cuda:{device}").index
    b.synchronize(index)


def current_device() -> int:
    from .backend import _current_index
    _require()
    return _current_index.get("cuda", 0)


def set_device(device) -> None:
    from .backend import Device, _current_index
    idx = device if isinstance(device, int) else Device(device).index
    _require()
    _current_index["cuda"] = idx or 0


def manual_seed(seed: int) -> None:
    """Seed the generator of the current CUDA device (a no-op when CUDA is unavailable, as in PyTorch)."""
    from .ops.random import _seed_device_generators
    _seed_device_generators("cuda", seed, all_devices=False)


def manual_seed_all(seed: int) -> None:
    """Seed the generators of all CUDA devices (a no-op when CUDA is unavailable)."""
    from .ops.random import _seed_device_generators
    _seed_device_generators("cuda", seed, all_devices=True)
