"""Fused ops and hand-written backwards on non-contiguous inputs and gradients.

A fused kernel that assumes C-contiguous memory (a reshape it takes for a view, a flat write
into what is really a copy) gives a silent wrong answer only for views: permuted, strided or
expanded tensors, or an incoming gradient that is itself a transposed array. Each case here
feeds an op such views of a float64 leaf and checks, against the same op on contiguous copies,
the values, and the gradients by finite differences (``gradcheck``) — through the view, so the
gradient also flows back through the view's own backward.

Convolution and pooling ops have the same group in test_conv3d.py.
"""
import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import gradcheck
from ember.testing import assert_close

VIEWS = ("permuted", "strided", "expanded")


def _leaf_and_view(shape, kind, rng):
    """A float64 leaf and a ``shape``-shaped non-contiguous view of it of the given kind."""
    shape = tuple(shape)
    if kind == "permuted":
        leaf = ember.tensor(rng.standard_normal(shape[::-1]), dtype=ember.float64, requires_grad=True)
        return leaf, lambda t: t.permute(*range(len(shape) - 1, -1, -1))
    if kind == "strided":
        leaf = ember.tensor(rng.standard_normal(shape[:-1] + (2 * shape[-1],)), dtype=ember.float64,
                            requires_grad=True)
        return leaf, lambda t: t[..., 1::2]
    # expanded: a size-1 leading dimension broadcast (stride 0)
    leaf = ember.tensor(rng.standard_normal((1,) + shape[1:]), dtype=ember.float64, requires_grad=True)
    return leaf, lambda t: t.expand(*shape)


def _transposed(out):
    """Pass the output through a transpose, so its incoming gradient is a non-contiguous array."""
    outs = out if isinstance(out, tuple) else (out,)
    return tuple(o.transpose(0, -1) if o.ndim >= 2 else o * 1.0 for o in outs)


def _check(fn, shapes, kind, rng, positive=()):
    """gradcheck ``fn`` on views of each input of ``shapes``; values equal the contiguous run."""
    leaves, views = zip(*(_leaf_and_view(s, kind, rng) for s in shapes))
    if positive:
        with ember.no_grad():
            for i in positive:
                leaves[i].copy_(leaves[i].abs() + 0.5)

    def through_views(*ls):
        return _transposed(fn(*(v(x) for v, x in zip(views, ls))))

    got = through_views(*leaves)
    want = _transposed(fn(*(v(x).contiguous() for v, x in zip(views, leaves))))
    for g, w in zip(got, want):
        assert_close(g, w, rtol=1e-12, atol=1e-12)
    assert gradcheck(through_views, leaves, atol=1e-6, rtol=1e-5)


TARGET_2D = ember.tensor([[1, 0, 3, 2], [2, 2, 0, -100], [3, 1, 1, 0]])   # (N=3, d=4), one ignored


def _ce(**kw):
    return lambda x: F.cross_entropy(x, TARGET_2D, **kw)


