"""Helpers of the model builders (torchvision's ``models/_utils.py``): channel rounding, the default
initialisation, and the weights argument every builder takes (resolved, checked against the
configuration it implies, loaded).
"""
from __future__ import annotations

import math

from ember import nn
from ember.plugins.weights import WeightsEnum, ovewrite_named_param  # noqa: F401 (the builders' import)

__all__ = ["make_divisible", "init_weights", "ovewrite_named_param", "handle_legacy_weights", "load_weights"]


def make_divisible(v: float, divisor: int, min_value: int | None = None) -> int:
    """``v`` rounded to the nearest multiple of ``divisor`` (at least ``min_value``), never more than 10% below
    ``v``: the channel rounding of MobileNet/EfficientNet."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def init_weights(model: nn.Module, linear: str = "normal") -> None:
    """torchvision's classifier initialisation: conv kaiming-normal (fan_out), norms 1/0, and linear layers
    ``"normal"`` (N(0, 0.01)) or ``"uniform"`` (U(+-1/sqrt(out_features)), EfficientNet's)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            if linear == "uniform":
                bound = 1.0 / math.sqrt(m.out_features)
                nn.init.uniform_(m.weight, -bound, bound)
            else:
                nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)


def handle_legacy_weights(enum_cls: type[WeightsEnum] | None, weights, builder: str):
    """Resolve a builder's ``weights`` argument (member, name, ``"DEFAULT"`` or ``None``) against its enum."""
    if weights is None:
        return None
    if enum_cls is None:
        raise ValueError(f"{builder}: no pretrained weights are available for this model; use weights=None")
    return enum_cls.verify(weights)


def load_weights(model: nn.Module, weights, progress: bool = True) -> nn.Module:
    """Load ``weights`` (verified against their sha256) into ``model`` and return it."""
    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
    return model
