"""``ember.set_num_threads`` / ``ember.get_num_threads``: the size of the BLAS thread pool.

Ember's heavy work (matmul, and the convolutions and recurrent layers built on it) runs in NumPy's
BLAS, so its thread pool is what PyTorch's intra-op thread count maps to. It is controlled through:

1. ``threadpoolctl`` when that package is installed (it is not a dependency of Ember; scikit-learn
   installs it): it reaches every BLAS loaded in the process (NumPy's and SciPy's OpenBLAS, MKL, BLIS);
2. otherwise OpenBLAS's own C API (``openblas_set_num_threads``/``openblas_get_num_threads``), called
   through ``ctypes`` on the OpenBLAS library that NumPy's wheels bundle.

Where neither reaches a BLAS (NumPy built on Apple's Accelerate, say), ``set_num_threads`` warns once
and ``get_num_threads`` reports the number last set (or the CPU count). Nothing here is imported or
called by ``import ember``.
"""
from __future__ import annotations

import glob
import os
import warnings

__all__ = ["set_num_threads", "get_num_threads"]

_SUFFIXES = ("64_", "", "_64_")            # 64-bit-integer builds mangle the symbol names
_PREFIXES = ("scipy_openblas", "openblas")  # NumPy >= 2 bundles scipy-openblas, older NumPy plain OpenBLAS


class _ThreadpoolctlBLAS:
    """Control through threadpoolctl: every BLAS in the process."""

    method = "threadpoolctl"

    def __init__(self, threadpoolctl):
        self._tpc = threadpoolctl

    def set(self, n: int) -> None:
        self._tpc.threadpool_limits(limits=n, user_api="blas")

    def get(self) -> int | None:
        counts = [info["num_threads"] for info in self._tpc.threadpool_info() if info.get("user_api") == "blas"]
        return counts[0] if counts else None


class _OpenBLAS:
    """Control through OpenBLAS's C API on the library bundled with NumPy."""

    method = "openblas"

    def __init__(self, setter, getter, path: str):
        self._set, self._get, self.path = setter, getter, path

    def set(self, n: int) -> None:
        self._set(n)

    def get(self) -> int | None:
        return int(self._get())


def _numpy_openblas_paths() -> list[str]:
    """OpenBLAS libraries shipped inside NumPy's wheel (``numpy.libs``, ``numpy/.libs``, ``numpy/.dylibs``)."""
    import numpy
    root = os.path.dirname(numpy.__file__)
    dirs = [os.path.join(os.path.dirname(root), "numpy.libs"), os.path.join(root, ".libs"), os.path.join(root, ".dylibs")]
    return sorted(p for d in dirs for p in glob.glob(os.path.join(d, "*openblas*")))


def _load_openblas() -> _OpenBLAS | None:
    import ctypes
    for path in _numpy_openblas_paths():
        try:
            lib = ctypes.CDLL(path)   # already loaded by NumPy: this returns the same library
        except OSError:
            continue
        for prefix in _PREFIXES:
            for suffix in _SUFFIXES:
                setter = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                getter = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                if setter is not None and getter is not None:
                    setter.argtypes, setter.restype, getter.restype = [ctypes.c_int], None, ctypes.c_int
                    return _OpenBLAS(setter, getter, path)
    return None


_controller: list = []   # [controller or None], filled on first use
_last_set: list[int] = []


def _blas():
    """The controller of the BLAS thread pool (found once), or ``None``."""
    if not _controller:
        try:
            import threadpoolctl
            found = _ThreadpoolctlBLAS(threadpoolctl)
        except ImportError:
            found = _load_openblas()
        _controller.append(found)
    return _controller[0]


def set_num_threads(num: int) -> None:
    """Use ``num`` threads in the BLAS that runs Ember's matrix products (PyTorch's intra-op threads).

    >>> ember.set_num_threads(2)
    >>> ember.get_num_threads()
    2
    """
    if isinstance(num, bool) or not isinstance(num, int):
        raise RuntimeError(f"set_num_threads expects an int, but got {type(num).__name__}")
    if num <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    blas = _blas()
    if blas is None:
        warnings.warn("ember.set_num_threads can't reach this NumPy's BLAS (not OpenBLAS, and threadpoolctl is not "
                      "installed): the number is recorded but changes nothing; `pip install threadpoolctl` may help",
                      RuntimeWarning, stacklevel=2)
    else:
        blas.set(num)
    _last_set[:] = [num]


def get_num_threads() -> int:
    """The number of threads of the BLAS that runs Ember's matrix products.

    Without a way to ask the BLAS, the number last given to :func:`set_num_threads`, else the CPU count.
    """
    blas = _blas()
    n = blas.get() if blas is not None else None
    if n is None:
        n = _last_set[0] if _last_set else (os.cpu_count() or 1)
    return n
