"""``ember.ao.quantization`` (``torch.ao.quantization``): dynamic quantization of Linear and LSTM layers.

>>> from ember.ao.quantization import quantize_dynamic
>>> q = quantize_dynamic(ember.nn.Sequential(ember.nn.Linear(16, 16)), {ember.nn.Linear})
>>> sorted(q.state_dict())
['0._packed_params.bias', '0._packed_params.dtype', '0._packed_params.weight', '0._packed_params.weight_scale', \
'0._packed_params.weight_zero_point', '0.scale', '0.zero_point']
"""
from .observer import (MinMaxObserver, ObserverBase, PerChannelMinMaxObserver, PlaceholderObserver,
                       default_dynamic_quant_observer, default_per_channel_weight_observer, default_weight_observer)
from .qconfig import QConfig, default_dynamic_qconfig, float16_dynamic_qconfig, per_channel_dynamic_qconfig
from .quantize import get_default_dynamic_quant_module_mappings, quantize_dynamic

__all__ = ["quantize_dynamic", "get_default_dynamic_quant_module_mappings", "QConfig", "default_dynamic_qconfig",
           "per_channel_dynamic_qconfig", "float16_dynamic_qconfig", "MinMaxObserver", "PerChannelMinMaxObserver",
           "PlaceholderObserver", "ObserverBase", "default_weight_observer", "default_per_channel_weight_observer",
           "default_dynamic_quant_observer"]
