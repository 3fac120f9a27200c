"""Adamax: Adam with the infinity norm."""
from __future__ import annotations

from .optimizer import (Optimizer, _check_betas, _check_flags, _check_lr, _check_nonneg, _effective_grad, _increment,
                        _lerp_, _scalar, _scalar_tensor, _zeros_like)

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Adamax (PyTorch's ``torch.optim.Adamax``).

    ``m = b1*m + (1-b1)*g``; ``u = max(b2*u, |g| + eps)``; ``p -= lr / (1 - b1^t) * m / u``.

    >>> opt = ember.optim.Adamax(model.parameters(), lr=2e-3)
    """

    _param_shaped_state_keys = ("exp_avg", "exp_inf")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0, foreach=None,
                 *, maximize: bool = False, differentiable: bool = False, capturable: bool = False):
        _check_lr(lr)
        _check_nonneg(eps, "epsilon value")
        _check_betas(betas)
        _check_nonneg(weight_decay, "weight_decay value")
        _check_flags(differentiable, foreach, None)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform one optimization step; returns the closure's loss, if a closure is given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, eps = _scalar(group["lr"]), group["eps"]
            beta1, beta2 = group["betas"]
            for p, pd, gd, state, xp in self._grads(group):
                if not state:
                    state["step"] = _scalar_tensor(0.0)
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_inf"] = _zeros_like(p)
                t = _increment(state["step"])
                g, _ = _effective_grad(xp, pd, gd, group["weight_decay"], group["maximize"])
                m, u = state["exp_avg"]._data, state["exp_inf"]._data
                tmp = xp.empty_like(pd)
                _lerp_(xp, m, g, 1 - beta1, tmp)
                u *= beta2
                xp.abs(g, out=tmp)
                tmp += eps
                xp.maximum(u, tmp, out=u)
                xp.divide(m, u, out=tmp)
                tmp *= -lr / (1 - beta1 ** t)
                pd += tmp
        return loss
