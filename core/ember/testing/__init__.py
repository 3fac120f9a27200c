"""Helpers for testing ops and plugins (used by Ember's own tests and by plugin authors).

* :func:`assert_close`, :func:`make_tensor`: comparisons with PyTorch's default tolerances, seeded inputs;
* :func:`check_op` / :class:`OpTest`: the op-test harness (forward against a NumPy reference across
  dtypes and on non-contiguous inputs, backward and double backward against finite differences);
* :func:`check_docstring_examples`: every ``>>>`` example of a package runs and shows what it prints;
* :class:`NumpyAccelerator`: a stand-in accelerator to test device plumbing without a GPU.

>>> import ember
>>> from ember.testing import assert_close, make_tensor
>>> assert_close(ember.ones(2) * 2, [2.0, 2.0])
"""
from __future__ import annotations

import numpy as np

from .. import _dtype as dt
from .._tensor import Tensor
from ..backend import Backend, CPUBackend

__all__ = ["assert_close", "make_tensor", "check_op", "OpTest", "check_docstring_examples", "NumpyAccelerator",
           "Backend"]  # Backend: for plugin tests that subclass it

_TOLS = {"float16": (1e-3, 1e-5), "float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7), "complex64": (1.3e-6, 1e-5),
         "complex128": (1e-7, 1e-7)}


def _host(x):
    if isinstance(x, Tensor):
        return x.detach()._host()
    return np.asarray(x)


def assert_close(actual, expected, *, rtol: float | None = None, atol: float | None = None,
                 equal_nan: bool = False, check_dtype: bool = False, msg: str | None = None) -> None:
    """Assert two tensors/arrays/numbers are close (PyTorch's default tolerances per dtype)."""
    a, e = _host(actual), _host(expected)
    if check_dtype and isinstance(actual, Tensor) and isinstance(expected, Tensor) and actual.dtype is not expected.dtype:
        raise AssertionError(f"dtype mismatch: {actual.dtype} vs {expected.dtype}")
    if a.shape != e.shape:
        raise AssertionError(f"shape mismatch: {a.shape} vs {e.shape}" + (f" ({msg})" if msg else ""))
    if rtol is None or atol is None:
        dr, da = _TOLS.get(a.dtype.name, (0.0, 0.0))
        rtol = dr if rtol is None else rtol
        atol = da if atol is None else atol
    if a.dtype.kind in "fc" or e.dtype.kind in "fc":
        # Complex values are compared as complex numbers (|a - e| <= atol + rtol |e|), as PyTorch does.
        wide = np.complex128 if "c" in (a.dtype.kind, e.dtype.kind) else np.float64
        ok = np.isclose(a.astype(wide), e.astype(wide), rtol=rtol, atol=atol, equal_nan=equal_nan)
    else:
        ok = a == e
    if not np.all(ok):
        bad = np.argwhere(~np.asarray(ok))
        first = tuple(bad[0]) if bad.size else ()
        raise AssertionError(
            f"tensors are not close: {int((~np.asarray(ok)).sum())} of {a.size} elements differ; "
            f"first at index {first}: {a[first] if a.ndim else a} vs {e[first] if e.ndim else e} "
            f"(rtol={rtol}, atol={atol})" + (f" ({msg})" if msg else ""))


def make_tensor(*shape, dtype=dt.float64, device="cpu", low: float = -1.0, high: float = 1.0,
                requires_grad: bool = False, seed: int | None = None) -> Tensor:
    """A tensor of uniform random values in [low, high) (integers for integer dtypes; for complex
    dtypes the real and imaginary parts each)."""
    from ..ops.creation import tensor
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    rng = np.random.default_rng(seed)
    d = dt.to_dtype(dtype)
    if d.is_floating_point:
        arr = rng.uniform(low, high, size=shape).astype(d.np)
    elif d.is_complex:
        arr = (rng.uniform(low, high, size=shape) + 1j * rng.uniform(low, high, size=shape)).astype(d.np)
    elif d is dt.bool:
        arr = rng.integers(0, 2, size=shape).astype(bool)
    else:
        arr = rng.integers(int(low), int(high) + 1, size=shape).astype(d.np)
    return tensor(arr, device=device, requires_grad=requires_grad)


class NumpyAccelerator(CPUBackend):
    """A NumPy-backed stand-in accelerator with ``count`` devices, for testing device plumbing
    without a GPU. Arrays are copied on every transfer, as they would be to real device memory.

    >>> ember.backend.register_backend(NumpyAccelerator("cuda", count=2))   # pretend CUDA
    """

    def __init__(self, name: str = "accel", count: int = 2):
        self.name = name
        self.count = count
        self.synchronized = 0

    def device_count(self) -> int:
        return self.count

    def from_host(self, array, index):
        return np.array(array, copy=True)

    def to_host(self, array):
        return np.array(array, copy=True)

    def move(self, array, index):
        return np.array(array, copy=True)

    def synchronize(self, index=None):
        self.synchronized += 1


from .doctests import check_docstring_examples  # noqa: E402
from .optest import OpTest, check_op  # noqa: E402  (it uses assert_close, defined above)
