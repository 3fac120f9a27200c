"""Loss functions and modules (ember.nn.functional / ember.nn): forward against NumPy references
for every reduction and option, extreme inputs, gradcheck and gradgradcheck, module forms and
errors."""
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import gradcheck, gradgradcheck
from ember.testing import assert_close

HYP = settings(max_examples=25, deadline=None)
REDUCTIONS = ["mean", "sum", "none"]
TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-12)}


def T(a, rg=False, dtype=None):
    a = np.asarray(a)
    return ember.tensor(a if dtype is None else a.astype(dtype), requires_grad=rg)


def reduce_np(loss, reduction):
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def log_softmax_np(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def softplus_np(x):
    return np.logaddexp(0.0, x)


def check(out, expected, dtype=np.float64):
    expected = np.asarray(expected, dtype=np.float64)
    assert out.dtype == ember.tensor(np.zeros(1, dtype)).dtype
    assert tuple(out.shape) == expected.shape, (tuple(out.shape), expected.shape)
    got = out.detach().numpy().astype(np.float64)
    assert np.all(np.isfinite(got) | np.isnan(expected))
    assert_close(got, expected, equal_nan=True, **TOL[dtype])


# ---------------------------------------------------------------------------------------
# Element-wise regression losses
# ---------------------------------------------------------------------------------------
def _smooth_l1_np(d, beta):
    ad = np.abs(d)
    return ad if beta == 0 else np.where(ad < beta, 0.5 * d * d / beta, ad - 0.5 * beta)


def _huber_np(d, delta):
    ad = np.abs(d)
    return np.where(ad < delta, 0.5 * d * d, delta * (ad - 0.5 * delta))


REGRESSION = {
    "mse": (lambda x, y, **k: F.mse_loss(x, y, **k), lambda d: d * d),
    "l1": (lambda x, y, **k: F.l1_loss(x, y, **k), np.abs),
    "smooth_l1": (lambda x, y, **k: F.smooth_l1_loss(x, y, beta=0.5, **k), lambda d: _smooth_l1_np(d, 0.5)),
    "smooth_l1_beta0": (lambda x, y, **k: F.smooth_l1_loss(x, y, beta=0.0, **k), lambda d: _smooth_l1_np(d, 0.0)),
    "huber": (lambda x, y, **k: F.huber_loss(x, y, delta=0.7, **k), lambda d: _huber_np(d, 0.7)),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", sorted(REGRESSION))
def test_regression_losses(name, reduction, dtype):
    fn, ref = REGRESSION[name]
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((4, 3)) * 2, rng.standard_normal((4, 3))
    x[0, 0] = 1e4   # large errors stay finite
    check(fn(T(x, dtype=dtype), T(y, dtype=dtype), reduction=reduction), reduce_np(ref(x - y), reduction), dtype)
    xg, yg = T(x[1:] * 0.5, True), T(y[1:], True)
    assert gradcheck(lambda a, b: fn(a, b, reduction=reduction), (xg, yg))
    assert gradgradcheck(lambda a, b: fn(a, b, reduction=reduction), (xg, yg))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_weighted_regression_losses(reduction):
    rng = np.random.default_rng(1)
    x, y, w = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.random((3, 4))
    for name, fn, ref, weighted_mean in [("mse", F.mse_loss, lambda d: d * d, True),
                                         ("l1", F.l1_loss, np.abs, True),
                                         ("huber", F.huber_loss, lambda d: _huber_np(d, 1.0), False)]:
        loss = ref(x - y) * w
        expected = loss.sum() / w.sum() if reduction == "mean" and weighted_mean else reduce_np(loss, reduction)
        check(fn(T(x), T(y), reduction=reduction, weight=T(w)), expected)
    with pytest.raises(ValueError, match="Weights and input must have the same size"):
        F.mse_loss(T(x), T(y), weight=T(w[0]))


def test_regression_broadcast_warns_like_pytorch():
    with pytest.warns(UserWarning, match=r"Using a target size \(.*\[3, 1\].*\) that is different to the input "
                                         r"size \(.*\[3\].*\)\. This will likely lead to incorrect results"):
        out = F.mse_loss(T([1.0, 2.0, 3.0]), T([[1.0], [2.0], [4.0]]))
    a, b = np.array([1.0, 2.0, 3.0]), np.array([[1.0], [2.0], [4.0]])
    check(out, ((a - b) ** 2).mean())
    with pytest.warns(UserWarning, match="different to the input size"):
        F.l1_loss(T([1.0, 2.0]), T(1.0), reduction="none")
    with pytest.raises(RuntimeError, match="does not support negative values for beta"):
        F.smooth_l1_loss(T([1.0]), T([1.0]), beta=-1.0)


# ---------------------------------------------------------------------------------------
# Cross entropy / NLL
# ---------------------------------------------------------------------------------------
def cross_entropy_np(x, target, weight=None, ignore_index=-100, reduction="mean", eps=0.0, log_probs=False):
    """PyTorch's documented formula, one position at a time."""
    unbatched = x.ndim == 1
    if unbatched:
        x, target = x[None], np.asarray(target)[None]
    c = x.shape[1]
    logp = x if log_probs else log_softmax_np(x, 1)
    w = np.ones(c) if weight is None else weight
    losses = np.zeros(target.shape)
    total_weight = 0.0
    for pos in np.ndindex(*target.shape):
        t = int(target[pos])
        if t == ignore_index:
            continue
        lp = logp[(pos[0], slice(None)) + pos[1:]]
        nll = -w[t] * lp[t]
        smooth = -(w * lp).sum() / c
        losses[pos] = (1 - eps) * nll + eps * smooth
        total_weight += w[t]
    if reduction == "none":
        return losses[0] if unbatched else losses
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / total_weight if total_weight else np.nan


CE_SHAPES = [((5, 4), (5,)), ((2, 3, 2, 3), (2, 2, 3)), ((4,), ()), ((3, 5, 2), (3, 2))]
CE_OPTIONS = [{}, {"weight": True}, {"ignore_index": 1}, {"label_smoothing": 0.25},
              {"weight": True, "ignore_index": 1, "label_smoothing": 0.2}]


def _ce_case(shape, tshape, seed=0, scale=3.0):
    rng = np.random.default_rng(seed)
    c = shape[0] if len(shape) == 1 else shape[1]
    x = rng.standard_normal(shape) * scale
    t = rng.integers(0, c, tshape)
    if t.ndim:
        t.reshape(-1)[0] = 1   # at least one ignored target when ignore_index=1
    return x, t, rng.random(c) + 0.5


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", CE_OPTIONS, ids=lambda o: "-".join(o) or "plain")
@pytest.mark.parametrize("shape,tshape", CE_SHAPES, ids=lambda s: str(s))
def test_cross_entropy_and_nll_forward(shape, tshape, opts, reduction, dtype):
    x, t, w = _ce_case(shape, tshape)
    kw = dict(reduction=reduction, ignore_index=opts.get("ignore_index", -100))
    weight = w if opts.get("weight") else None
    if weight is not None:
        kw["weight"] = T(weight, dtype=dtype)
    eps = opts.get("label_smoothing", 0.0)
    out = F.cross_entropy(T(x, dtype=dtype), T(t), label_smoothing=eps, **kw)
    check(out, cross_entropy_np(x, t, weight, kw["ignore_index"], reduction, eps), dtype)
    if not eps:
        lp = log_softmax_np(x, 0 if x.ndim == 1 else 1)
        out = F.nll_loss(T(lp, dtype=dtype), T(t), **kw)
        check(out, cross_entropy_np(lp, t, weight, kw["ignore_index"], reduction, log_probs=True), dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape,tshape", [((3, 4), (3,)), ((2, 3, 2), (2, 2)), ((3,), ())], ids=str)
def test_cross_entropy_gradients_with_all_options(shape, tshape, reduction):
    x, t, w = _ce_case(shape, tshape, scale=1.0)
    xt = T(x, True)
    kw = dict(weight=T(w), ignore_index=1, label_smoothing=0.2, reduction=reduction)
    fn = lambda a: F.cross_entropy(a, T(t), **kw)   # noqa: E731
    assert gradcheck(fn, (xt,))
    assert gradgradcheck(fn, (xt,))
    nll = lambda a: F.nll_loss(a, T(t), weight=T(w), ignore_index=1, reduction=reduction)   # noqa: E731
    assert gradcheck(nll, (xt,))
    assert gradgradcheck(nll, (xt,))
    plain = lambda a: F.cross_entropy(a, T(t), reduction=reduction)   # noqa: E731
    assert gradcheck(plain, (xt,))
    assert gradgradcheck(plain, (xt,))


def test_cross_entropy_gradient_is_softmax_minus_onehot():
    x, t, _ = _ce_case((4, 5), (4,))
    xt = T(x, True)
    F.cross_entropy(xt, T(t), reduction="sum").backward()
    p = np.exp(log_softmax_np(x, 1))
    assert_close(xt.grad, p - np.eye(5)[t], rtol=1e-12, atol=1e-14)
    # backward twice (retain_graph): the saved softmax is not modified by the first backward
    xt.grad = None
    loss = F.cross_entropy(xt, T(t))
    loss.backward(retain_graph=True)
    g1 = xt.grad.clone()
    loss.backward()
    assert_close(xt.grad, 2 * g1.numpy())


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 2, 2), (3,)], ids=str)
def test_cross_entropy_probability_targets(shape, reduction):
    rng = np.random.default_rng(2)
    axis = 0 if len(shape) == 1 else 1
    c = shape[axis]
    x, p = rng.standard_normal(shape), rng.random(shape)
    p /= p.sum(axis=axis, keepdims=True)
    w = rng.random(c) + 0.5
    wshape = (c,) + (1,) * (len(shape) - axis - 1)
    for weight, eps in [(None, 0.0), (w, 0.0), (w, 0.3)]:
        q = p * (1 - eps) + eps / c
        if weight is not None:
            q = q * weight.reshape(wshape)
        expected = reduce_np(-(log_softmax_np(x, axis) * q).sum(axis=axis), reduction)
        kw = dict(weight=None if weight is None else T(weight), label_smoothing=eps, reduction=reduction)
        check(F.cross_entropy(T(x), T(p), **kw), expected)
    xt, pt = T(x, True), T(p, True)
    fn = lambda a, b: F.cross_entropy(a, b, weight=T(w), label_smoothing=0.3, reduction=reduction)   # noqa: E731
    assert gradcheck(fn, (xt, pt))
    assert gradgradcheck(fn, (xt, pt))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_extreme_logits(dtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0], [88.0, 89.0, -90.0], [-1e30, 0.0, 1e30]])
    t = np.array([1, 1, 0, 2])
    for eps in (0.0, 0.1):
        xt = T(x, True, dtype)
        loss = F.cross_entropy(xt, T(t), label_smoothing=eps, reduction="none")
        check(loss, cross_entropy_np(x, t, reduction="none", eps=eps), dtype)
        loss.sum().backward()
        assert np.all(np.isfinite(xt.grad.numpy()))
    lp = log_softmax_np(x, 1)
    check(F.nll_loss(T(lp, dtype=dtype), T(t), reduction="none"), -lp[np.arange(4), t], dtype)


