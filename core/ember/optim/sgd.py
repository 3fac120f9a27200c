"""Stochastic gradient descent, with optional (Nesterov) momentum."""
from __future__ import annotations

from .._tensor import _make
from .optimizer import Optimizer, _check_flags, _check_lr, _check_nonneg, _effective_grad, _scalar

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent (PyTorch's ``torch.optim.SGD``).

    With momentum ``mu`` and dampening ``tau``: ``b = mu * b + (1 - tau) * g`` (``b = g`` on the first
    step); the step direction is ``g + mu * b`` with ``nesterov=True``, else ``b``; ``p -= lr * direction``.

    >>> model = ember.nn.Linear(3, 1)
    >>> opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    """

    _param_shaped_state_keys = ("momentum_buffer",)

    def __init__(self, params, lr=1e-3, momentum: float = 0, dampening: float = 0, weight_decay: float = 0,
                 nesterov: bool = False, *, maximize: bool = False, foreach=None, differentiable: bool = False,
                 fused=None):
        _check_lr(lr)
        _check_nonneg(momentum, "momentum value")
        _check_nonneg(_scalar(weight_decay), "weight_decay value")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        _check_flags(differentiable, foreach, fused)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach, differentiable=differentiable,
                        fused=fused)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform one optimization step; returns the closure's loss, if a closure is given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = _scalar(group["lr"])
            momentum, dampening = group["momentum"], group["dampening"]
            nesterov = group["nesterov"]
            for p, pd, gd, state, xp in self._grads(group, with_state=momentum != 0):
                d, owned = _effective_grad(xp, pd, gd, _scalar(group["weight_decay"]), group["maximize"])
                if momentum != 0:
                    buf_t = state.get("momentum_buffer")
                    if buf_t is None:
                        buf = d if owned else d.copy()  # a temporary can become the buffer
                        state["momentum_buffer"] = _make(buf, p._device)
                    else:
                        buf = buf_t._data
                        buf *= momentum
                        if dampening == 0:
                            buf += d
                        else:
                            buf += xp.multiply(d, 1 - dampening)
                    if nesterov:
                        t = xp.multiply(buf, momentum)
                        t += d
                        d, owned = t, True
                    else:
                        d, owned = buf, False
                if owned:
                    d *= -lr
                    pd += d
                else:
                    pd += xp.multiply(d, -lr)
        return loss
