"""``ember.ao.nn``: quantized counterparts of ``ember.nn`` modules."""
from . import quantized

__all__ = ["quantized"]
