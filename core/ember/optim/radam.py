"""RAdam: Adam with a rectified adaptive learning rate."""
from __future__ import annotations

from .optimizer import _check_flags, _check_hyper, _grad_for, _increment, _init_moments, _update_moments_, _UpdateRule

__all__ = ["RAdam"]


class RAdam(_UpdateRule):
    """RAdam (PyTorch's ``torch.optim.RAdam``).

    With ``rho_inf = 2/(1-b2) - 1`` and ``rho_t = rho_inf - 2 t b2^t / (1-b2^t)``: while ``rho_t <= 5`` the
    step is ``lr * m / (1-b1^t)`` (SGD with momentum); afterwards it is multiplied by the adaptive term
    ``sqrt(1-b2^t) / (sqrt(v) + eps)`` and the rectification
    ``sqrt((rho_t-4)(rho_t-2) rho_inf / ((rho_inf-4)(rho_inf-2) rho_t))``.
    ``decoupled_weight_decay=True`` scales the parameter by ``1 - lr * weight_decay`` (RAdamW).

    >>> model = ember.nn.Linear(3, 1)
    >>> opt = ember.optim.RAdam(model.parameters(), lr=1e-3)
    """

    _param_shaped_state_keys = ("exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 decoupled_weight_decay: bool = False, *, foreach=None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False):
        _check_hyper(lr, eps=eps, betas=betas, weight_decay=weight_decay)
        _check_flags(differentiable, foreach, None)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    _init_state = staticmethod(_init_moments)

    def _update_one(self, p, pd, gd, state, xp, h) -> None:
        beta1, beta2 = h.beta1, h.beta2
        rho_inf = 2 / (1 - beta2) - 1
        t = _increment(state["step"])
        g = _grad_for(xp, pd, gd, h)
        tmp = xp.empty_like(pd)
        m, v = _update_moments_(xp, state, g, beta1, beta2, tmp)
        bias_correction2 = 1 - beta2 ** t
        rho_t = rho_inf - 2 * t * beta2 ** t / bias_correction2
        upd = xp.divide(m, 1 - beta1 ** t)
        upd *= h.lr
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            xp.sqrt(v, out=tmp)
            tmp += h.eps
            xp.divide(bias_correction2 ** 0.5, tmp, out=tmp)
            upd *= tmp
            upd *= rect
        pd -= upd
