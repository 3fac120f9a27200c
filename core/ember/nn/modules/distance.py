"""CosineSimilarity and PairwiseDistance (PyTorch's torch.nn.modules.distance)."""
from __future__ import annotations

from ..._tensor import Tensor
from .._functional.layers import cosine_similarity, pairwise_distance
from ..module import Module

__all__ = ["CosineSimilarity", "PairwiseDistance"]


class CosineSimilarity(Module):
    """Cosine similarity of two inputs along ``dim`` (see :func:`ember.nn.functional.cosine_similarity`).

    >>> nn.CosineSimilarity(dim=1)(ember.tensor([[1., 0.]]), ember.tensor([[1., 1.]]))   # tensor([0.7071])
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """The ``p``-norm distance between matching rows of two inputs, over the last dimension (see
    :func:`ember.nn.functional.pairwise_distance`). The order is stored as ``norm``, as in PyTorch.

    >>> nn.PairwiseDistance(eps=0)(ember.tensor([[0., 0.]]), ember.tensor([[3., 4.]]))   # tensor([5.])
    """

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm = p
        self.eps = eps
        self.keepdim = keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
