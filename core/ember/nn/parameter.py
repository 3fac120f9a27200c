"""``nn.Parameter``: a leaf tensor that a Module registers as trainable state."""
from __future__ import annotations

from .._tensor import Tensor, _object_new

__all__ = ["Parameter", "Buffer"]


class Parameter(Tensor):
    """A tensor that is a module parameter: assigning it to a Module attribute registers it.

    Shares storage with ``data``; requires grad by default.

    >>> w = ember.nn.Parameter(ember.randn(3, 2))
    """

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True):
        if data is None:
            from ..ops.creation import empty
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter data must be a Tensor, got {type(data).__name__}")
        p = _object_new(cls)
        p._data = data._data
        p._device = data._device
        p._rg = False
        p.grad = None
        p.grad_fn = None
        p._output_nr = 0
        p._vc = data._vc
        p._base = None
        p._hooks = None
        if requires_grad:
            p.requires_grad_(True)
        return p

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self) -> str:
        return "Parameter containing:\n" + Tensor.__repr__(self)

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (Tensor.__reduce_ex__(self, protocol), self._rg))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        t = Tensor.__deepcopy__(self.detach(), memo)
        p = Parameter(t, self._rg)
        if self.grad is not None:
            p.grad = self.grad.__deepcopy__(memo)
        memo[id(self)] = p
        return p


def _rebuild_parameter(tensor_reduce, requires_grad):
    fn, args = tensor_reduce
    return Parameter(fn(*args).detach(), requires_grad)


class Buffer(Tensor):
    """Marks a tensor to be registered as a buffer when assigned to a Module attribute
    (``self.running_mean = nn.Buffer(ember.zeros(3))``)."""

    def __new__(cls, data: Tensor, *, persistent: bool = True):
        b = _object_new(cls)
        for s in ("_data", "_device", "_rg", "grad", "grad_fn", "_output_nr", "_vc", "_base", "_hooks"):
            setattr(b, s, getattr(data, s))
        b.persistent = persistent
        return b

    def __init__(self, data=None, *, persistent=True):
        pass