@HYP
@given(n=st.integers(0, 4), c=st.integers(1, 5), spatial=st.lists(st.integers(1, 3), max_size=2),
       seed=st.integers(0, 10_000), use_weight=st.booleans(), ignore=st.booleans(),
       eps=st.sampled_from([0.0, 0.1, 1.0]), reduction=st.sampled_from(REDUCTIONS))
def test_cross_entropy_random_shapes_and_options(n, c, spatial, seed, use_weight, ignore, eps, reduction):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c) + tuple(spatial))
    t = rng.integers(0, c, (n,) + tuple(spatial))
    w = rng.random(c) + 0.1 if use_weight else None
    ii = 0 if ignore else -100
    out = F.cross_entropy(T(x), T(t), weight=None if w is None else T(w), ignore_index=ii,
                          label_smoothing=eps, reduction=reduction)
    check(out, cross_entropy_np(x, t, w, ii, reduction, eps))


def test_cross_entropy_edge_cases():
    x, t = T(np.random.default_rng(0).standard_normal((3, 4))), T([2, 2, 2])
    for fn in (F.cross_entropy, lambda a, b, **k: F.nll_loss(a.log_softmax(1), b, **k)):
        assert math.isnan(fn(x, t, ignore_index=2).item())          # mean over no target: NaN
        assert fn(x, t, ignore_index=2, reduction="sum").item() == 0
        assert fn(x, t, ignore_index=2, reduction="none").tolist() == [0.0, 0.0, 0.0]
    # uint8 targets are accepted, as in PyTorch
    check(F.cross_entropy(x, T(np.array([2, 0, 1], np.uint8))),
          cross_entropy_np(x.numpy(), np.array([2, 0, 1])))
    # an empty batch: mean is NaN, sum is 0
    assert math.isnan(F.cross_entropy(ember.zeros(0, 3), ember.zeros(0, dtype=ember.int64)).item())
    assert F.cross_entropy(ember.zeros(0, 3), ember.zeros(0, dtype=ember.int64), reduction="sum").item() == 0
    # float16 logits: computed in float32, result in float16
    h = F.cross_entropy(ember.tensor([[1.0, 2.0, 3.0]], dtype=ember.float16), T([2]))
    assert h.dtype == ember.float16 and abs(h.item() - 0.4076) < 1e-3


