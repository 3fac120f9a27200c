"""Adagrad."""
from __future__ import annotations

from .optimizer import (Optimizer, _check_flags, _check_lr, _check_nonneg, _effective_grad, _increment, _scalar,
                        _scalar_tensor, _zeros_like)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad (PyTorch's ``torch.optim.Adagrad``).

    ``s += g*g``; ``p -= lr / (1 + (t-1)*lr_decay) * g / (sqrt(s) + eps)``, with the sum ``s`` starting
    at ``initial_accumulator_value``. State is created for every parameter at construction, as in PyTorch.

    >>> opt = ember.optim.Adagrad(model.parameters(), lr=1e-2)
    """

    _param_shaped_state_keys = ("sum",)

    def __init__(self, params, lr=1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach=None, *, maximize: bool = False,
                 differentiable: bool = False, fused=None):
        _check_lr(lr)
        _check_nonneg(lr_decay, "lr_decay value")
        _check_nonneg(weight_decay, "weight_decay value")
        _check_nonneg(initial_accumulator_value, "initial_accumulator_value value")
        _check_nonneg(eps, "epsilon value")
        _check_flags(differentiable, foreach, fused)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(self.state[p], p, group)

    @staticmethod
    def _init_state(state: dict, p, group: dict) -> None:
        state["step"] = _scalar_tensor(0.0)
        state["sum"] = _zeros_like(p, group["initial_accumulator_value"])

    def step(self, closure=None):
        """Perform one optimization step; returns the closure's loss, if a closure is given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, lr_decay, eps = _scalar(group["lr"]), group["lr_decay"], group["eps"]
            for p, pd, gd, state, xp in self._grads(group):
                if not state:  # a parameter of a group added after construction
                    self._init_state(state, p, group)
                t = _increment(state["step"])
                g, _ = _effective_grad(xp, pd, gd, group["weight_decay"], group["maximize"])
                clr = lr / (1 + (t - 1) * lr_decay)
                s = state["sum"]._data
                std = xp.multiply(g, g)
                s += std
                xp.sqrt(s, out=std)
                std += eps
                xp.divide(g, std, out=std)
                std *= -clr
                pd += std
        return loss
