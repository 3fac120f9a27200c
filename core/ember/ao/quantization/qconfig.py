"""``QConfig``: which observer makes the activation and the weight parameters of a module, and the
ready-made configurations of dynamic quantization (PyTorch's names)."""
from __future__ import annotations

from collections import namedtuple

from ... import _dtype as dt
from .observer import (PlaceholderObserver, default_dynamic_quant_observer, default_per_channel_weight_observer,
                       default_weight_observer)

__all__ = ["QConfig", "default_dynamic_qconfig", "per_channel_dynamic_qconfig", "float16_dynamic_qconfig"]


class QConfig(namedtuple("QConfig", ["activation", "weight"])):
    """Observer factories for a module's activations and weights (``Observer.with_args(...)``).

    >>> from ember.ao.quantization import QConfig, MinMaxObserver, PlaceholderObserver
    >>> QConfig(activation=PlaceholderObserver.with_args(dtype=ember.quint8, is_dynamic=True),
    ...         weight=MinMaxObserver.with_args(dtype=ember.qint8, qscheme=ember.per_tensor_symmetric)).weight().dtype
    ember.qint8
    """

    __slots__ = ()

    def __new__(cls, activation, weight):
        # An observer instance (not a factory) would be shared by every module the config reaches.
        from ...nn.module import Module
        if isinstance(activation, Module) or isinstance(weight, Module):
            raise ValueError("QConfig received observer instance, please pass observer class instead. Use "
                             "MyObserver.with_args(x=1) to override arguments to constructor if needed")
        return super().__new__(cls, activation, weight)


#: PyTorch's default: int8 weights with one symmetric scale per tensor.
default_dynamic_qconfig = QConfig(activation=default_dynamic_quant_observer, weight=default_weight_observer)
#: int8 weights with one symmetric scale per output row (Ember's default for ``quantize_dynamic``).
per_channel_dynamic_qconfig = QConfig(activation=default_dynamic_quant_observer,
                                      weight=default_per_channel_weight_observer)
#: float16 weights, float32 arithmetic.
float16_dynamic_qconfig = QConfig(activation=PlaceholderObserver.with_args(dtype=dt.float16, is_dynamic=True),
                                  weight=PlaceholderObserver.with_args(dtype=dt.float16))
