"""Functional forms of the basic layers: linear, bilinear."""
from __future__ import annotations

from ..._tensor import Tensor, _make
from ...autograd.function import Function
from ...autograd.grad_mode import STATE
from ...ops._dispatch import record, save

__all__ = ["linear", "bilinear"]


class Linear(Function):
    """``y = x W^T + b`` as one node: one BLAS call forward, two backward (a hot path)."""

    _array_forward = True

    @staticmethod
    def backward(ctx, g):
        x, w, b = ctx.saved_tensors
        e = ctx.next_edges
        gx = g.matmul(w) if e[0] is not None else None
        gw = gb = None
        if e[1] is not None:
            g2 = g.reshape(-1, g.shape[-1])
            gw = g2.mT.matmul(x.reshape(-1, x.shape[-1]))
        if b is not None and e[2] is not None:
            gb = g.reshape(-1, g.shape[-1]).sum(0)
        return gx, gw, gb


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias`` over the last dimension of ``input``."""
    xd, wd = input._data, weight._data
    if xd.shape[-1:] != wd.shape[-1:]:
        rows, cols = _rows(xd)
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{cols} and "
                           f"{wd.shape[1]}x{wd.shape[0]})")
    if xd.dtype != wd.dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {input.dtype.name} and {weight.dtype.name}")
    dev = input._device
    if weight._device is not dev or (bias is not None and bias._device is not dev):
        from ...autograd.function import device_mismatch
        raise device_mismatch("linear", dev, weight._device if weight._device is not dev else bias._device)
    out = xd @ wd.T
    if bias is not None:
        out += bias._data
    if STATE.enabled and (input._rg or weight._rg or (bias is not None and bias._rg)):
        return record(Linear, out, dev, (input, weight, bias), (save(input), save(weight),
                                                                 save(bias) if bias is not None else None))
    return _make(out, dev)


def _rows(xd):
    n = 1
    for s in xd.shape[:-1]:
        n *= s
    return (n, xd.shape[-1])


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y_k = x1^T W_k x2 + b_k`` (composite: einsum carries the gradient)."""
    from ...ops.linalg import einsum
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear(): input batch dimensions do not match: got {tuple(input1.shape[:-1])} "
                           f"and {tuple(input2.shape[:-1])}")
    out = einsum("...i,kij,...j->...k", input1, weight, input2)
    return out + bias if bias is not None else out
