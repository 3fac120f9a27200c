"""Gradient clipping: ``clip_grad_norm_`` and ``clip_grad_value_`` (PyTorch semantics)."""
from __future__ import annotations

import math

from ..._tensor import Tensor, _bump_version, _make
from ...autograd.grad_mode import no_grad

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def get_total_norm(tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """The ``norm_type`` norm of all ``tensors`` together, as if concatenated into one vector."""
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    tensors = list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        from ...ops.creation import tensor
        return tensor(0.0)
    with no_grad():
        xp = tensors[0]._device.xp
        if math.isinf(norm_type):
            reduce = xp.max if norm_type > 0 else xp.min
            total = reduce(xp.stack([reduce(xp.abs(t._data)) for t in tensors]))
        else:
            # Accumulate in float64 so that many small contributions are not lost.
            total = sum(float(xp.sum(xp.abs(t._data.astype(xp.float64)) ** norm_type)) for t in tensors)
            total = xp.asarray(total ** (1.0 / norm_type), dtype=tensors[0]._data.dtype)
        total = _make(xp.asarray(total, dtype=tensors[0]._data.dtype), tensors[0]._device)
    if error_if_nonfinite and not math.isfinite(total.item()):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot "
            "be clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
            "`error_if_nonfinite=False`")
    return total


def clip_grads_with_norm_(parameters, max_norm: float, total_norm: Tensor, foreach=None) -> None:
    """Scale gradients in place by ``max_norm / (total_norm + 1e-6)`` when that is below 1."""
    coef = float(max_norm) / (total_norm.item() + 1e-6)
    if coef >= 1.0:
        return
    with no_grad():
        for g in _grads(parameters):
            g.mul_(coef)


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach=None) -> Tensor:
    """Rescale gradients so their total norm is at most ``max_norm``; returns the norm before clipping.

    >>> ember.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    parameters = list(parameters)
    total = get_total_norm(_grads(parameters), norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total)
    return total


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient element into ``[-clip_value, clip_value]`` in place."""
    clip_value = float(clip_value)
    with no_grad():
        for g in _grads(parameters):
            xp = g._device.xp
            xp.clip(g._data, -clip_value, clip_value, out=g._data)
            _bump_version(g)