CASES = {
    # losses: the (N, C, d) input is the usual logits.permute(0, 2, 1) of sequence models
    "cross_entropy_kdim": (_ce(), [(3, 5, 4)]),
    "cross_entropy_kdim_smooth": (_ce(label_smoothing=0.1), [(3, 5, 4)]),
    "cross_entropy_kdim_weight_sum": (_ce(weight=ember.tensor([1.0, 2.0, 0.5, 1.5, 1.0], dtype=ember.float64),
                                          reduction="sum"), [(3, 5, 4)]),
    "cross_entropy_kdim_none": (_ce(reduction="none", label_smoothing=0.2), [(3, 5, 4)]),
    "cross_entropy_2d": (lambda x: F.cross_entropy(x, ember.tensor([1, 0, 4])), [(3, 5)]),
    "cross_entropy_probs": (lambda x, y: F.cross_entropy(x, y.softmax(1)), [(3, 5, 4), (3, 5, 4)]),
    "nll_loss_kdim": (lambda x: F.nll_loss(x.log_softmax(1), TARGET_2D), [(3, 5, 4)]),
    "bce": (lambda x, y: F.binary_cross_entropy(x.sigmoid(), y.sigmoid()), [(3, 4), (3, 4)]),
    "bce_with_logits": (lambda x, y: F.binary_cross_entropy_with_logits(
        x, y.sigmoid(), pos_weight=ember.tensor([1.0, 2.0, 0.5, 3.0], dtype=ember.float64)), [(3, 4), (3, 4)]),
    "mse": (lambda x, y: F.mse_loss(x, y), [(3, 4), (3, 4)]),
    "kl_div": (lambda x, y: F.kl_div(x.log_softmax(1), y.softmax(1), reduction="batchmean"), [(3, 4), (3, 4)]),
    # softmax family and reductions
    "softmax": (lambda x: x.softmax(1), [(3, 4, 5)]),
    "log_softmax": (lambda x: x.log_softmax(-1), [(3, 4, 5)]),
    "logsumexp": (lambda x: x.logsumexp(1), [(3, 4, 5)]),
    "sum_mean": (lambda x: x.sum(1) + x.mean((0, 2), keepdim=True).sum(), [(3, 4, 5)]),
    "var_std": (lambda x: x.var(1) + x.std(-1, keepdim=True).sum(1), [(3, 4, 5)]),
    "prod": (lambda x: x.prod(1), [(3, 4, 5)]),
    "norm": (lambda x: x.norm(3, dim=1), [(3, 4, 5)]),
    "cumsum_cumprod": (lambda x: x.cumsum(1) + x.cumprod(2).sum(), [(3, 4, 5)]),
    "max_min": (lambda x: x.max(1).values + x.amin(2).sum(), [(3, 4, 5)]),
    # activations with fused kernels
    "gelu": (lambda x: F.gelu(x) + F.gelu(x, approximate="tanh"), [(3, 4, 5)]),
    "silu_logsigmoid": (lambda x: F.silu(x) * F.logsigmoid(x), [(3, 4, 5)]),
    "glu": (lambda x: F.glu(x, 1), [(3, 4, 5)]),
    "prelu": (lambda x, w: F.prelu(x, w[0, :, 0]), [(3, 4, 5), (1, 4, 1)]),
    # normalisation
    "layer_norm": (lambda x, w, b: F.layer_norm(x, (5,), w[0, 0], b[0, 0]), [(3, 4, 5), (1, 1, 5), (1, 1, 5)]),
    "batch_norm_train": (lambda x, w, b: F.batch_norm(x, None, None, w[0, :, 0], b[0, :, 0], training=True),
                         [(3, 4, 5), (1, 4, 1), (1, 4, 1)]),
    "batch_norm_eval": (lambda x, w: F.batch_norm(
        x, ember.arange(4, dtype=ember.float64), ember.ones(4, dtype=ember.float64) * 2, w[0, :, 0], None,
        training=False), [(3, 4, 5), (1, 4, 1)]),
    "group_norm": (lambda x: F.group_norm(x, 2), [(3, 4, 5)]),
    "instance_norm": (lambda x: F.instance_norm(x), [(3, 4, 5)]),
    "rms_norm": (lambda x: F.rms_norm(x, (4, 5)), [(3, 4, 5)]),
    "normalize": (lambda x: F.normalize(x, dim=1), [(3, 4, 5)]),
    "local_response_norm": (lambda x: F.local_response_norm(x, 3), [(3, 4, 5)]),
    # linear algebra and layers
    "linear": (lambda x, w, b: F.linear(x, w, b[0]), [(3, 4, 5), (6, 5), (1, 6)]),
    "bilinear": (lambda x, y, w: F.bilinear(x, y, w), [(3, 4), (3, 5), (2, 4, 5)]),
    "matmul": (lambda a, b: a @ b, [(2, 3, 4), (2, 4, 5)]),
    "matmul_vec": (lambda a, b: a @ b[0], [(3, 4), (1, 4)]),
    "einsum": (lambda a, b: ember.einsum("bij,bjk->bik", a, b), [(2, 3, 4), (2, 4, 5)]),
    "embedding_weight": (lambda w: F.embedding(ember.tensor([[0, 2], [3, 2]]), w), [(4, 3)]),
    "embedding_bag": (lambda w: F.embedding_bag(ember.tensor([0, 2, 3, 2, 1]), w, ember.tensor([0, 2]),
                                                mode="mean"), [(4, 3)]),
    # attention: q/k/v as the (B, L, H, D) -> (B, H, L, D) permutation of real models
    "sdpa": (lambda q, k, v: F.scaled_dot_product_attention(q, k, v), [(2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3)]),
    "sdpa_float_mask": (lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
                        [(2, 2, 3, 4), (2, 2, 3, 4), (2, 2, 3, 4), (2, 1, 3, 3)]),
    "sdpa_causal": (lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
                    [(2, 2, 3, 4), (2, 2, 3, 4), (2, 2, 3, 4)]),
    # indexing and shape ops with hand-written backwards
    "index_advanced": (lambda x: x[ember.tensor([2, 0, 2]), 1:], [(3, 4, 5)]),
    "gather_scatter": (lambda x, s: x.gather(1, ember.tensor([[[0, 1], [3, 2]]] * 3).expand(3, 2, 2)).sum()
                       + x.scatter(1, ember.zeros(3, 1, 5, dtype=ember.int64), s[:, :1]).sum(0),
                       [(3, 4, 5), (3, 4, 5)]),
    "index_select_add": (lambda x, s: x.index_select(1, ember.tensor([3, 1, 1]))
                         + x.index_add(1, ember.tensor([0, 0, 2]), s[:, :3])[:, :3],
                         [(3, 4, 5), (3, 4, 5)]),
    "masked_fill_where": (lambda x, y: x.masked_fill(x > 0.3, 2.0) + ember.where(y > 0, x, y), [(3, 4, 5), (3, 4, 5)]),
    "cat_stack_split": (lambda a, b: ember.cat([a, b], 1).split([3, 5], 1)[1] * ember.stack([a, b]).sum(0)[:, :1],
                        [(3, 4, 5), (3, 4, 5)]),
    "flip_roll_repeat": (lambda x: x.flip(1).roll(2, 2).repeat(1, 2, 1) + x.repeat_interleave(2, dim=1),
                         [(3, 4, 5)]),
    "tril_triu": (lambda x: x.tril(1) * 2 + x.triu(-1), [(3, 4, 5)]),
    "unbind_reshape": (lambda x: x.unbind(1)[2].reshape(15) * x.reshape(3, 20)[:, :15].sum(0), [(3, 4, 5)]),
}


