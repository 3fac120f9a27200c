"""SparseAdam: "lazy" Adam that updates only the entries a gradient touches."""
from __future__ import annotations

import math

from .optimizer import _check_lr, _scalar, _UpdateRule, _zeros_like

__all__ = ["SparseAdam"]


class SparseAdam(_UpdateRule):
    """SparseAdam (PyTorch's ``torch.optim.SparseAdam``): Adam restricted to the touched entries.

    For the entries where the gradient is non-zero: ``m += (1-b1) * (g - m)``, ``v += (1-b2) * (g*g - v)``
    and ``p -= lr * sqrt(1-b2^t) / (1-b1^t) * m / (sqrt(v) + eps)``; every other entry of ``p``, ``m``
    and ``v`` is left as it is. ``t`` (``state["step"]``, a Python int) counts the steps in which the
    parameter had a gradient.

    Deviation from PyTorch: Ember has no sparse tensors, so the gradient is dense and "touched" means
    *non-zero*. PyTorch's SparseAdam requires a sparse gradient (``nn.Embedding(sparse=True)``) and
    updates every entry the sparse gradient stores, even one whose stored value happens to be zero;
    here such an entry is skipped. For embedding lookups the two agree whenever the looked-up rows'
    gradients have no exact zeros (the usual case). Dense gradients are accepted, where PyTorch raises.

    >>> emb = ember.nn.Embedding(1000, 16, sparse=True)
    >>> opt = ember.optim.SparseAdam(emb.parameters(), lr=1e-3)
    """

    _param_shaped_state_keys = ("exp_avg", "exp_avg_sq")
    _scalar_state_keys = ()  # PyTorch keeps this optimizer's step as a Python int

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps: float = 1e-8, maximize: bool = False):
        _check_lr(lr)
        if not 0.0 < _scalar(lr):
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        for i, b in enumerate(betas):
            if not 0.0 <= b < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {b}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, maximize=maximize))
        complex_params = [[gi, pi] for gi, group in enumerate(self.param_groups)
                          for pi, p in enumerate(group["params"]) if p._data.dtype.kind == "c"]
        if complex_params:
            raise ValueError(f"Complex params at indices {complex_params}: SparseAdam does not support complex "
                             "parameters")

    @staticmethod
    def _init_state(state, p, group) -> None:
        state["step"] = 0
        state["exp_avg"] = _zeros_like(p)
        state["exp_avg_sq"] = _zeros_like(p)

    def _update_one(self, p, pd, gd, state, xp, h) -> None:
        state["step"] += 1
        gd = xp.broadcast_to(gd, pd.shape)
        touched = gd != 0
        if not touched.any():
            return  # an empty sparse gradient: nothing to update (the step still counts)
        g = gd[touched]
        if getattr(h, "maximize", False):
            g = -g
        self._update_entries(xp, pd, touched, g, state["exp_avg"]._data, state["exp_avg_sq"]._data,
                             state["step"], h.lr, h.beta1, h.beta2, h.eps)

    @staticmethod
    def _update_entries(xp, p, touched, g, exp_avg, exp_avg_sq, step, lr, beta1, beta2, eps) -> None:
        """The Adam update of the ``touched`` entries of ``p`` and its moments, gradient values ``g``."""
        m_old = exp_avg[touched]
        v_old = exp_avg_sq[touched]
        m_delta = (g - m_old) * (1 - beta1)
        v_delta = (g * g - v_old) * (1 - beta2)
        m = m_delta + m_old
        v = v_delta + v_old
        exp_avg[touched] = m
        exp_avg_sq[touched] = v
        step_size = lr * math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
        p[touched] += -step_size * (m / (xp.sqrt(v) + eps))
