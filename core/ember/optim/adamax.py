"""Adamax: Adam with the infinity norm."""
from __future__ import annotations

from .optimizer import (_check_flags, _check_hyper, _grad_for, _increment, _lerp_, _scalar_tensor, _UpdateRule,
                        _zeros_like)

__all__ = ["Adamax"]


class Adamax(_UpdateRule):
    """Adamax (PyTorch's ``torch.optim.Adamax``).

    ``m = b1*m + (1-b1)*g``; ``u = max(b2*u, |g| + eps)``; ``p -= lr / (1 - b1^t) * m / u``.

    >>> model = ember.nn.Linear(3, 1)
    >>> opt = ember.optim.Adamax(model.parameters(), lr=2e-3)
    """

    _param_shaped_state_keys = ("exp_avg", "exp_inf")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0, foreach=None,
                 *, maximize: bool = False, differentiable: bool = False, capturable: bool = False):
        _check_hyper(lr, eps=eps, betas=betas, weight_decay=weight_decay)
        _check_flags(differentiable, foreach, None)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    @staticmethod
    def _init_state(state, p, group) -> None:
        state["step"] = _scalar_tensor(0.0)
        state["exp_avg"] = _zeros_like(p)
        state["exp_inf"] = _zeros_like(p)

    def _update_one(self, p, pd, gd, state, xp, h) -> None:
        t = _increment(state["step"])
        g = _grad_for(xp, pd, gd, h)
        m, u = state["exp_avg"]._data, state["exp_inf"]._data
        tmp = xp.empty_like(pd)
        _lerp_(xp, m, g, 1 - h.beta1, tmp)
        u *= h.beta2
        xp.abs(g, out=tmp)
        tmp += h.eps
        xp.maximum(u, tmp, out=u)
        xp.divide(m, u, out=tmp)
        tmp *= -h.lr / (1 - h.beta1 ** t)
        pd += tmp
