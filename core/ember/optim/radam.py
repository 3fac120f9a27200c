"""RAdam: Adam with a rectified adaptive learning rate."""
from __future__ import annotations

from .optimizer import (Optimizer, _check_betas, _check_flags, _check_lr, _check_nonneg, _effective_grad, _ema_sq_,
                        _increment, _lerp_, _scalar, _scalar_tensor, _zeros_like)

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """RAdam (PyTorch's ``torch.optim.RAdam``).

    With ``rho_inf = 2/(1-b2) - 1`` and ``rho_t = rho_inf - 2 t b2^t / (1-b2^t)``: while ``rho_t <= 5`` the
    step is ``lr * m / (1-b1^t)`` (SGD with momentum); afterwards it is multiplied by the adaptive term
    ``sqrt(1-b2^t) / (sqrt(v) + eps)`` and the rectification
    ``sqrt((rho_t-4)(rho_t-2) rho_inf / ((rho_inf-4)(rho_inf-2) rho_t))``.
    ``decoupled_weight_decay=True`` scales the parameter by ``1 - lr * weight_decay`` (RAdamW).

    >>> opt = ember.optim.RAdam(model.parameters(), lr=1e-3)
    """

    _param_shaped_state_keys = ("exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 decoupled_weight_decay: bool = False, *, foreach=None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False):
        _check_lr(lr)
        _check_nonneg(eps, "epsilon value")
        _check_betas(betas)
        _check_nonneg(weight_decay, "weight_decay value")
        _check_flags(differentiable, foreach, None)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform one optimization step; returns the closure's loss, if a closure is given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, eps, wd = _scalar(group["lr"]), group["eps"], group["weight_decay"]
            beta1, beta2 = group["betas"]
            decoupled = group["decoupled_weight_decay"]
            rho_inf = 2 / (1 - beta2) - 1
            for p, pd, gd, state, xp in self._grads(group):
                if not state:
                    state["step"] = _scalar_tensor(0.0)
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_avg_sq"] = _zeros_like(p)
                t = _increment(state["step"])
                if wd != 0 and decoupled:
                    pd *= 1 - lr * wd
                g, _ = _effective_grad(xp, pd, gd, 0 if decoupled else wd, group["maximize"])
                m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
                tmp = xp.empty_like(pd)
                _lerp_(xp, m, g, 1 - beta1, tmp)
                _ema_sq_(xp, v, g, beta2, tmp)
                bias_correction2 = 1 - beta2 ** t
                rho_t = rho_inf - 2 * t * beta2 ** t / bias_correction2
                upd = xp.divide(m, 1 - beta1 ** t)
                upd *= lr
                if rho_t > 5.0:
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                    xp.sqrt(v, out=tmp)
                    tmp += eps
                    xp.divide(bias_correction2 ** 0.5, tmp, out=tmp)
                    upd *= tmp
                    upd *= rect
                pd -= upd
        return loss
