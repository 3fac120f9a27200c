"""RMSprop."""
from __future__ import annotations

from .optimizer import (_check_flags, _check_hyper, _ema_sq_, _grad_for, _increment, _lerp_, _scalar_tensor,
                        _UpdateRule, _zeros_like)

__all__ = ["RMSprop"]


class RMSprop(_UpdateRule):
    """RMSprop (PyTorch's ``torch.optim.RMSprop``).

    ``v = alpha*v + (1-alpha)*g*g``; the denominator is ``sqrt(v) + eps``, or with ``centered=True``
    ``sqrt(v - ga*ga) + eps`` where ``ga`` is the moving average of ``g``. Without momentum
    ``p -= lr * g / denom``; with momentum ``b = momentum*b + g / denom`` and ``p -= lr * b``.

    >>> model = ember.nn.Linear(3, 1)
    >>> opt = ember.optim.RMSprop(model.parameters(), lr=1e-2, alpha=0.99)
    """

    _param_shaped_state_keys = ("square_avg", "momentum_buffer", "grad_avg")

    def __init__(self, params, lr=1e-2, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0,
                 momentum: float = 0, centered: bool = False, capturable: bool = False, foreach=None,
                 maximize: bool = False, differentiable: bool = False):
        _check_hyper(lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        _check_flags(differentiable, foreach, None)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered, weight_decay=weight_decay,
                        capturable=capturable, foreach=foreach, maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    @staticmethod
    def _init_state(state, p, group) -> None:
        state["step"] = _scalar_tensor(0.0)
        state["square_avg"] = _zeros_like(p)
        if group["momentum"] > 0:
            state["momentum_buffer"] = _zeros_like(p)
        if group["centered"]:
            state["grad_avg"] = _zeros_like(p)

    def _update_one(self, p, pd, gd, state, xp, h) -> None:
        alpha, lr = h.alpha, h.lr
        _increment(state["step"])
        g = _grad_for(xp, pd, gd, h)
        v = state["square_avg"]._data
        avg = xp.empty_like(pd)
        _ema_sq_(xp, v, g, alpha, avg)
        if h.centered:
            ga = state["grad_avg"]._data
            _lerp_(xp, ga, g, 1 - alpha, avg)
            xp.multiply(ga, ga, out=avg)
            xp.subtract(v, avg, out=avg)
            xp.sqrt(avg, out=avg)
        else:
            xp.sqrt(v, out=avg)
        avg += h.eps
        if h.momentum > 0:
            buf = state["momentum_buffer"]._data
            buf *= h.momentum
            xp.divide(g, avg, out=avg)
            buf += avg
            xp.multiply(buf, -lr, out=avg)
        else:
            xp.divide(g, avg, out=avg)
            avg *= -lr
        pd += avg
