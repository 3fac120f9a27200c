"""Differentiable operations, one family per module (forward and backward side by side).

Each family registers its public ops with its own :class:`~ember.ops._registry.Registry`
(``@registry.op(...)``), which makes the module's ``__all__`` and its ``Tensor`` methods,
in-place variants and aliases in one place. This package module is where those methods are set
on ``Tensor`` (:func:`~ember.ops._registry.attach`), after every family and the autograd engine
have loaded, so no module below this package imports an op (tests/core/test_layering.py).
CONTRIBUTING.md has the recipe for adding an op.
"""
from .._tensor import Tensor as _Tensor
from ..autograd.engine import (tensor_backward as _tensor_backward, tensor_retain_grad as _tensor_retain_grad,
                               tensor_register_post_accumulate_grad_hook as _tensor_post_accumulate_hook)
from . import creation, conversion, elementwise, reduction, shape, indexing, linalg, random, complex, fft, spectral
from ._registry import attach as _attach

_attach(_Tensor, [family.registry for family in (creation, conversion, elementwise, reduction, shape, indexing,
                                                 linalg, random, complex, spectral)])
_Tensor.backward = _tensor_backward
_Tensor.retain_grad = _tensor_retain_grad
_Tensor.register_post_accumulate_grad_hook = _tensor_post_accumulate_hook

import warnings as _warnings

# PyTorch computes log(0) = -inf, x/0 = inf, exp(1000) = inf silently; NumPy warns. Silence those
# floating-point warnings only where Ember's own code calls NumPy (the filter matches the module the
# warning is attributed to), so users' NumPy code keeps its warnings, and the hot path pays nothing.
_warnings.filterwarnings("ignore", message=r"(divide by zero|invalid value|overflow|underflow) encountered",
                         category=RuntimeWarning, module=r"ember(\.|$)")
