"""Embedding's ``scale_grad_by_freq`` and ``sparse`` options against PyTorch 2.13
(tests/core/data/embedding_reference.npz, made by make_embedding_reference.py)."""
import os

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F

REF = np.load(os.path.join(os.path.dirname(__file__), "data", "embedding_reference.npz"))


@pytest.mark.parametrize("padding_idx", [None, 3])
@pytest.mark.parametrize("scale,sparse", [(False, False), (False, True), (True, False)])
def test_weight_gradient_matches_pytorch(scale, sparse, padding_idx):
    w = ember.tensor(REF["weight"], requires_grad=True)
    out = F.embedding(ember.tensor(REF["indices"]), w, padding_idx=padding_idx, scale_grad_by_freq=scale,
                      sparse=sparse)
    out.backward(ember.tensor(REF["upstream"]))
    np.testing.assert_allclose(w.grad.numpy(), REF[f"grad_{int(scale)}{int(sparse)}_{padding_idx}"], rtol=1e-12)


def test_scale_grad_by_freq_with_sparse_is_refused_as_in_pytorch():
    w = ember.randn(4, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="scale_grad_by_freq not supported with sparse gradients"):
        F.embedding(ember.tensor([1, 1]), w, scale_grad_by_freq=True, sparse=True).sum().backward()


def test_scaled_gradient_through_create_graph_matches_the_plain_backward():
    # scale_grad_by_freq is a deliberate rescaling (not a derivative), so finite differences do not
    # apply; the create_graph branch must give the same numbers as the plain one.
    idx = ember.tensor([[1, 3, 1], [0, 1, 2]])
    w = ember.randn(4, 3, dtype=ember.float64, requires_grad=True)
    up = ember.randn(2, 3, 3, dtype=ember.float64)
    (g1,) = ember.autograd.grad(F.embedding(idx, w, scale_grad_by_freq=True), w, up)
    (g2,) = ember.autograd.grad(F.embedding(idx, w, scale_grad_by_freq=True), w, up, create_graph=True)
    np.testing.assert_allclose(g1.numpy(), g2.detach().numpy(), rtol=1e-14)
    (gg,) = ember.autograd.grad((g2 * w).sum(), w)       # runs the weight-gradient op's own backward
    assert gg.shape == w.shape and bool(ember.isfinite(gg).all())


def test_sparse_embedding_trains_with_sparse_adam():
    ember.manual_seed(0)
    emb = nn.Embedding(10, 4, sparse=True)
    before = emb.weight.detach().clone()
    opt = ember.optim.SparseAdam(emb.parameters(), lr=0.1)
    emb(ember.tensor([2, 5, 5])).sum().backward()
    opt.step()
    changed = (emb.weight.detach() != before).any(1).numpy()
    assert changed.tolist() == [i in (2, 5) for i in range(10)]
