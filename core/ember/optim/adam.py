"""Adam (and, with decoupled weight decay, AdamW)."""
from __future__ import annotations

from .._tensor import Tensor
from .optimizer import (Optimizer, _check_betas, _check_flags, _check_lr, _check_nonneg, _effective_grad, _ema_sq_,
                        _increment, _lerp_, _scalar, _scalar_tensor, _zeros_like)

__all__ = ["Adam"]


class Adam(Optimizer):
    """Adam (PyTorch's ``torch.optim.Adam``).

    ``m = b1*m + (1-b1)*g``, ``v = b2*v + (1-b2)*g*g`` (``amsgrad``: ``v_max = max(v_max, v)`` is used
    instead of ``v``), ``p -= lr / (1-b1^t) * m / (sqrt(v) / sqrt(1-b2^t) + eps)``.
    ``weight_decay`` adds ``wd * p`` to the gradient, or with ``decoupled_weight_decay=True`` (AdamW)
    scales the parameter by ``1 - lr * wd`` first.

    >>> opt = ember.optim.Adam(model.parameters(), lr=1e-3)
    """

    _param_shaped_state_keys = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 amsgrad: bool = False, *, foreach=None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused=None, decoupled_weight_decay: bool = False):
        _check_lr(lr)
        _check_nonneg(eps, "epsilon value")
        _check_betas(betas)
        _check_nonneg(weight_decay, "weight_decay value")
        if isinstance(betas[0], Tensor) != isinstance(betas[1], Tensor):
            raise ValueError("betas must be either both floats or both Tensors")
        _check_flags(differentiable, foreach, fused)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform one optimization step; returns the closure's loss, if a closure is given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = _scalar(group["lr"])
            beta1, beta2 = (_scalar(b) for b in group["betas"])
            eps, wd, amsgrad = group["eps"], group["weight_decay"], group["amsgrad"]
            decoupled = group["decoupled_weight_decay"]
            for p, pd, gd, state, xp in self._grads(group):
                if not state:
                    state["step"] = _scalar_tensor(0.0)
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_avg_sq"] = _zeros_like(p)
                if amsgrad and "max_exp_avg_sq" not in state:  # also when amsgrad is switched on later
                    state["max_exp_avg_sq"] = _zeros_like(p)
                t = _increment(state["step"])
                if wd != 0 and decoupled:
                    pd *= 1 - lr * wd
                g, _ = _effective_grad(xp, pd, gd, 0 if decoupled else wd, group["maximize"])
                m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
                tmp = xp.empty_like(pd)
                _lerp_(xp, m, g, 1 - beta1, tmp)
                _ema_sq_(xp, v, g, beta2, tmp)
                if amsgrad:
                    vmax = state["max_exp_avg_sq"]._data
                    xp.maximum(vmax, v, out=vmax)
                    v = vmax
                step_size = lr / (1 - beta1 ** t)
                # denom = sqrt(v) / sqrt(1 - b2^t) + eps;  p -= step_size * m / denom
                xp.sqrt(v, out=tmp)
                tmp /= (1 - beta2 ** t) ** 0.5
                tmp += eps
                xp.divide(m, tmp, out=tmp)
                tmp *= -step_size
                pd += tmp
        return loss
