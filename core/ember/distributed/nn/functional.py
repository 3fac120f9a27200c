"""Differentiable collectives (PyTorch's ``torch.distributed.nn.functional``).

``all_reduce`` returns a new tensor (the input is unchanged) and its gradient is the all-reduced
(summed) gradient: every rank's output depends on every rank's input, so each rank's input gradient
collects the output gradients of all ranks. ``SyncBatchNorm`` builds its batch statistics on it.
"""
from __future__ import annotations

from ...autograd import Function
from .. import _collectives
from .._reduce_op import ReduceOp

__all__ = ["all_reduce"]


class _AllReduceSum(Function):
    @staticmethod
    def forward(ctx, tensor, group):
        ctx.group = group
        out = tensor.clone()
        _collectives.all_reduce(out, ReduceOp.SUM, group)
        return out

    @staticmethod
    def backward(ctx, grad):
        grad = grad.contiguous().clone()
        _collectives.all_reduce(grad, ReduceOp.SUM, ctx.group)
        return grad, None


def all_reduce(tensor, op=ReduceOp.SUM, group=None):
    """The sum of ``tensor`` over all ranks, as a new tensor that autograd differentiates.

    >>> from ember.distributed.nn import all_reduce
    >>> total = all_reduce(ember.ones(2, requires_grad=True))   # doctest: +SKIP
    """
    if op != ReduceOp.SUM:
        raise ValueError(f"ember.distributed.nn.all_reduce differentiates ReduceOp.SUM only, got {op!r}")
    return _AllReduceSum.apply(tensor, group)
