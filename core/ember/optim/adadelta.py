"""Adadelta."""
from __future__ import annotations

from .optimizer import (_check_flags, _check_lr, _check_nonneg, _ema_sq_, _grad_for, _increment, _scalar_tensor,
                        _UpdateRule, _zeros_like)

__all__ = ["Adadelta"]


class Adadelta(_UpdateRule):
    """Adadelta (PyTorch's ``torch.optim.Adadelta``).

    ``v = rho*v + (1-rho)*g*g``; ``delta = sqrt(u + eps) / sqrt(v + eps) * g``;
    ``u = rho*u + (1-rho)*delta*delta``; ``p -= lr * delta``.

    >>> model = ember.nn.Linear(3, 1)
    >>> opt = ember.optim.Adadelta(model.parameters())
    """

    _param_shaped_state_keys = ("square_avg", "acc_delta")

    def __init__(self, params, lr=1.0, rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0, foreach=None, *,
                 capturable: bool = False, maximize: bool = False, differentiable: bool = False):
        _check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_nonneg(eps, "epsilon value")
        _check_nonneg(weight_decay, "weight_decay value")
        _check_flags(differentiable, foreach, None)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize, capturable=capturable,
                        foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    @staticmethod
    def _init_state(state, p, group) -> None:
        state["step"] = _scalar_tensor(0.0)
        state["square_avg"] = _zeros_like(p)
        state["acc_delta"] = _zeros_like(p)

    def _update_one(self, p, pd, gd, state, xp, h) -> None:
        rho, eps = h.rho, h.eps
        _increment(state["step"])
        g = _grad_for(xp, pd, gd, h)
        v, u = state["square_avg"]._data, state["acc_delta"]._data
        std = xp.empty_like(pd)
        _ema_sq_(xp, v, g, rho, std)
        xp.add(v, eps, out=std)
        xp.sqrt(std, out=std)
        delta = xp.empty_like(pd)  # (an array even for a 0-d parameter, so that out= works below)
        xp.add(u, eps, out=delta)
        xp.sqrt(delta, out=delta)
        delta /= std
        delta *= g
        _ema_sq_(xp, u, delta, rho, std)
        delta *= -h.lr
        pd += delta
