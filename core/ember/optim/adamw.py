"""AdamW: Adam with decoupled weight decay."""
from __future__ import annotations

from .adam import Adam

__all__ = ["AdamW"]


class AdamW(Adam):
    """AdamW (PyTorch's ``torch.optim.AdamW``): Adam where weight decay scales the parameter by
    ``1 - lr * weight_decay`` each step instead of entering the gradient moments (default 1e-2).

    >>> model = ember.nn.Linear(3, 1)
    >>> opt = ember.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 1e-2,
                 amsgrad: bool = False, *, maximize: bool = False, foreach=None, capturable: bool = False,
                 differentiable: bool = False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        for group in self.param_groups:  # AdamW is always decoupled, whatever a checkpoint says
            group["decoupled_weight_decay"] = True
