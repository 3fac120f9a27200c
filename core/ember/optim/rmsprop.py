"""RMSprop."""
from __future__ import annotations

from .optimizer import (Optimizer, _check_flags, _check_lr, _check_nonneg, _effective_grad, _ema_sq_, _increment,
                        _lerp_, _scalar, _scalar_tensor, _zeros_like)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop (PyTorch's ``torch.optim.RMSprop``).

    ``v = alpha*v + (1-alpha)*g*g``; the denominator is ``sqrt(v) + eps``, or with ``centered=True``
    ``sqrt(v - ga*ga) + eps`` where ``ga`` is the moving average of ``g``. Without momentum
    ``p -= lr * g / denom``; with momentum ``b = momentum*b + g / denom`` and ``p -= lr * b``.

    >>> opt = ember.optim.RMSprop(model.parameters(), lr=1e-2, alpha=0.99)
    """

    _param_shaped_state_keys = ("square_avg", "momentum_buffer", "grad_avg")

    def __init__(self, params, lr=1e-2, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0,
                 momentum: float = 0, centered: bool = False, capturable: bool = False, foreach=None,
                 maximize: bool = False, differentiable: bool = False):
        _check_lr(lr)
        _check_nonneg(eps, "epsilon value")
        _check_nonneg(momentum, "momentum value")
        _check_nonneg(weight_decay, "weight_decay value")
        _check_nonneg(alpha, "alpha value")
        _check_flags(differentiable, foreach, None)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered, weight_decay=weight_decay,
                        capturable=capturable, foreach=foreach, maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform one optimization step; returns the closure's loss, if a closure is given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = _scalar(group["lr"])
            alpha, eps, momentum, centered = group["alpha"], group["eps"], group["momentum"], group["centered"]
            for p, pd, gd, state, xp in self._grads(group):
                if not state:
                    state["step"] = _scalar_tensor(0.0)
                    state["square_avg"] = _zeros_like(p)
                    if momentum > 0:
                        state["momentum_buffer"] = _zeros_like(p)
                    if centered:
                        state["grad_avg"] = _zeros_like(p)
                _increment(state["step"])
                g, _ = _effective_grad(xp, pd, gd, group["weight_decay"], group["maximize"])
                v = state["square_avg"]._data
                avg = xp.empty_like(pd)
                _ema_sq_(xp, v, g, alpha, avg)
                if centered:
                    ga = state["grad_avg"]._data
                    _lerp_(xp, ga, g, 1 - alpha, avg)
                    xp.multiply(ga, ga, out=avg)
                    xp.subtract(v, avg, out=avg)
                    xp.sqrt(avg, out=avg)
                else:
                    xp.sqrt(v, out=avg)
                avg += eps
                if momentum > 0:
                    buf = state["momentum_buffer"]._data
                    buf *= momentum
                    xp.divide(g, avg, out=avg)
                    buf += avg
                    xp.multiply(buf, -lr, out=avg)
                else:
                    xp.divide(g, avg, out=avg)
                    avg *= -lr
                pd += avg
        return loss
