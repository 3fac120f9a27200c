"""Inference fast paths: conv -> BatchNorm [-> ReLU/ReLU6] folded inside Sequential in eval mode, eval-mode
batch_norm without autograd, and the one-node hardtanh/relu6. Each is checked against the
straightforward computation, and where it must not apply (training, recorded gradients, hooks,
custom forwards) it is shown not to."""
import numpy as np
import pytest

import ember
from ember import nn
from ember.autograd import gradcheck, gradgradcheck
from ember.nn import functional as F
from ember.nn.modules import _fusion
from ember.testing import assert_close


def _randomise_bn(bn, seed):
    rng = np.random.default_rng(seed)
    c = bn.num_features
    with ember.no_grad():
        bn.running_mean.copy_(ember.tensor(rng.standard_normal(c), dtype=bn.running_mean.dtype))
        bn.running_var.copy_(ember.tensor(rng.uniform(0.5, 2.0, c), dtype=bn.running_var.dtype))
        if bn.weight is not None:
            bn.weight.copy_(ember.tensor(rng.standard_normal(c), dtype=bn.weight.dtype))
            bn.bias.copy_(ember.tensor(rng.standard_normal(c), dtype=bn.bias.dtype))


def block(dtype=ember.float32, act=nn.ReLU6, bias=False, groups=1, affine=True, padding_mode="zeros"):
    ember.manual_seed(0)
    layers = [nn.Conv2d(4, 4, 3, padding=1, bias=bias, groups=groups, padding_mode=padding_mode),
              nn.BatchNorm2d(4, affine=affine)]
    if act is not None:
        layers.append(act())
    seq = nn.Sequential(*layers).to(dtype)
    _randomise_bn(seq[1], 1)
    return seq.eval()


def unfused(seq, x):
    """The modules one by one (what Sequential does without fusion)."""
    for m in seq:
        x = m(x)
    return x


def count_folds(monkeypatch):
    calls = []
    real = _fusion.conv_bn
    monkeypatch.setattr(_fusion, "conv_bn", lambda *a: calls.append(1) or real(*a))
    return calls


@pytest.mark.parametrize("dtype,tol", [(ember.float64, 1e-12), (ember.float32, 1e-5)])
@pytest.mark.parametrize("kw", [{}, {"bias": True}, {"groups": 4}, {"act": nn.ReLU}, {"act": None},
                                {"affine": False}, {"padding_mode": "reflect"},
                                {"act": lambda: nn.Hardtanh(-0.5, 0.5)}])
def test_folded_block_matches_module_by_module(monkeypatch, dtype, tol, kw):
    seq = block(dtype, **kw)
    x = ember.randn(2, 4, 7, 6, dtype=dtype)
    calls = count_folds(monkeypatch)
    with ember.no_grad():
        got = seq(x)
        want = unfused(seq, x)
    assert calls == [1]
    assert got.dtype == dtype
    assert_close(got, want, rtol=tol, atol=tol)


def test_folding_leaves_input_and_parameters_untouched():
    seq = block()
    x = ember.randn(2, 4, 5, 5).permute(0, 1, 3, 2)  # a non-contiguous input too
    before = [x.clone()] + [t.clone() for t in seq.state_dict().values()]
    with ember.no_grad():
        seq(x)
    after = [x] + list(seq.state_dict().values())
    for a, b in zip(before, after):
        assert ember.equal(a, b)


def test_training_mode_is_not_folded(monkeypatch):
    seq = block().train()
    calls = count_folds(monkeypatch)
    x = ember.randn(2, 4, 5, 5)
    seq(x).sum().backward()
    assert calls == [] and seq[0].weight.grad is not None
    assert seq[1].num_batches_tracked.item() == 1