def test_cross_entropy_errors():
    x = ember.randn(4, 3)
    with pytest.raises(IndexError, match="^Target 5 is out of bounds.$"):
        F.cross_entropy(x, T([0, 5, 1, 2]))
    with pytest.raises(IndexError, match="^Target -1 is out of bounds.$"):
        F.nll_loss(x, T([0, -1, 1, 2]))
    with pytest.raises(IndexError, match="Target 3 is out of bounds"):
        F.cross_entropy(x, T([0, 3, 1, 2]), ignore_index=5)
    with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte .*float32"):
        F.cross_entropy(x, T([0.0, 1.0, 1.0, 2.0], dtype=np.float32))
    with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte .*int32"):
        F.cross_entropy(x, T(np.array([0, 1, 1, 2], np.int32)))
    with pytest.raises(ValueError, match=r"Expected input batch_size \(4\) to match target batch_size \(3\)"):
        F.cross_entropy(x, T([0, 1, 1]))
    with pytest.raises(RuntimeError, match="0D or 1D target tensor expected, multi-target not supported"):
        F.nll_loss(x, T(np.zeros((4, 2), np.int64)))
    with pytest.raises(RuntimeError, match=r"size mismatch \(got input: \[2, 3, 4, 5\], target: \[2, 4, 4\]\)"):
        F.cross_entropy(ember.randn(2, 3, 4, 5), T(np.zeros((2, 4, 4), np.int64)))
    with pytest.raises(RuntimeError, match="weight tensor should be defined either for all 3 classes or no classes"):
        F.cross_entropy(x, T([0, 1, 1, 2]), weight=ember.ones(2))
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'weight'"):
        F.cross_entropy(x, T([0, 1, 1, 2]), weight=ember.ones(3, requires_grad=True))
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0. Got: 1.5"):
        F.cross_entropy(x, T([0, 1, 1, 2]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="foo is not a valid value for reduction"):
        F.cross_entropy(x, T([0, 1, 1, 2]), reduction="foo")
    with pytest.raises(RuntimeError, match="ignore_index is not supported for floating point target"):
        F.cross_entropy(x, ember.rand(4, 3), ignore_index=1)
    with pytest.raises(RuntimeError, match="not implemented for"):
        F.cross_entropy(T([[1, 2]]), T([0]))


def test_losses_on_another_device(accel):
    x = ember.randn(4, 3).to("accel:1").requires_grad_()
    t = T([0, 2, 1, 2]).to("accel:1")
    loss = F.cross_entropy(x, t, weight=ember.ones(3).to("accel:1"), label_smoothing=0.1)
    assert loss.device == ember.device("accel:1")
    loss.backward()
    assert x.grad.device == ember.device("accel:1")
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        F.cross_entropy(x, T([0, 2, 1, 2]))
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        F.nll_loss(x, t, weight=ember.ones(3))
    assert F.binary_cross_entropy_with_logits(x, x.detach().sigmoid()).device == ember.device("accel:1")


# ---------------------------------------------------------------------------------------
# Binary cross entropy
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(reduction, dtype):
    rng = np.random.default_rng(3)
    p = np.concatenate([rng.random(8) * 0.9 + 0.05, [0.0, 1.0, 0.0, 1.0]])
    y = np.concatenate([rng.random(8), [0.0, 1.0, 1.0, 0.0]])
    w = rng.random(12)
    with np.errstate(divide="ignore"):
        ref = -(y * np.maximum(np.log(p), -100) + (1 - y) * np.maximum(np.log(1 - p), -100))
    check(F.binary_cross_entropy(T(p, dtype=dtype), T(y, dtype=dtype), reduction=reduction),
          reduce_np(ref, reduction), dtype)
    check(F.binary_cross_entropy(T(p, dtype=dtype), T(y, dtype=dtype), weight=T(w, dtype=dtype),
                                 reduction=reduction), reduce_np(ref * w, reduction), dtype)
    xt, yt = T(p[:8], True), T(y[:8], True)
    fn = lambda a, b: F.binary_cross_entropy(a, b, weight=T(w[:8]), reduction=reduction)   # noqa: E731
    assert gradcheck(fn, (xt, yt))
    assert gradgradcheck(fn, (xt, yt))


def test_binary_cross_entropy_gradient_at_the_clamps_is_finite():
    x = T([0.0, 1.0, 0.0, 1.0, 0.5], True)
    y = T([0.0, 1.0, 1.0, 0.0, 0.3])
    F.binary_cross_entropy(x, y, reduction="sum").backward()
    # PyTorch's formula (x - y) / max(x (1 - x), 1e-12)
    assert_close(x.grad, [0.0, 0.0, -1e12, 1e12, 0.8], rtol=1e-12, atol=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits(reduction, dtype):
    rng = np.random.default_rng(4)
    x = np.concatenate([rng.standard_normal((3, 3)) * 4, [[1e4, -1e4, 0.0], [800.0, -800.0, 50.0]]])
    y = rng.random((5, 3))
    w, pw = rng.random((5, 3)), rng.random(3) * 3
    base = (1 - y) * x + softplus_np(-x)
    check(F.binary_cross_entropy_with_logits(T(x, dtype=dtype), T(y, dtype=dtype), reduction=reduction),
          reduce_np(base, reduction), dtype)
    weighted = w * ((1 - y) * x + (1 + (pw - 1) * y) * softplus_np(-x))
    check(F.binary_cross_entropy_with_logits(T(x, dtype=dtype), T(y, dtype=dtype), weight=T(w, dtype=dtype),
                                             pos_weight=T(pw, dtype=dtype), reduction=reduction),
          reduce_np(weighted, reduction), dtype)
    xe = T(x, True, dtype)
    F.binary_cross_entropy_with_logits(xe, T(y, dtype=dtype), pos_weight=T(pw, dtype=dtype)).backward()
    assert np.all(np.isfinite(xe.grad.numpy()))
    xt, yt = T(x[:3] / 4, True), T(y[:3], True)
    fn = lambda a, b: F.binary_cross_entropy_with_logits(a, b, weight=T(w[:3]), pos_weight=T(pw),   # noqa: E731
                                                         reduction=reduction)
    assert gradcheck(fn, (xt, yt))
    assert gradgradcheck(fn, (xt, yt))


def test_binary_cross_entropy_with_logits_gradient_at_zero():
    x = T([0.0, 0.0], True)
    F.binary_cross_entropy_with_logits(x, T([1.0, 0.0]), reduction="sum").backward()
    assert_close(x.grad, [-0.5, 0.5])     # sigmoid(0) - y


def test_binary_cross_entropy_errors():
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(T([1.5]), T([1.0]))
    with pytest.raises(ValueError, match=r"Using a target size \(.*\) that is different to the input size"):
        F.binary_cross_entropy(T([0.5, 0.5, 0.5]), T([[1.0], [0.0], [1.0]]))
    with pytest.raises(ValueError, match=r"Target size \(.*\) must be the same as input size"):
        F.binary_cross_entropy_with_logits(T([0.5, 0.5, 0.5]), T([[1.0], [0.0], [1.0]]))


# ---------------------------------------------------------------------------------------
# Divergences, likelihoods, margins
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
def test_kl_div(reduction):
    rng = np.random.default_rng(5)
    lp = log_softmax_np(rng.standard_normal((4, 3)), 1)
    tp = rng.random((4, 3))
    tp[0, 0] = 0.0    # 0 log 0 = 0
    ref = np.where(tp > 0, tp * np.log(np.where(tp > 0, tp, 1)), 0) - tp * lp
    expected = ref.sum() / 4 if reduction == "batchmean" else reduce_np(ref, reduction)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(F.kl_div(T(lp), T(tp), reduction=reduction), expected)
        lt = np.log(tp + 0.1)
        ref_log = np.exp(lt) * (lt - lp)
        expected = ref_log.sum() / 4 if reduction == "batchmean" else reduce_np(ref_log, reduction)
        check(F.kl_div(T(lp), T(lt), reduction=reduction, log_target=True), expected)
        xt, tt = T(lp, True), T(tp + 0.05, True)
        for log_target in (False, True):
            fn = lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target)   # noqa: E731
            assert gradcheck(fn, (xt, tt))
            assert gradgradcheck(fn, (xt, tt))
    if reduction == "mean":
        with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
            F.kl_div(T(lp), T(tp))
    x = T(lp, True)
    F.kl_div(x, T(tp), reduction="sum").backward()
    assert np.all(np.isfinite(x.grad.numpy()))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_poisson_and_gaussian_nll(reduction):
    rng = np.random.default_rng(6)
    x, t = rng.standard_normal((3, 4)), rng.integers(0, 5, (3, 4)).astype(float)
    check(F.poisson_nll_loss(T(x), T(t), reduction=reduction), reduce_np(np.exp(x) - t * x, reduction))
    rate = np.abs(x) + 0.1
    ts = np.where(t > 1, t, 1.0)
    stirling = np.where(t > 1, ts * np.log(ts) - ts + 0.5 * np.log(2 * np.pi * ts), 0.0)
    check(F.poisson_nll_loss(T(rate), T(t), log_input=False, full=True, eps=1e-8, reduction=reduction),
          reduce_np(rate - t * np.log(rate + 1e-8) + stirling, reduction))
    assert gradcheck(lambda a: F.poisson_nll_loss(a, T(t), full=True, reduction=reduction), (T(x, True),))
    assert gradgradcheck(lambda a: F.poisson_nll_loss(a, T(t), log_input=False, reduction=reduction),
                         (T(rate, True),))

    var = rng.random((3, 4)) + 0.1
    var[0, 0] = 1e-9   # clamped to eps
    vc = np.maximum(var, 1e-6)
    ref = 0.5 * (np.log(vc) + (x - t) ** 2 / vc)
    check(F.gaussian_nll_loss(T(x), T(t), T(var), reduction=reduction), reduce_np(ref, reduction))
    check(F.gaussian_nll_loss(T(x), T(t), T(var), full=True, reduction=reduction),
          reduce_np(ref + 0.5 * math.log(2 * math.pi), reduction))
    v1 = rng.random(3) + 0.5          # one variance per row: (3,) or (3, 1)
    ref1 = 0.5 * (np.log(v1[:, None]) + (x - t) ** 2 / v1[:, None])
    check(F.gaussian_nll_loss(T(x), T(t), T(v1), reduction=reduction), reduce_np(ref1, reduction))
    check(F.gaussian_nll_loss(T(x), T(t), T(v1[:, None]), reduction=reduction), reduce_np(ref1, reduction))
    check(F.gaussian_nll_loss(T(x), T(t), 0.5, reduction=reduction),
          reduce_np(0.5 * (math.log(0.5) + (x - t) ** 2 / 0.5), reduction))
    xt, tt, vt = T(x[:2], True), T(t[:2], True), T(rng.random((2, 4)) + 0.5, True)
    fn = lambda a, b, v: F.gaussian_nll_loss(a, b, v, reduction=reduction)   # noqa: E731
    assert gradcheck(fn, (xt, tt, vt))
    assert gradgradcheck(fn, (xt, tt, vt))
    # the clamp to eps does not stop var's gradient (PyTorch clamps without recording it)
    v = T([1e-9], True)
    F.gaussian_nll_loss(T([0.0]), T([0.0]), v).backward()
    assert v.grad.item() == pytest.approx(0.5 / 1e-6, rel=1e-9)
    with pytest.raises(ValueError, match="var is of incorrect size"):
        F.gaussian_nll_loss(T(x), T(t), T(rng.random((3, 2))))
    with pytest.raises(ValueError, match="var has negative entry/entries"):
        F.gaussian_nll_loss(T(x), T(t), T(-var))


def _cos_np(a, b):
    return (a * b).sum(-1) / np.sqrt(((a * a).sum(-1) + 1e-12) * ((b * b).sum(-1) + 1e-12))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_and_embedding_losses(reduction):
    rng = np.random.default_rng(7)
    a, b, n = rng.standard_normal((5, 4)), rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    y = np.array([1.0, -1.0, 1.0, -1.0, -1.0])
    cos = _cos_np(a, b)
    check(F.cosine_embedding_loss(T(a), T(b), T(y), margin=-0.2, reduction=reduction),
          reduce_np(np.where(y == 1, 1 - cos, np.maximum(cos + 0.2, 0)), reduction))
    check(F.cosine_embedding_loss(T(a[0]), T(b[0]), T(-1.0), margin=-0.5),
          max(_cos_np(a[0], b[0]) + 0.5, 0))
    check(F.margin_ranking_loss(T(a[:, 0]), T(b[:, 0]), T(y), margin=0.3, reduction=reduction),
          reduce_np(np.maximum(-y * (a[:, 0] - b[:, 0]) + 0.3, 0), reduction))

    def dist(u, v, p):
        return (np.abs(u - v + 1e-6) ** p).sum(-1) ** (1 / p)
    for p, swap in [(2, False), (1, True), (3, True)]:
        dn = np.minimum(dist(a, n, p), dist(b, n, p)) if swap else dist(a, n, p)
        check(F.triplet_margin_loss(T(a), T(b), T(n), margin=1.5, p=p, swap=swap, reduction=reduction),
              reduce_np(np.maximum(1.5 + dist(a, b, p) - dn, 0), reduction))
    check(F.soft_margin_loss(T(a), T(np.sign(b)), reduction=reduction),
          reduce_np(softplus_np(-np.sign(b) * a), reduction))
    ys = np.sign(b)
    check(F.hinge_embedding_loss(T(a), T(ys), margin=0.5, reduction=reduction),
          reduce_np(np.where(ys == 1, a, np.maximum(0.5 - a, 0)), reduction))
    yl, wl = (b > 0).astype(float), rng.random(4)
    ml = (wl * ((1 - yl) * a + softplus_np(-a))).sum(-1) / 4
    check(F.multilabel_soft_margin_loss(T(a), T(yl), weight=T(wl), reduction=reduction), reduce_np(ml, reduction))

    # gradients (inputs kept away from the hinge points)
    at, bt, nt = T(a[:3], True), T(b[:3], True), T(n[:3], True)
    y3 = T(y[:3])
    for fn, args in [
        (lambda u, v: F.cosine_embedding_loss(u, v, y3, margin=-0.9, reduction=reduction), (at, bt)),
        (lambda u, v: F.margin_ranking_loss(u, v, y3, margin=5.0, reduction=reduction), (at[:, 0], bt[:, 0])),
        (lambda u, v, w: F.triplet_margin_loss(u, v, w, margin=20.0, swap=True, reduction=reduction),
         (at, bt, nt)),
        (lambda u: F.soft_margin_loss(u, T(np.sign(b[:3])), reduction=reduction), (at,)),
        (lambda u: F.hinge_embedding_loss(u, T(np.sign(b[:3])), margin=9.0, reduction=reduction), (at,)),
        (lambda u, v: F.multilabel_soft_margin_loss(u, v, weight=T(wl), reduction=reduction), (at, T(yl[:3], True))),
    ]:
        assert gradcheck(fn, args)
        assert gradgradcheck(fn, args)


def test_margin_loss_errors():
    with pytest.raises(RuntimeError, match="1D target tensor expects 2D input tensors"):
        F.cosine_embedding_loss(ember.randn(3), ember.randn(3), T([1.0, 1.0, 1.0]))
    with pytest.raises(RuntimeError, match="0D target tensor expects 1D input tensors"):
        F.cosine_embedding_loss(ember.randn(2, 3), ember.randn(2, 3), T(1.0))
    with pytest.raises(RuntimeError, match="All input tensors should have same dimension"):
        F.margin_ranking_loss(ember.randn(3), ember.randn(3, 1), ember.randn(3))
    with pytest.raises(RuntimeError, match="anchor 2D, positive 1D, and negative 2D inputs"):
        F.triplet_margin_loss(ember.randn(2, 3), ember.randn(3), ember.randn(2, 3))
    with pytest.raises(ValueError, match="expected margin to be greater than 0"):
        nn.TripletMarginLoss(margin=0.0)


# ---------------------------------------------------------------------------------------
# Modules
# ---------------------------------------------------------------------------------------
def test_loss_modules_match_functional():
    rng = np.random.default_rng(8)
    x, y = T(rng.standard_normal((4, 3))), T(rng.standard_normal((4, 3)))
    t, w = T([0, 2, 1, 2]), T(rng.random(3) + 0.5)
    p, yb = T(rng.random((4, 3))), T(rng.random((4, 3)))
    pairs = [
        (nn.L1Loss(reduction="sum"), F.l1_loss(x, y, reduction="sum"), (x, y)),
        (nn.MSELoss(), F.mse_loss(x, y), (x, y)),
        (nn.SmoothL1Loss(beta=0.3), F.smooth_l1_loss(x, y, beta=0.3), (x, y)),
        (nn.HuberLoss(delta=0.4), F.huber_loss(x, y, delta=0.4), (x, y)),
        (nn.CrossEntropyLoss(weight=w, ignore_index=1, label_smoothing=0.1),
         F.cross_entropy(x, t, weight=w, ignore_index=1, label_smoothing=0.1), (x, t)),
        (nn.NLLLoss(weight=w, reduction="none"), F.nll_loss(x, t, weight=w, reduction="none"), (x, t)),
        (nn.BCELoss(weight=w), F.binary_cross_entropy(p, yb, weight=w), (p, yb)),
        (nn.BCEWithLogitsLoss(weight=w, pos_weight=w), F.binary_cross_entropy_with_logits(x, yb, w, pos_weight=w),
         (x, yb)),
        (nn.KLDivLoss(reduction="batchmean", log_target=True),
         F.kl_div(x, y, reduction="batchmean", log_target=True), (x, y)),
        (nn.PoissonNLLLoss(full=True), F.poisson_nll_loss(x, p * 3, full=True), (x, p * 3)),
        (nn.CosineEmbeddingLoss(0.1), F.cosine_embedding_loss(x, y, T([1.0, -1, 1, -1]), 0.1),
         (x, y, T([1.0, -1, 1, -1]))),
        (nn.MarginRankingLoss(0.2), F.margin_ranking_loss(x[:, 0], y[:, 0], T([1.0, -1, 1, -1]), 0.2),
         (x[:, 0], y[:, 0], T([1.0, -1, 1, -1]))),
        (nn.TripletMarginLoss(2.0, swap=True), F.triplet_margin_loss(x, y, p, 2.0, swap=True), (x, y, p)),
        (nn.SoftMarginLoss(), F.soft_margin_loss(x, y.sign()), (x, y.sign())),
        (nn.HingeEmbeddingLoss(0.5), F.hinge_embedding_loss(x, y.sign(), 0.5), (x, y.sign())),
        (nn.MultiLabelSoftMarginLoss(weight=w), F.multilabel_soft_margin_loss(x, yb, weight=w), (x, yb)),
    ]
    for module, expected, args in pairs:
        assert_close(module(*args), expected, msg=repr(module))
    g = nn.GaussianNLLLoss(full=True)
    assert_close(g(x, y, p + 0.1), F.gaussian_nll_loss(x, y, p + 0.1, full=True))


def test_loss_module_state_and_repr():
    w = ember.ones(3)
    assert list(nn.CrossEntropyLoss(weight=w).state_dict()) == ["weight"]
    assert list(nn.CrossEntropyLoss().state_dict()) == []
    assert list(nn.BCEWithLogitsLoss(weight=w, pos_weight=w).state_dict()) == ["weight", "pos_weight"]
    assert list(nn.NLLLoss(weight=w).buffers())[0] is w
    m = nn.CrossEntropyLoss(reduction="sum", ignore_index=3, label_smoothing=0.2)
    assert (m.reduction, m.ignore_index, m.label_smoothing, m.weight) == ("sum", 3, 0.2, None)
    for module, text in [(nn.CrossEntropyLoss(), "CrossEntropyLoss()"), (nn.MSELoss(reduction="sum"), "MSELoss()"),
                         (nn.BCEWithLogitsLoss(pos_weight=w), "BCEWithLogitsLoss()"),
                         (nn.TripletMarginLoss(), "TripletMarginLoss()"), (nn.GaussianNLLLoss(), "GaussianNLLLoss()")]:
        assert repr(module) == text


@pytest.mark.parametrize("size_average,reduce,expected", [(None, None, "mean"), (False, None, "sum"),
                                                          (None, False, "none"), (True, True, "mean"),
                                                          (False, True, "sum")])
def test_legacy_size_average_and_reduce(size_average, reduce, expected):
    kw = {k: v for k, v in (("size_average", size_average), ("reduce", reduce)) if v is not None}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = nn.MSELoss(**kw)
        ce = nn.CrossEntropyLoss(**kw)
        out = F.l1_loss(T([1.0, 3.0]), T([0.0, 0.0]), **kw)
    assert m.reduction == expected and ce.reduction == expected
    assert_close(out, reduce_np(np.array([1.0, 3.0]), expected))
    if kw:
        assert any(f"please use reduction='{expected}' instead" in str(w.message) for w in caught)
    else:
        assert not caught
