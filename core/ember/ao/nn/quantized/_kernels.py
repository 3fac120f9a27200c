"""The array arithmetic of dynamic int8 quantization (NumPy; no autograd).

What PyTorch's x86 (fbgemm) kernels compute, step by step, so Ember's quantized modules give the
same integers and, up to the last float rounding, the same outputs:

* weights: ``q = clip(rint(w * (1 / scale)), -128, 127)`` with symmetric ``scale = max|w| / 127.5``
  (per output row, or per tensor), zero point 0;
* activations, per call: ``scale, zero_point`` from the min and max of the whole input (the range
  widened to contain 0) onto uint8 with ``reduce_range``: 0..127, not 0..255, because fbgemm's
  u8 x s8 pair sums (``vpmaddubsw``) saturate int16 with a full 8-bit range;
* ``acc = sum_k (qx - zp) * qw`` exactly (int32 in fbgemm), then ``acc * (x_scale * w_scale) + bias``
  in float32.

The exact integer sum runs as a float BLAS product: every term is an integer of magnitude at most
127 * 128, so each partial sum of K terms is an integer below ``K * 16256``; float32 holds every
integer below 2**24 exactly (K <= 1032), float64 every one below 2**53. In that range no rounding
happens in any summation order, so the BLAS result *is* the int32 sum (tests/core/test_quantization.py
checks it against NumPy's int64 matmul at the bound). NumPy's integer matmul has no BLAS and is
many times slower, which is why it is not used.
"""
from __future__ import annotations

import numpy as np

__all__ = ["quantize_array", "activation_qparams", "exact_int_matmul", "linear_dynamic",
           "linear_fp16", "WEIGHT_QMIN", "WEIGHT_QMAX", "ACT_QMIN", "ACT_QMAX"]

WEIGHT_QMIN, WEIGHT_QMAX = -128, 127
ACT_QMIN, ACT_QMAX = 0, 127  # uint8 with reduce_range (see the module docstring)
# fbgemm raises smaller activation scales to this (their reciprocals would lose precision).
_SMALL_SCALE = float(np.float32(6.1e-5))
# Largest magnitude of one product (qx - zp) * qw: |qx - zp| <= 127, |qw| <= 128.
_MAX_TERM = 127 * 128
_F32_EXACT_K = 2 ** 24 // _MAX_TERM  # 1032


def quantize_array(x: np.ndarray, scale, zero_point, qmin: int, qmax: int, dtype) -> np.ndarray:
    """``clip(rint(x * (1 / scale)) + zero_point, qmin, qmax)`` in float32, as ``dtype``.

    Multiplying by the float32 reciprocal (not dividing) is what fbgemm does; ties round to even.
    """
    inv = np.float32(1) / np.asarray(scale, np.float32)
    q = np.rint(np.asarray(x, np.float32) * inv)
    q += np.asarray(zero_point, np.float32)
    return np.clip(q, qmin, qmax, out=q).astype(dtype)


def activation_qparams(lo: float, hi: float, qmin: int = ACT_QMIN, qmax: int = ACT_QMAX) -> tuple[float, int]:
    """``(scale, zero_point)`` mapping ``[lo, hi]`` (widened to contain 0) onto ``qmin..qmax``.

    PyTorch's ChooseQuantizationParams: the scale in float64, then used as float32; a zero scale
    becomes 0.1; scales below 6.1e-5 are raised to it with the range stretched alike; the zero point
    comes from whichever end gives the smaller rounding error and is rounded to even.

    >>> activation_qparams(-1.0, 3.0)
    (0.031496062874794006, 32)
    """
    lo, hi = min(float(np.float32(lo)), 0.0), max(float(np.float32(hi)), 0.0)
    scale = (hi - lo) / (qmax - qmin)
    if np.float32(scale) == 0 or np.isinf(np.float32(1) / np.float32(scale)):
        scale = 0.1
    if scale < _SMALL_SCALE:
        lo, hi = _stretch(lo, hi, float(np.float32(scale)), qmax - qmin)
        scale = _SMALL_SCALE
    from_lo, from_hi = qmin - lo / scale, qmax - hi / scale
    initial = from_lo if abs(qmin) - abs(lo / scale) < abs(qmax) - abs(hi / scale) else from_hi
    zero_point = qmin if initial < qmin else qmax if initial > qmax else int(np.rint(initial))
    return float(np.float32(scale)), zero_point


def _stretch(lo: float, hi: float, scale: float, levels: int) -> tuple[float, float]:
    """The range whose scale is ``_SMALL_SCALE``: the zero end stays, the other end grows."""
    if lo == 0:
        return lo, _SMALL_SCALE * levels
    if hi == 0:
        return -_SMALL_SCALE * levels, hi
    grow = _SMALL_SCALE / scale
    return lo * grow, hi * grow


def exact_int_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` of integer-valued float32 arrays (``|a| <= 127``, ``|b| <= 128``), exactly, as float32.

    float32 BLAS when the inner size K keeps every partial sum below 2**24, float64 BLAS otherwise
    (the module docstring has the bound); the float64 sums are then rounded to float32 once, as
    fbgemm converts its int32 accumulators.

    >>> a = np.full((1, 2000), 127, np.float32); b = np.full((2000, 1), -128, np.float32)
    >>> int(exact_int_matmul(a, b)[0, 0]) == 2000 * 127 * -128
    True
    """
    if a.shape[-1] <= _F32_EXACT_K:
        return a @ b
    return (a.astype(np.float64) @ b.astype(np.float64)).astype(np.float32)


def linear_dynamic(x: np.ndarray, w_q: np.ndarray, w_scale: np.ndarray, bias: np.ndarray | None,
                   w_t: np.ndarray | None = None) -> np.ndarray:
    """``x (..., K) float32 -> (..., N) float32``: quantize ``x`` over all its elements, multiply with
    the int8 weight ``w_q (N, K)`` (scales ``w_scale``: shape ``(N,)`` or ``()``) exactly, rescale, add bias.

    ``w_t`` is ``w_q.T`` as float32, cached by the caller so each call skips the conversion.
    """
    if x.size:
        scale, zp = activation_qparams(x.min(), x.max())
    else:
        scale, zp = activation_qparams(0.0, 0.0)
    # (clip(rint(x / s) + zp, 0, 127) - zp) in three in-place passes: with an integer zp the shift
    # moves into the clip bounds exactly.
    centered = np.multiply(x, np.float32(1) / np.float32(scale), dtype=np.float32)
    np.rint(centered, out=centered)
    np.clip(centered, ACT_QMIN - zp, ACT_QMAX - zp, out=centered)
    if w_t is None:
        w_t = w_q.astype(np.float32).T
    acc = exact_int_matmul(centered.reshape(-1, x.shape[-1]), w_t)
    acc *= np.float32(scale) * np.asarray(w_scale, np.float32)
    if bias is not None:
        acc += bias
    return acc.reshape(x.shape[:-1] + (w_q.shape[0],))


def linear_fp16(x: np.ndarray, w16_t: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """float16-stored weights (``w16_t``: ``(K, N)``), widened and multiplied in float32, as fbgemm's fp16 GEMM."""
    y = x.reshape(-1, x.shape[-1]) @ w16_t.astype(np.float32)
    if bias is not None:
        y += bias
    return y.reshape(x.shape[:-1] + (w16_t.shape[1],))
