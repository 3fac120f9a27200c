"""Ember: a PyTorch-compatible deep-learning framework on NumPy (CPU) and CuPy (GPU).

>>> import ember
>>> x = ember.randn(3, requires_grad=True)
>>> (x * x).sum().backward()
>>> x.grad  # == 2 * x
"""
from __future__ import annotations

from ._version import __version__

from ._dtype import (bool, cdouble, cfloat, complex64, complex128, double, dtype, float, float16, float32, float64,
                     get_default_dtype, half, int,
                     int8, int16, int32, int64, long, promote_types, qint8, quint8, result_type, set_default_dtype,
                     short, uint8)
from ._qscheme import (per_channel_affine, per_channel_symmetric, per_tensor_affine, per_tensor_symmetric,
                       qscheme)
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
from .ops.complex import *  # noqa: F401,F403
from .ops.spectral import *  # noqa: F401,F403


def is_tensor(obj) -> bool:
    """True if ``obj`` is an Ember tensor."""
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> bool:
    return input._data.dtype.kind == "f"


def numel(input: Tensor) -> int:
    return input.numel()


from . import fft  # noqa: E402  (torch.fft: a module, as in PyTorch)
from . import nn, optim, utils  # noqa: E402
from .nn._functional.layers import cosine_similarity, pairwise_distance  # noqa: E402  (torch.* too)
from .serialization import load, save  # noqa: E402
from ._compile import compile  # noqa: E402,A004
from ._determinism import (are_deterministic_algorithms_enabled, get_deterministic_debug_mode,  # noqa: E402
                           is_deterministic_algorithms_warn_only_enabled, set_deterministic_debug_mode,
                           use_deterministic_algorithms)
from ._threads import get_num_threads, set_num_threads  # noqa: E402

# Imported on first access: the plugin machinery (hub, plugins) and namespaces that scripts name but
# seldom use (accelerator, backends, jit, onnx, distributed, multiprocessing, ao, profiler), and the fine-tuning
# workflow (``ember.finetune``, a callable module), so `import ember` stays fast.
_LAZY_SUBMODULES = ("hub", "plugins", "accelerator", "backends", "jit", "onnx", "distributed", "multiprocessing",
                    "ao", "finetune", "profiler")


def __getattr__(name: str):
    if name in _LAZY_SUBMODULES:
        import importlib
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_SUBMODULES))