@pytest.mark.parametrize("kind", VIEWS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_fused_op_gradients_on_views(name, kind):
    fn, shapes = CASES[name]
    _check(fn, shapes, kind, np.random.default_rng(sorted(CASES).index(name)))


RNN_MODES = {"rnn_tanh": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


@pytest.mark.parametrize("kind", VIEWS)
@pytest.mark.parametrize("mode", sorted(RNN_MODES))
def test_recurrent_layers_on_views(mode, kind):
    """A time-major (L, N, H) input that is a batch-first tensor transposed, and a view as h0."""
    ember.manual_seed(0)
    layer = RNN_MODES[mode](3, 4, num_layers=2, bidirectional=True).double()
    if mode == "lstm":
        fn = lambda x, h, c: layer(x, (h, c))  # noqa: E731
        shapes = [(5, 2, 3), (4, 2, 4), (4, 2, 4)]
    else:
        fn = lambda x, h: layer(x, h)  # noqa: E731

        shapes = [(5, 2, 3), (4, 2, 4)]

    def flat(*args):
        out, state = fn(*args)
        return (out,) + (state if isinstance(state, tuple) else (state,))

    _check(flat, shapes, kind, np.random.default_rng(1))


def test_cross_entropy_permuted_logits_regression():
    """The reported case: (3, 12, 10) float64 logits.permute(0, 2, 1); its gradient was off by 0.028."""
    rng = np.random.default_rng(0)
    base = ember.tensor(rng.standard_normal((3, 10, 12)), requires_grad=True, dtype=ember.float64)
    target = ember.tensor(rng.integers(0, 12, (3, 10)))
    for smoothing in (0.0, 0.1):
        (g_view,) = ember.autograd.grad(F.cross_entropy(base.permute(0, 2, 1), target,
                                                        label_smoothing=smoothing), base)
        (g_copy,) = ember.autograd.grad(F.cross_entropy(base.permute(0, 2, 1).contiguous(), target,
                                                        label_smoothing=smoothing), base)
        assert_close(g_view, g_copy, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ["cross_entropy_kdim_smooth", "log_softmax", "layer_norm", "sdpa", "gelu",
                                  "batch_norm_train"])
def test_double_backward_on_permuted_views(name):
    """The create_graph branch of each fused backward sees the same views."""
    fn, shapes = CASES[name]
    leaves, views = zip(*(_leaf_and_view(s, "permuted", np.random.default_rng(7)) for s in shapes))
    assert ember.autograd.gradgradcheck(lambda *ls: _transposed(fn(*(v(x) for v, x in zip(views, ls)))),
                                        leaves, atol=1e-5, rtol=1e-4)
