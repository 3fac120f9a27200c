"""NAdam: Adam with Nesterov momentum."""
from __future__ import annotations

from .optimizer import (_check_flags, _check_hyper, _grad_for, _increment, _scalar_tensor, _update_moments_,
                        _UpdateRule, _zeros_like)

__all__ = ["NAdam"]


class NAdam(_UpdateRule):
    """NAdam (PyTorch's ``torch.optim.NAdam``).

    With ``mu_t = b1 * (1 - 0.5 * 0.96^(t * momentum_decay))`` and ``P_t = mu_1 * ... * mu_t``:
    ``p -= lr * ((1-mu_t)/(1-P_t) * g + mu_{t+1}/(1-P_t*mu_{t+1}) * m) / (sqrt(v / (1-b2^t)) + eps)``.
    ``decoupled_weight_decay=True`` scales the parameter by ``1 - lr * weight_decay`` (NAdamW).

    >>> model = ember.nn.Linear(3, 1)
    >>> opt = ember.optim.NAdam(model.parameters(), lr=2e-3)
    """

    _scalar_state_keys = ("step", "mu_product")
    _param_shaped_state_keys = ("exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 momentum_decay: float = 4e-3, decoupled_weight_decay: bool = False, *, foreach=None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False):
        _check_hyper(lr, eps=eps, betas=betas, weight_decay=weight_decay, momentum_decay=momentum_decay)
        _check_flags(differentiable, foreach, None)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    @staticmethod
    def _init_state(state, p, group) -> None:
        state["step"] = _scalar_tensor(0.0)
        state["mu_product"] = _scalar_tensor(1.0)
        state["exp_avg"] = _zeros_like(p)
        state["exp_avg_sq"] = _zeros_like(p)

    def _update_one(self, p, pd, gd, state, xp, h) -> None:
        beta1, lr, md = h.beta1, h.lr, h.momentum_decay
        t = _increment(state["step"])
        g = _grad_for(xp, pd, gd, h)
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * md))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * md))
        mu_prod = state["mu_product"]._data
        mu_prod *= mu  # kept in float32, like PyTorch's state tensor
        mu_product = float(mu_prod)
        denom = xp.empty_like(pd)
        m, v = _update_moments_(xp, state, g, beta1, h.beta2, denom)
        xp.divide(v, 1 - h.beta2 ** t, out=denom)
        xp.sqrt(denom, out=denom)
        denom += h.eps
        upd = xp.empty_like(pd)  # (an array even for a 0-d parameter, so that out= works below)
        xp.divide(g, denom, out=upd)
        upd *= -lr * (1.0 - mu) / (1.0 - mu_product)
        pd += upd
        xp.divide(m, denom, out=upd)
        upd *= -lr * mu_next / (1.0 - mu_product * mu_next)
        pd += upd
