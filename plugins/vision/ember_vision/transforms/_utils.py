"""Shared by the transform classes: random draws (always from Ember's default generator, so
``ember.manual_seed`` and DataLoader worker seeding make augmentation reproducible) and argument checks."""
from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence

import ember
from ember import Tensor

from . import functional as F


def _rand() -> float:
    return ember.rand(1).item()


def _uniform(low: float, high: float) -> float:
    return ember.empty(1).uniform_(float(low), float(high)).item()


def _randint(low: int, high: int) -> int:
    """An integer in [low, high)."""
    return int(ember.randint(int(low), int(high), size=(1,)).item())


def _setup_size(size, error_msg: str):
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if isinstance(size, Sequence) and len(size) == 1:
        return size[0], size[0]
    if len(size) != 2:
        raise ValueError(error_msg)
    return size


def _check_sequence_input(x, name: str, req_sizes) -> None:
    msg = req_sizes[0] if len(req_sizes) < 2 else " or ".join(str(s) for s in req_sizes)
    if not isinstance(x, Sequence):
        raise TypeError(f"{name} should be a sequence of length {msg}.")
    if len(x) not in req_sizes:
        raise ValueError(f"{name} should be a sequence of length {msg}.")


def _setup_angle(x, name: str, req_sizes=(2,)) -> list[float]:
    if isinstance(x, numbers.Number):
        if x < 0:
            raise ValueError(f"If {name} is a single number, it must be positive.")
        x = [-x, x]
    else:
        _check_sequence_input(x, name, req_sizes)
    return [float(d) for d in x]


def _setup_fill(fill):
    if fill is None:
        return 0
    if not isinstance(fill, (Sequence, numbers.Number)):
        raise TypeError("Fill should be either a sequence or a number.")
    return fill


def _tensor_fill(fill, img):
    """Tensors take the fill as one float per channel."""
    if not isinstance(img, Tensor) or fill is None:
        return fill
    if isinstance(fill, (int, float)):
        return [float(fill)] * F.get_dimensions(img)[0]
    return [float(f) for f in fill]


def _check_scale_ratio(scale, ratio) -> None:
    """The ``scale`` and ``ratio`` ranges of RandomResizedCrop and RandomErasing: sequences, (min, max)."""
    if not isinstance(scale, Sequence):
        raise TypeError("Scale should be a sequence")
    if not isinstance(ratio, Sequence):
        raise TypeError("Ratio should be a sequence")
    if (scale[0] > scale[1]) or (ratio[0] > ratio[1]):
        warnings.warn("Scale and ratio should be of kind (min, max)")


def _area_ratio_draws(area: float, scale, ratio, tries: int = 10):
    """Up to ``tries`` random (area, aspect ratio) pairs: a fraction of ``area`` uniform in ``scale`` and a
    ratio log-uniform in ``ratio`` (the box sampling of RandomResizedCrop and RandomErasing)."""
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(tries):
        target_area = area * _uniform(scale[0], scale[1])
        yield target_area, math.exp(_uniform(log_ratio[0], log_ratio[1]))
