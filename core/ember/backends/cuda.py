"""``ember.backends.cuda``: CUDA matmul precision flags with PyTorch's defaults (stored; CuPy computes
float32 matmuls in full float32 precision whatever ``matmul.allow_tf32`` says).

>>> ember.backends.cuda.matmul.allow_tf32 = True
"""
from __future__ import annotations

import importlib.util

__all__ = ["matmul", "is_built"]


class _MatmulFlags:
    """``ember.backends.cuda.matmul``: ``allow_tf32`` and the reduced-precision reduction switches."""

    def __init__(self):
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True

    def __repr__(self) -> str:
        return f"<ember.backends.cuda.matmul {vars(self)}>"


matmul = _MatmulFlags()


def is_built() -> bool:
    """Whether Ember can drive CUDA here: CuPy is installed (a GPU may still be absent; see
    ``ember.cuda.is_available()``)."""
    return importlib.util.find_spec("cupy") is not None
