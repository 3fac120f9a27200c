"""Adagrad."""
from __future__ import annotations

from .optimizer import _check_flags, _check_hyper, _grad_for, _increment, _scalar_tensor, _UpdateRule, _zeros_like

__all__ = ["Adagrad"]


class Adagrad(_UpdateRule):
    """Adagrad (PyTorch's ``torch.optim.Adagrad``).

    ``s += g*g``; ``p -= lr / (1 + (t-1)*lr_decay) * g / (sqrt(s) + eps)``, with the sum ``s`` starting
    at ``initial_accumulator_value``. State is created for every parameter at construction, as in PyTorch.

    >>> model = ember.nn.Linear(3, 1)
    >>> opt = ember.optim.Adagrad(model.parameters(), lr=1e-2)
    """

    _param_shaped_state_keys = ("sum",)

    def __init__(self, params, lr=1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach=None, *, maximize: bool = False,
                 differentiable: bool = False, fused=None):
        _check_hyper(lr, lr_decay=lr_decay, weight_decay=weight_decay,
                     initial_accumulator_value=initial_accumulator_value, eps=eps)
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

    def _update_one(self, p, pd, gd, state, xp, h) -> None:
        t = _increment(state["step"])
        g = _grad_for(xp, pd, gd, h)
        clr = h.lr / (1 + (t - 1) * h.lr_decay)
        s = state["sum"]._data
        std = xp.empty_like(pd)  # (an array even for a 0-d parameter, so that out= works below)
        xp.multiply(g, g, out=std)
        s += std
        xp.sqrt(s, out=std)
        std += h.eps
        xp.divide(g, std, out=std)
        std *= -clr
        pd += std
