"""Ember: a PyTorch-compatible deep-learning framework on NumPy (CPU) and CuPy (GPU).

>>> import ember
>>> x = ember.randn(3, requires_grad=True)
>>> (x * x).sum().backward()
>>> x.grad  # == 2 * x
"""
from __future__ import annotations

__version__ = "0.1.0"

from ._dtype import (bool, double, dtype, float, float16, float32, float64, get_default_dtype, half, int,
                     int8, int16, int32, int64, long, promote_types, result_type, set_default_dtype, short, uint8)
from ._tensor import Size, Tensor
from .backend import Device, device
from .autograd import enable_grad, inference_mode, no_grad, set_grad_enabled
from .autograd.grad_mode import is_grad_enabled, is_inference_mode_enabled
from . import autograd, backend, cuda
from .ops.creation import *  # noqa: F401,F403
from .ops.conversion import *  # noqa: F401,F403
from .ops.elementwise import *  # noqa: F401,F403
from .ops.reduction import *  # noqa: F401,F403
from .ops.shape import *  # noqa: F401,F403
from .ops.indexing import *  # noqa: F401,F403
from .ops.linalg import *  # noqa: F401,F403
from .ops.random import *  # noqa: F401,F403


def is_tensor(obj) -> bool:
    """True if ``obj`` is an Ember tensor."""
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> bool:
    return input._data.dtype.kind == "f"


def numel(input: Tensor) -> int:
    return input.numel()


from . import nn, optim, utils  # noqa: E402
from .nn._functional.layers import cosine_similarity, pairwise_distance  # noqa: E402  (torch.* too)
from .serialization import load, save  # noqa: E402


def __getattr__(name: str):
    # ember.hub and ember.plugins are imported on first access, so `import ember` loads no plugin machinery.
    if name in ("hub", "plugins"):
        import importlib
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
