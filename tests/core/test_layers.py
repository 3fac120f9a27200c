"""Dropout family, Embedding and EmbeddingBag."""
import numpy as np
import pytest

import ember
from ember import nn
from ember.autograd import gradcheck, gradgradcheck
from ember.nn import functional as F
from ember.testing import assert_close


def test_dropout_statistics_scaling_and_eval_identity():
    ember.manual_seed(0)
    x = ember.ones(100_000)
    y = F.dropout(x, 0.3)
    kept = (y != 0).float().mean().item()
    assert abs(kept - 0.7) < 0.01
    assert_close(y[y != 0], np.full(int((y != 0).sum()), 1 / 0.7, dtype=np.float32))
    assert abs(y.mean().item() - 1.0) < 0.02  # unbiased in expectation
    m = nn.Dropout(0.5)
    m.eval()
    assert m(x) is x
    assert F.dropout(x, 0.5, training=False) is x
    assert float(F.dropout(x, 1.0).abs().sum()) == 0
    assert repr(nn.Dropout(0.2)) == "Dropout(p=0.2, inplace=False)"
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)


def test_dropout_is_reproducible_with_manual_seed_and_gradient_uses_mask():
    x = ember.randn(50, dtype=ember.float64, requires_grad=True)
    ember.manual_seed(3)
    a = F.dropout(x, 0.5)
    ember.manual_seed(3)
    b = F.dropout(x, 0.5)
    assert_close(a, b)
    a.sum().backward()
    mask = (a.detach() != 0).double() * 2
    assert_close(x.grad, mask)


def test_dropout2d_zeroes_whole_channels():
    ember.manual_seed(1)
    x = ember.ones(8, 16, 5, 5)
    y = F.dropout2d(x, 0.5)
    per_channel = y.reshape(8, 16, 25)
    # each channel is entirely zero or entirely 2
    assert ((per_channel == 0).all(2) | (per_channel == 2).all(2)).all()
    assert F.dropout1d(ember.ones(4, 3, 7), 0.5).shape == (4, 3, 7)
    with pytest.warns(UserWarning, match="deprecated"):     # PyTorch warns and drops elements
        assert F.dropout2d(ember.ones(2, 2), 0.5).shape == (2, 2)


def test_alpha_dropout_keeps_mean_and_variance():
    ember.manual_seed(0)
    x = ember.randn(200_000)
    y = F.alpha_dropout(x, 0.2, training=True)
    assert abs(y.mean().item()) < 0.02 and abs(y.std().item() - 1) < 0.02


def test_embedding_lookup_padding_and_gradient():
    emb = nn.Embedding(6, 3, padding_idx=2)
    assert float(emb.weight[2].abs().sum()) == 0
    assert list(emb.state_dict()) == ["weight"]
    idx = ember.tensor([[0, 2, 5], [5, 5, 1]])
    out = emb(idx)
    assert out.shape == (2, 3, 3)
    assert_close(out, emb.weight.detach().numpy()[idx.numpy()])
    out.sum().backward()
    counts = np.bincount(idx.numpy().ravel(), minlength=6).astype(np.float32)
    counts[2] = 0  # padding row gets no gradient
    assert_close(emb.weight.grad, np.repeat(counts[:, None], 3, axis=1))
    assert repr(emb) == "Embedding(6, 3, padding_idx=2)"
    with pytest.raises(IndexError, match="index 6 is out of range"):
        emb(ember.tensor([6]))
    with pytest.raises(RuntimeError, match="'indices' to have one of the following scalar types: Long, Int"):
        emb(ember.tensor([1.0]))


def test_embedding_gradcheck_and_double_backward():
    w = ember.randn(5, 2, dtype=ember.float64, requires_grad=True)
    idx = ember.tensor([1, 3, 3, 0])
    assert gradcheck(lambda w: F.embedding(idx, w), (w,))
    assert gradgradcheck(lambda w: F.embedding(idx, w, padding_idx=3) ** 2, (w,))


def test_embedding_from_pretrained_and_max_norm():
    weights = ember.tensor([[1.0, 0.0], [3.0, 4.0]])
    emb = nn.Embedding.from_pretrained(weights)
    assert not emb.weight.requires_grad
    assert emb(ember.tensor([1])).tolist() == [[3.0, 4.0]]
    emb2 = nn.Embedding(2, 2, max_norm=1.0, _weight=ember.tensor([[1.0, 0.0], [3.0, 4.0]]))
    out = emb2(ember.tensor([1]))
    assert abs(float(out.norm()) - 1.0) < 1e-4


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_matches_reference(mode):
    bag = nn.EmbeddingBag(10, 4, mode=mode).double()
    w = bag.weight.detach().numpy()
    idx = ember.tensor([1, 2, 4, 5, 4, 3, 2, 9])
    offsets = ember.tensor([0, 4, 4])  # the middle bag is empty
    out = bag(idx, offsets)
    red = {"sum": np.sum, "mean": np.mean, "max": np.max}[mode]
    expected = np.stack([red(w[[1, 2, 4, 5]], 0), np.zeros(4), red(w[[4, 3, 2, 9]], 0)])
    assert_close(out, expected)
    two_d = bag(ember.tensor([[1, 2], [4, 5]]))
    assert_close(two_d, np.stack([red(w[[1, 2]], 0), red(w[[4, 5]], 0)]))
    assert gradcheck(lambda wt: F.embedding_bag(idx, wt, offsets, mode=mode),
                     (ember.tensor(w[:10], requires_grad=True),))


def test_embedding_bag_per_sample_weights_and_padding():
    w = ember.randn(6, 3, dtype=ember.float64, requires_grad=True)
    idx = ember.tensor([0, 1, 2, 3])
    psw = ember.tensor([1.0, 2.0, 3.0, 4.0], dtype=ember.float64, requires_grad=True)
    out = F.embedding_bag(idx, w, ember.tensor([0, 2]), mode="sum", per_sample_weights=psw)
    wn = w.detach().numpy()
    assert_close(out, np.stack([wn[0] + 2 * wn[1], 3 * wn[2] + 4 * wn[3]]))
    assert gradcheck(lambda w, p: F.embedding_bag(idx, w, ember.tensor([0, 2]), mode="sum", per_sample_weights=p),
                     (w, psw))
    mean = F.embedding_bag(ember.tensor([[0, 5], [5, 5]]), w, mode="mean", padding_idx=5)
    assert_close(mean, np.stack([wn[0], np.zeros(3)]))
    with pytest.raises(NotImplementedError, match="per_sample_weights is only supported for mode='sum'"):
        F.embedding_bag(idx, w, ember.tensor([0]), mode="mean", per_sample_weights=psw)
