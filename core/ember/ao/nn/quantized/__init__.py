"""Quantized modules (``torch.ao.nn.quantized``): the packed weights, and the ``dynamic`` family."""
from . import dynamic
from ._packed import LinearPackedParams

__all__ = ["LinearPackedParams", "dynamic"]
