"""Differentiable operations, one family per module (forward and backward side by side).

Importing this package attaches each family's Tensor methods.
"""
from . import creation, conversion, elementwise, reduction, shape, indexing, linalg, random  # noqa: F401
