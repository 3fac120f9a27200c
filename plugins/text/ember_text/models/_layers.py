"""Layers the text models share."""
from __future__ import annotations

from ember import nn

__all__ = ["Linear"]


class Linear(nn.Linear):
    """``nn.Linear`` that applies itself to a ``(..., in_features)`` input as one 2-D matrix product.

    Same parameters, state_dict keys and results as ``nn.Linear``. Why: a ``(N, T, C) @ (C, D)`` product
    goes through NumPy's batched ``matmul``, which does not call BLAS for a broadcast 2-D operand and is
    10-100x slower than ``(N*T, C) @ (C, D)`` on the same numbers (measured with NumPy 2.4); the backward
    pass inherits the 2-D shape. Once ``ember.nn.functional.linear`` flattens its input itself, this class
    can be replaced by ``nn.Linear`` everywhere.
    """

    def forward(self, input):
        if input.dim() <= 2:
            return super().forward(input)
        lead = input.shape[:-1]
        return super().forward(input.reshape(-1, input.shape[-1])).view(*lead, self.out_features)
