"""Rprop (resilient backpropagation)."""
from __future__ import annotations

from .._tensor import Tensor, _make
from ..ops._dispatch import xp_of
from .optimizer import _check_flags, _check_lr, _increment, _scalar, _scalar_tensor, _UpdateRule, _zeros_like

__all__ = ["Rprop"]


def _real_view(xp, a):
    """A real view of array ``a`` (complex entries as (real, imag) pairs, PyTorch's ``view_as_real``),
    or ``a`` itself when it is real. Complex arrays must be contiguous (parameters and state are)."""
    if a.dtype.kind != "c":
        return a
    return a.view(a.real.dtype)


def _full_like(p: Tensor, fill: float) -> Tensor:
    """A state tensor shaped like ``p`` filled with ``fill`` (for a complex ``p``: ``fill`` in both the
    real and the imaginary part, as PyTorch's initial step sizes)."""
    value = complex(fill, fill) if p._data.dtype.kind == "c" else fill
    return _make(xp_of(p).full(p._data.shape, value, dtype=p._data.dtype), p._device)


def _contiguous_real(xp, a):
    """Like :func:`_real_view` for a read-only operand (a gradient may be a broadcast view)."""
    return _real_view(xp, xp.ascontiguousarray(a)) if a.dtype.kind == "c" else a


class Rprop(_UpdateRule):
    """Rprop (PyTorch's ``torch.optim.Rprop``): sign-based steps with a per-entry step size.

    Each entry's step size (starting at ``lr``) is multiplied by ``etaplus`` when the gradient kept
    its sign since the last step, by ``etaminus`` when it flipped (and that entry then skips its
    update and forgets its gradient), and is clamped to ``step_sizes = (min, max)``; the parameter
    moves by ``-sign(g) * step_size``. Complex parameters are treated as pairs of real numbers.

    >>> model = ember.nn.Linear(3, 1)
    >>> opt = ember.optim.Rprop(model.parameters(), lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50))
    """

    _param_shaped_state_keys = ("prev", "step_size")

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable: bool = False,
                 foreach=None, maximize: bool = False, differentiable: bool = False):
        _check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        _check_flags(differentiable, foreach, None)
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    @staticmethod
    def _init_state(state, p, group) -> None:
        state["step"] = _scalar_tensor(0.0)
        state["prev"] = _zeros_like(p)
        state["step_size"] = _full_like(p, _scalar(group["lr"]))

    def _update_one(self, p, pd, gd, state, xp, h) -> None:
        _increment(state["step"])
        g = _contiguous_real(xp, gd)
        if h.maximize:
            g = xp.negative(g)
        prev = _real_view(xp, state["prev"]._data)
        step_size = _real_view(xp, state["step_size"]._data)
        etaminus, etaplus = h.etas
        step_min, step_max = h.step_sizes
        self._update(xp, _real_view(xp, pd), g, prev, step_size, etaminus, etaplus, step_min, step_max)

    @staticmethod
    def _update(xp, p, g, prev, step_size, etaminus, etaplus, step_min, step_max) -> None:
        sign = xp.sign(g * prev)
        flipped = sign < 0
        # sign -> factor: + -> etaplus, - -> etaminus, 0 -> 1 (NaN stays NaN); in the parameter's dtype.
        factor = xp.where(sign > 0, etaplus, xp.where(flipped, etaminus, xp.where(sign == 0, 1, sign)))
        step_size *= factor.astype(step_size.dtype, copy=False)
        xp.clip(step_size, step_min, step_max, out=step_size)
        # Where the sign flipped the step overshot: skip this update and forget the gradient, so that
        # the next step neither grows nor shrinks that entry's step size.
        g = xp.where(flipped, 0, g).astype(p.dtype, copy=False)
        p -= xp.sign(g) * step_size
        prev[...] = g
