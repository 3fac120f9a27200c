"""``parameters_to_vector`` / ``vector_to_parameters``."""
from __future__ import annotations

from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters) -> Tensor:
    """All parameters flattened and concatenated into one 1-D tensor (differentiable)."""
    from ...ops.shape import cat
    params = list(parameters)
    if not params:
        raise ValueError("parameters_to_vector expects at least one parameter")
    device = params[0].device
    for p in params:
        if p.device != device:
            raise TypeError(f"Found two parameters on different devices, this is currently not supported: "
                            f"{device} and {p.device}")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Copy slices of the 1-D ``vec`` into the parameters' data, in order."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected ember.Tensor, but got: {type(vec).__name__}")
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if vec.dim() != 1 or vec.numel() != total:
        raise ValueError(f"vec has {vec.numel()} elements (shape {tuple(vec.shape)}) but the parameters "
                         f"have {total} in total")
    offset = 0
    with no_grad():
        for p in params:
            n = p.numel()
            p.copy_(vec[offset:offset + n].reshape(p.shape))
            offset += n
