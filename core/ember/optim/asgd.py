"""ASGD (averaged stochastic gradient descent)."""
from __future__ import annotations

import numpy as np

from .. import _dtype as dt
from .._tensor import _make
from ..ops._dispatch import xp_of
from .optimizer import _check_flags, _check_hyper, _increment, _scalar, _scalar_tensor, _UpdateRule, _zeros_like
from .rprop import _contiguous_real, _real_view

__all__ = ["ASGD"]


def _scalar_state(xp, value: float, device):
    """A 0-d state tensor on ``device`` in PyTorch's dtype for scalar optimizer state: float64 when
    the default dtype is float64, float32 otherwise (so ``eta`` is rounded as PyTorch rounds it)."""
    dtype = np.float64 if dt.get_default_dtype() is dt.float64 else np.float32
    return _make(xp.asarray(value, dtype=dtype), device)


class ASGD(_UpdateRule):
    """Averaged SGD (PyTorch's ``torch.optim.ASGD``).

    ``p = p * (1 - lambd * eta) - eta * g`` (``g`` plus ``weight_decay * p``, negated for
    ``maximize``); the average ``ax`` follows ``p`` exactly until step ``t0`` and then is the running
    mean ``ax += mu * (p - ax)``. After step ``t``: ``eta = lr / (1 + lambd * lr * t) ** alpha`` and
    ``mu = 1 / max(1, t - t0)``. The state holds ``step``, ``eta``, ``mu`` (0-d tensors) and ``ax``.

    >>> model = ember.nn.Linear(3, 1)
    >>> opt = ember.optim.ASGD(model.parameters(), lr=1e-2, t0=100)
    >>> model(ember.ones(4, 3)).sum().backward()
    >>> opt.step()                          # ... train; then evaluate with the averaged weights:
    >>> averaged = [opt.state[p]["ax"] for p in model.parameters()]
    """

    _param_shaped_state_keys = ("ax",)

    def __init__(self, params, lr=1e-2, lambd: float = 1e-4, alpha: float = 0.75, t0: float = 1e6,
                 weight_decay: float = 0, foreach=None, maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False):
        _check_hyper(lr, weight_decay=weight_decay)
        _check_flags(differentiable, foreach, None)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    @staticmethod
    def _init_state(state, p, group) -> None:
        xp = xp_of(p)
        state["step"] = _scalar_tensor(0.0)
        state["eta"] = _scalar_state(xp, _scalar(group["lr"]), p._device)
        state["mu"] = _scalar_state(xp, 1.0, p._device)
        state["ax"] = _zeros_like(p)

    def _update_one(self, p, pd, gd, state, xp, h) -> None:
        lr, lambd = h.lr, h.lambd
        t = _increment(state["step"])
        pr = _real_view(xp, pd)
        g = _contiguous_real(xp, gd)
        if h.maximize:
            g = xp.negative(g)
        if h.weight_decay != 0:
            g = g + h.weight_decay * pr
        eta = float(state["eta"]._data)  # the stored value (rounded to the state's dtype)
        pr *= 1 - lambd * eta
        pr -= eta * g
        ax = _real_view(xp, state["ax"]._data)
        mu = float(state["mu"]._data)
        if mu != 1:
            ax += (pr - ax) * mu
        else:
            ax[...] = pr
        state["eta"]._data[...] = lr / ((1 + lambd * lr * t) ** h.alpha)
        state["mu"]._data[...] = 1 / max(1, t - h.t0)
