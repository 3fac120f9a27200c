"""In-place variants (``x.exp_()``, ``x.add_(y)``, ``x[0] = 1``): an op computed out of place is
written into the tensor's storage, with PyTorch's autograd rules for leaves, views and versions.

:func:`make_inplace` is the default maker of a registered op's in-place method
(:class:`~ember.ops._registry.Registry`); ops with a faster in-place path bring their own.
"""
from __future__ import annotations

from .._tensor import Tensor, _bump_version, _make
from ..autograd.grad_mode import STATE
from ._dispatch import broadcast_pair_shape, check_writable, result_dtype_check
from ._views import rebase_view

__all__ = ["inplace", "inplace_source", "make_inplace", "check_inplace_allowed", "raise_leaf_inplace"]


def inplace(self: Tensor, result: Tensor, name: str) -> Tensor:
    """Write ``result`` (computed out of place from ``self``) into ``self``'s storage.

    When a gradient is recorded, ``self`` takes ``result``'s place in the graph (its
    ``grad_fn`` becomes the op's node), as PyTorch's in-place ops do.

    >>> import ember
    >>> x = ember.zeros(2)
    >>> inplace(x, ember.ones(2), "fill_") is x, x.tolist()
    (True, [1.0, 1.0])
    """
    sd = self._data
    rd = result._data
    check_writable(sd)
    if rd.shape != sd.shape:
        if broadcast_pair_shape(rd.shape, sd.shape) != sd.shape:
            raise RuntimeError(f"output with shape {list(sd.shape)} doesn't match the broadcast shape {list(rd.shape)}")
    result_dtype_check(name, rd, sd)
    if result.grad_fn is not None:
        if self._base is not None:
            _inplace_on_view(self, result)
        else:
            check_inplace_allowed(self)
            sd[...] = rd
            self.grad_fn = result.grad_fn
            self._output_nr = result._output_nr
            self._rg = True
    else:
        if self._rg and STATE.enabled and self.grad_fn is None:
            raise_leaf_inplace()
        sd[...] = rd
    _bump_version(self)
    return self


def check_inplace_allowed(self: Tensor) -> None:
    """Raise PyTorch's error when ``self`` is a leaf that requires grad, or a view of one."""
    if self.grad_fn is None and self._rg and self._base is None:
        raise_leaf_inplace()
    base = self._base
    if base is not None and base.grad_fn is None and base._rg:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")


def _inplace_on_view(self: Tensor, result: Tensor) -> None:
    """An in-place op through a view: the view's base takes the change into its graph."""
    check_inplace_allowed(self)
    if not rebase_view(self, result):
        raise RuntimeError(
            "Ember cannot record this in-place operation on a view for autograd: the view's base is not "
            "stored contiguously, or the view has another element type (real/imag/view_as_real of a complex "
            "tensor). Apply the op out of place, or call .contiguous() on the base first.")


def raise_leaf_inplace():
    """PyTorch's error for an in-place op on a leaf that requires grad."""
    raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")


def inplace_source(self: Tensor) -> Tensor:
    """What an in-place op computes from: ``self`` itself, or, when autograd records the op,
    a copy of its current values (``self``'s storage is about to be overwritten)."""
    if self._rg and STATE.enabled:
        return _make(self._data.copy(), self._device, True, self.grad_fn, self._output_nr)
    return self


def make_inplace(method, name: str):
    """The in-place method ``name`` of the out-of-place method ``method``:
    ``t.name(*args)`` computed from ``t``'s values and written into ``t``.

    >>> import ember
    >>> x = ember.tensor([1.0, -2.0])
    >>> abs_ = make_inplace(ember.abs, "abs_")
    >>> abs_(x) is x, x.tolist()
    (True, [1.0, 2.0])
    """
    def inplace_method(self, *args, **kwargs):
        return inplace(self, method(inplace_source(self), *args, **kwargs), name)
    inplace_method.__name__ = inplace_method.__qualname__ = name
    return inplace_method
