"""BatchNorm, InstanceNorm, LayerNorm, GroupNorm, RMSNorm: forward vs NumPy, gradients, running stats, keys."""
import numpy as np
import pytest

import ember
from ember import nn
from ember.nn import functional as F
from ember.testing import assert_close, check_op


def np_norm(x, axes, eps):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps)


def test_batchnorm2d_training_forward_and_running_stats():
    bn = nn.BatchNorm2d(3)
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    x = ember.randn(4, 3, 5, 5) * 2 + 1
    y = bn(x)
    xn = x.numpy()
    assert_close(y, np_norm(xn, (0, 2, 3), 1e-5), atol=1e-5, rtol=1e-4)
    batch_mean = xn.mean(axis=(0, 2, 3))
    batch_var = xn.var(axis=(0, 2, 3), ddof=1)
    assert_close(bn.running_mean, 0.1 * batch_mean, atol=1e-6, rtol=1e-5)
    assert_close(bn.running_var, 0.9 + 0.1 * batch_var, atol=1e-6, rtol=1e-5)
    assert bn.num_batches_tracked.item() == 1 and bn.num_batches_tracked.dtype is ember.int64
    bn.eval()
    y_eval = bn(x)
    ref = (xn - bn.running_mean.numpy().reshape(1, 3, 1, 1)) / np.sqrt(bn.running_var.numpy().reshape(1, 3, 1, 1) + 1e-5)
    assert_close(y_eval, ref, atol=1e-5, rtol=1e-4)
    assert repr(bn) == "BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"


def test_batchnorm_cumulative_average_when_momentum_none():
    bn = nn.BatchNorm1d(2, momentum=None)
    xs = [ember.randn(8, 2) for _ in range(3)]
    for x in xs:
        bn(x)
    means = np.mean([x.numpy().mean(0) for x in xs], axis=0)
    assert_close(bn.running_mean, means, atol=1e-6, rtol=1e-5)


def test_batchnorm_errors_and_no_tracking():
    with pytest.raises(ValueError, match="expected 2D or 3D input \\(got 4D input\\)"):
        nn.BatchNorm1d(3)(ember.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        nn.BatchNorm1d(3)(ember.randn(1, 3))
    bn = nn.BatchNorm1d(3, affine=False, track_running_stats=False)
    assert list(bn.state_dict()) == []
    bn.eval()
    x = ember.randn(6, 3)
    assert_close(bn(x), np_norm(x.numpy(), (0,), 1e-5), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradcheck(training):
    rm, rv = ember.tensor([0.1, -0.2], dtype=ember.float64), ember.tensor([1.5, 0.7], dtype=ember.float64)

    def fn(x, w, b):
        return F.batch_norm(x, rm.clone(), rv.clone(), w, b, training=training)
    check_op(fn, np.random.default_rng(0).standard_normal((4, 2, 3)), np.array([1.5, -0.5]), np.array([0.1, 0.2]))


def np_batch_norm(x, w=None, b=None):
    y = np_norm(x, (0,) + tuple(range(2, x.ndim)), 1e-5)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return y * (1 if w is None else w.reshape(shape)) + (0 if b is None else b.reshape(shape))


@pytest.mark.parametrize("shape", [(3, 4, 5, 6), (5, 3), (2, 3, 7)])
def test_training_batch_norm_fused_node(shape):
    # The fused training node against NumPy (float32/float64, permuted/sliced/expanded inputs), gradcheck and
    # double backward (its create_graph path), with and without the affine parameters.
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape) * 3 + 2
    c = shape[1]
    w, b = rng.standard_normal(c), rng.standard_normal(c)
    check_op(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), x, w, b, reference=np_batch_norm)
    check_op(lambda x: F.batch_norm(x, None, None, training=True), x, reference=np_batch_norm)


def test_training_batch_norm_gradients_match_closed_form_in_float32():
    # Independent of gradcheck: the float32 gradients of sum(y * g) against the textbook formula in float64.
    rng = np.random.default_rng(2)
    xn, gn = rng.standard_normal((8, 5, 6, 7)), rng.standard_normal((8, 5, 6, 7))
    wn, bn_ = rng.standard_normal(5), rng.standard_normal(5)
    x = ember.tensor(xn, dtype=ember.float32, requires_grad=True)
    w = ember.tensor(wn, dtype=ember.float32, requires_grad=True)
    b = ember.tensor(bn_, dtype=ember.float32, requires_grad=True)
    (F.batch_norm(x, None, None, w, b, training=True) * ember.tensor(gn, dtype=ember.float32)).sum().backward()
    axes, shape = (0, 2, 3), (1, -1, 1, 1)
    xhat = np_norm(xn, axes, 1e-5)
    rstd = 1 / np.sqrt(xn.var(axis=axes, keepdims=True) + 1e-5)
    gxhat = gn * wn.reshape(shape)
    dx = rstd * (gxhat - gxhat.mean(axes, keepdims=True) - xhat * (gxhat * xhat).mean(axes, keepdims=True))
    assert_close(x.grad, dx, atol=1e-5, rtol=1e-4)
    assert_close(w.grad, (gn * xhat).sum(axes), atol=1e-4, rtol=1e-5)
    assert_close(b.grad, gn.sum(axes), atol=1e-4, rtol=1e-5)


