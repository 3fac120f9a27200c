"""``ember.ao`` (PyTorch's ``torch.ao``): model optimisation; today dynamic int8 quantization.

``ember.ao.quantization.quantize_dynamic`` swaps ``nn.Linear`` and ``nn.LSTM`` for the modules of
``ember.ao.nn.quantized.dynamic`` (int8 weights, activations quantized per call).
"""
from . import nn, quantization

__all__ = ["nn", "quantization"]
