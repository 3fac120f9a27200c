"""NAdam: Adam with Nesterov momentum."""
from __future__ import annotations

from .optimizer import (Optimizer, _check_betas, _check_flags, _check_lr, _check_nonneg, _effective_grad, _ema_sq_,
                        _increment, _lerp_, _scalar, _scalar_tensor, _zeros_like)

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """NAdam (PyTorch's ``torch.optim.NAdam``).

    With ``mu_t = b1 * (1 - 0.5 * 0.96^(t * momentum_decay))`` and ``P_t = mu_1 * ... * mu_t``:
    ``p -= lr * ((1-mu_t)/(1-P_t) * g + mu_{t+1}/(1-P_t*mu_{t+1}) * m) / (sqrt(v / (1-b2^t)) + eps)``.
    ``decoupled_weight_decay=True`` scales the parameter by ``1 - lr * weight_decay`` (NAdamW).

    >>> opt = ember.optim.NAdam(model.parameters(), lr=2e-3)
    """

    _scalar_state_keys = ("step", "mu_product")
    _param_shaped_state_keys = ("exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 momentum_decay: float = 4e-3, decoupled_weight_decay: bool = False, *, foreach=None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False):
        _check_lr(lr)
        _check_nonneg(eps, "epsilon value")
        _check_betas(betas)
        _check_nonneg(weight_decay, "weight_decay value")
        _check_nonneg(momentum_decay, "momentum_decay value")
        _check_flags(differentiable, foreach, None)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform one optimization step; returns the closure's loss, if a closure is given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, eps, wd = _scalar(group["lr"]), group["eps"], group["weight_decay"]
            beta1, beta2 = group["betas"]
            md, decoupled = group["momentum_decay"], group["decoupled_weight_decay"]
            for p, pd, gd, state, xp in self._grads(group):
                if not state:
                    state["step"] = _scalar_tensor(0.0)
                    state["mu_product"] = _scalar_tensor(1.0)
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_avg_sq"] = _zeros_like(p)
                t = _increment(state["step"])
                if wd != 0 and decoupled:
                    pd *= 1 - lr * wd
                g, _ = _effective_grad(xp, pd, gd, 0 if decoupled else wd, group["maximize"])
                mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * md))
                mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * md))
                mu_prod = state["mu_product"]._data
                mu_prod *= mu  # kept in float32, like PyTorch's state tensor
                mu_product = float(mu_prod)
                m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
                denom = xp.empty_like(pd)
                _lerp_(xp, m, g, 1 - beta1, denom)
                _ema_sq_(xp, v, g, beta2, denom)
                xp.divide(v, 1 - beta2 ** t, out=denom)
                xp.sqrt(denom, out=denom)
                denom += eps
                upd = xp.divide(g, denom)
                upd *= -lr * (1.0 - mu) / (1.0 - mu_product)
                pd += upd
                xp.divide(m, denom, out=upd)
                upd *= -lr * mu_next / (1.0 - mu_product * mu_next)
                pd += upd
        return loss