def test_training_batch_norm_large_mean_keeps_float32_precision():
    # Two-pass statistics: a mean 10^4 times the spread must not cancel the variance away.
    x = np.random.default_rng(3).standard_normal((16, 4, 8, 8)) * 0.5 + 5000.0
    y = F.batch_norm(ember.tensor(x, dtype=ember.float32), None, None, training=True)
    assert_close(y, np_norm(x.astype(np.float32).astype(np.float64), (0, 2, 3), 1e-5), atol=2e-3, rtol=0)


def test_training_batch_norm_frozen_affine_and_running_stats():
    # Only the input needs a gradient (frozen affine); running statistics still come from the fused node.
    bn = nn.BatchNorm2d(3)
    bn.weight.requires_grad_(False)
    bn.bias.requires_grad_(False)
    x = (ember.randn(4, 3, 5, 5) * 2 + 1).requires_grad_()
    bn(x).pow(2).sum().backward()
    assert x.grad is not None and bn.weight.grad is None and bn.bias.grad is None
    assert_close(bn.running_mean, 0.1 * x.detach().numpy().mean(axis=(0, 2, 3)), atol=1e-6, rtol=1e-5)


def test_layer_norm_forward_gradients_and_errors():
    ln = nn.LayerNorm(4)
    assert list(ln.state_dict()) == ["weight", "bias"]
    x = ember.randn(2, 3, 4)
    assert_close(ln(x), np_norm(x.numpy(), (2,), 1e-5), atol=1e-5, rtol=1e-4)
    x, w, b = (np.random.default_rng(i).standard_normal(s) for i, s in enumerate(((2, 3), (3,), (3,))))
    check_op(lambda x, w, b: F.layer_norm(x, (3,), w, b), x, w, b,
             reference=lambda x, w, b: np_norm(x, (1,), 1e-5) * w + b)
    with pytest.raises(RuntimeError, match="Given normalized_shape=\\[3\\], expected input with shape \\[\\*, 3\\], "
                                           "but got input of size\\[2, 4\\]"):
        F.layer_norm(ember.randn(2, 4), (3,))
    assert repr(nn.LayerNorm((2, 3))) == "LayerNorm((2, 3), eps=1e-05, elementwise_affine=True)"


def test_group_norm_and_instance_norm():
    gn = nn.GroupNorm(2, 4)
    x = ember.randn(3, 4, 2, 2)
    ref = np_norm(x.numpy().reshape(3, 2, -1), (2,), 1e-5).reshape(3, 4, 2, 2)
    assert_close(gn(x), ref, atol=1e-5, rtol=1e-4)
    assert list(gn.state_dict()) == ["weight", "bias"]
    with pytest.raises(ValueError, match="num_channels must be divisible by num_groups"):
        nn.GroupNorm(3, 4)
    check_op(lambda x: F.group_norm(x, 2), np.random.default_rng(0).standard_normal((2, 4, 3)),
             reference=lambda x: np_norm(x.reshape(2, 2, -1), (2,), 1e-5).reshape(2, 4, 3), double_backward=False)
    inorm = nn.InstanceNorm2d(4)
    assert list(inorm.state_dict()) == []
    assert_close(inorm(x), np_norm(x.numpy(), (2, 3), 1e-5), atol=1e-5, rtol=1e-4)
    assert inorm(x[0]).shape == (4, 2, 2)  # unbatched input
    tracked = nn.InstanceNorm2d(4, affine=True, track_running_stats=True)
    assert list(tracked.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    tracked(x)
    assert_close(tracked.running_mean, 0.1 * x.numpy().mean(axis=(2, 3)).mean(0), atol=1e-6, rtol=1e-5)


def test_rms_norm():
    rms = nn.RMSNorm(3, eps=1e-6)
    assert list(rms.state_dict()) == ["weight"]
    x = ember.randn(2, 3)
    xn = x.numpy()
    assert_close(rms(x), xn / np.sqrt((xn ** 2).mean(-1, keepdims=True) + 1e-6), atol=1e-6, rtol=1e-5)
    x, w = np.random.default_rng(0).standard_normal((2, 3)), np.random.default_rng(1).standard_normal(3)
    check_op(lambda x, w: F.rms_norm(x, (3,), w, eps=1e-6), x, w,
             reference=lambda x, w: x / np.sqrt((x ** 2).mean(-1, keepdims=True) + 1e-6) * w)


def test_normalize_and_lrn():
    check_op(F.normalize, np.random.default_rng(0).standard_normal((3, 4)),
             reference=lambda x: x / np.linalg.norm(x, axis=1, keepdims=True), double_backward=False)
    check_op(lambda t: F.normalize(t, dim=0), np.random.default_rng(1).standard_normal((3, 4)),
             reference=lambda x: x / np.linalg.norm(x, axis=0, keepdims=True), double_backward=False)
    lrn = nn.LocalResponseNorm(3)
    y = lrn(ember.ones(1, 5, 2, 2))
    assert y.shape == (1, 5, 2, 2)


def test_load_old_checkpoint_without_num_batches_tracked():
    bn = nn.BatchNorm1d(2)
    sd = bn.state_dict()
    del sd["num_batches_tracked"]
    nn.BatchNorm1d(2).load_state_dict(sd)
