"""Differentiable operations, one family per module (forward and backward side by side).

Importing this package attaches each family's Tensor methods.
"""
from . import creation, conversion, elementwise, reduction, shape, indexing, linalg, random  # noqa: F401

import warnings as _warnings

# PyTorch computes log(0) = -inf, x/0 = inf, exp(1000) = inf silently; NumPy warns. Silence those
# floating-point warnings only where Ember's own code calls NumPy (the filter matches the module the
# warning is attributed to), so users' NumPy code keeps its warnings, and the hot path pays nothing.
_warnings.filterwarnings("ignore", message=r"(divide by zero|invalid value|overflow|underflow) encountered",
                         category=RuntimeWarning, module=r"ember(\.|$)")
