"""Adam (and, with decoupled weight decay, AdamW)."""
from __future__ import annotations

from .._tensor import Tensor
from .optimizer import (_check_flags, _check_hyper, _grad_for, _increment, _init_moments, _update_moments_, _UpdateRule,
                        _zeros_like)

__all__ = ["Adam"]


class Adam(_UpdateRule):
    """Adam (PyTorch's ``torch.optim.Adam``).

    ``m = b1*m + (1-b1)*g``, ``v = b2*v + (1-b2)*g*g`` (``amsgrad``: ``v_max = max(v_max, v)`` is used
    instead of ``v``), ``p -= lr / (1-b1^t) * m / (sqrt(v) / sqrt(1-b2^t) + eps)``.
    ``weight_decay`` adds ``wd * p`` to the gradient, or with ``decoupled_weight_decay=True`` (AdamW)
    scales the parameter by ``1 - lr * wd`` first.

    >>> model = ember.nn.Linear(3, 1)
    >>> opt = ember.optim.Adam(model.parameters(), lr=1e-3)
    >>> model(ember.ones(2, 3)).sum().backward()
    >>> opt.step()
    """

    _param_shaped_state_keys = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 amsgrad: bool = False, *, foreach=None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused=None, decoupled_weight_decay: bool = False):
        _check_hyper(lr, eps=eps, betas=betas, weight_decay=weight_decay)
        if isinstance(betas[0], Tensor) != isinstance(betas[1], Tensor):
            raise ValueError("betas must be either both floats or both Tensors")
        _check_flags(differentiable, foreach, fused)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    _init_state = staticmethod(_init_moments)

    def _update_one(self, p, pd, gd, state, xp, h) -> None:
        if h.amsgrad and "max_exp_avg_sq" not in state:  # also when amsgrad is switched on later
            state["max_exp_avg_sq"] = _zeros_like(p)
        t = _increment(state["step"])
        g = _grad_for(xp, pd, gd, h)
        tmp = xp.empty_like(pd)
        m, v = _update_moments_(xp, state, g, h.beta1, h.beta2, tmp)
        if h.amsgrad:
            vmax = state["max_exp_avg_sq"]._data
            xp.maximum(vmax, v, out=vmax)
            v = vmax
        step_size = h.lr / (1 - h.beta1 ** t)
        # denom = sqrt(v) / sqrt(1 - b2^t) + eps;  p -= step_size * m / denom
        xp.sqrt(v, out=tmp)
        tmp /= (1 - h.beta2 ** t) ** 0.5
        tmp += h.eps
        xp.divide(m, tmp, out=tmp)
        tmp *= -step_size
        pd += tmp