def test_recorded_gradients_are_not_folded_and_frozen_bodies_are(monkeypatch):
    seq = block()
    calls = count_folds(monkeypatch)
    x = ember.randn(2, 4, 5, 5)
    y = seq(x)  # eval, grad mode on, parameters require grad: the graph must reach them
    y.sum().backward()
    assert calls == [] and seq[0].weight.grad is not None and seq[1].weight.grad is not None
    for p in seq.parameters():
        p.requires_grad_(False)
    y2 = seq(x)  # a frozen body: nothing to record, so it runs folded
    assert calls == [1] and y2.grad_fn is None
    assert_close(y2, y.detach(), rtol=1e-5, atol=1e-5)
    xr = x.clone().requires_grad_()
    seq(xr).sum().backward()  # the input needs a gradient: not folded
    assert calls == [1] and xr.grad is not None


def test_hooks_and_custom_forwards_are_respected(monkeypatch):
    seq = block()
    calls = count_folds(monkeypatch)
    seen = []
    handle = seq[1].register_forward_hook(lambda m, i, o: seen.append(o.shape))
    with ember.no_grad():
        seq(ember.randn(1, 4, 3, 3))
    assert calls == [] and seen == [(1, 4, 3, 3)]
    handle.remove()

    class Doubling(nn.Conv2d):
        def forward(self, input):
            return 2 * super().forward(input)
    ember.manual_seed(0)
    custom = nn.Sequential(Doubling(4, 4, 1), nn.BatchNorm2d(4)).eval()
    x = ember.randn(1, 4, 3, 3)
    with ember.no_grad():
        assert_close(custom(x), unfused(custom, x))
    assert calls == []


def test_mismatched_pairs_run_unfused_and_raise_as_before():
    seq = nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(5)).eval()
    with ember.no_grad(), pytest.raises(RuntimeError):
        seq(ember.randn(1, 3, 2, 2))


@pytest.mark.parametrize("dtype,tol", [(ember.float64, 1e-12), (ember.float32, 1e-5)])
def test_eval_batch_norm_without_autograd_matches_the_graph_path(dtype, tol):
    bn = nn.BatchNorm2d(3).to(dtype)
    _randomise_bn(bn, 2)
    bn.eval()
    x = ember.randn(2, 5, 4, 3, dtype=dtype).permute(0, 3, 2, 1)  # (2, 3, 4, 5), non-contiguous
    with ember.no_grad():
        fast = bn(x)
    slow = bn(x.clone().requires_grad_())  # records a graph: the standardise-scale-shift path
    assert fast.dtype == dtype
    assert_close(fast, slow.detach(), rtol=tol, atol=tol)
    assert bn(ember.zeros(0, 3, 2, 2)).shape == (0, 3, 2, 2)


@pytest.mark.parametrize("lo,hi", [(-1.0, 1.0), (0.0, 6.0)])
def test_hardtanh_node_gradients(lo, hi):
    x = ember.tensor(np.array([-3.0, -1.0, -0.3, 0.0, 0.4, 1.0, 2.5, 6.0, 7.0]), requires_grad=True)
    y = F.hardtanh(x, lo, hi)
    assert_close(y, np.clip(x.detach().numpy(), lo, hi))
    y.sum().backward()
    inside = (x.detach().numpy() > lo) & (x.detach().numpy() < hi)
    assert_close(x.grad, inside.astype(np.float64))
    xs = ember.tensor(np.array([-2.5, -0.5, 0.3, 0.7, 3.0, 5.5]), requires_grad=True)  # away from the kinks
    assert gradcheck(lambda t: F.hardtanh(t * t, lo, hi), [xs])
    assert gradgradcheck(lambda t: F.hardtanh(t * t, lo, hi), [xs])


def test_relu6_in_place_and_views():
    x = ember.tensor(np.linspace(-2, 8, 12).reshape(3, 4).T.copy()).T  # non-contiguous (3, 4)
    ref = np.clip(x.numpy(), 0, 6)
    v0 = x._version
    out = F.relu6(x, inplace=True)
    assert out is x and x._version > v0
    assert_close(x, ref)
    leaf = ember.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        F.relu6(leaf, inplace=True)
    z = leaf * 4
    F.relu6(z, inplace=True).sum().backward()
    assert_close(leaf.grad, 4.0 * ((leaf.detach() * 4 > 0) & (leaf.detach() * 4 < 6)).double().float())
    assert F.relu6(ember.tensor([-1, 3, 9])).tolist() == [0, 3, 6]  # integers keep their dtype
