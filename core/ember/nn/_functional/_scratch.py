"""Per-thread scratch arrays for the convolution kernels: work arrays (padded inputs, columns,
products) reused from call to call, because touching the pages of a fresh 75 MB array costs more
than the copy into it."""
from __future__ import annotations

import math
import threading

import numpy as np

_local = threading.local()
_POOL_LIMIT = 1 << 29  # larger work arrays are allocated fresh (and freed) each time


def scratch(xp, role: str, shape, dtype):
    """An uninitialised work array that is reused by later calls with the same ``role`` (NumPy only).
    It must not escape: results returned to callers are always fresh arrays.

    >>> scratch(np, "example", (2, 3), np.float32).shape
    (2, 3)
    """
    dtype = np.dtype(dtype)
    n = math.prod(shape) * dtype.itemsize
    if xp is not np or n > _POOL_LIMIT:
        return xp.empty(shape, dtype)
    pool = getattr(_local, "pool", None)
    if pool is None:
        pool = _local.pool = {}
    buf = pool.get(role)
    if buf is None or buf.size < n:
        buf = pool[role] = np.empty(max(n, 64), np.uint8)
    return buf[:n].view(dtype).reshape(shape)
