"""Activation functions and modules (ember.nn.functional / ember.nn): forward against NumPy
references (including extreme inputs), gradients at PyTorch's conventions, gradcheck and
gradgradcheck, in-place variants, module reprs and state, the fast erf, and errors."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.ops._erf import _erf, _normal_cdf
from ember.testing import assert_close, check_op

HYP = settings(max_examples=25, deadline=None)

EXTREME = np.array([-1e4, -800.0, -100.0, -30.0, -20.5, -5.0, -3.0, -1.0, -1e-8, 0.0, 1e-8, 0.5, 1.0, 3.0, 5.0,
                    19.5, 20.5, 30.0, 100.0, 800.0, 1e4])
TOL = {np.float32: dict(rtol=2e-6, atol=2e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}

# ---- independent NumPy references ---------------------------------------------------------
_np_erf = np.vectorize(math.erf, otypes=[float])
SELU_A, SELU_L = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _softplus(a):
    return np.logaddexp(0.0, a)


def _sigmoid(a):
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-a))


def _elu(a, alpha):
    with np.errstate(over="ignore"):
        return np.where(a > 0, a, alpha * np.expm1(np.minimum(a, 0)))


REFS = {
    "relu": (lambda x: F.relu(x), lambda a: np.maximum(a, 0)),
    "relu6": (lambda x: F.relu6(x), lambda a: np.clip(a, 0, 6)),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), lambda a: np.where(a > 0, a, 0.2 * a)),
    "elu": (lambda x: F.elu(x, 0.7), lambda a: _elu(a, 0.7)),
    "selu": (lambda x: F.selu(x), lambda a: SELU_L * _elu(a, SELU_A)),
    "celu": (lambda x: F.celu(x, 1.5), lambda a: np.where(a > 0, a, 1.5 * np.expm1(np.minimum(a, 0) / 1.5))),
    "gelu": (lambda x: F.gelu(x), lambda a: a * 0.5 * (1 + _np_erf(a / math.sqrt(2)))),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"),
                  lambda a: 0.5 * a * (1 + np.tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a ** 3)))),
    "silu": (lambda x: F.silu(x), lambda a: a * _sigmoid(a)),
    "mish": (lambda x: F.mish(x), lambda a: a * np.tanh(_softplus(a))),
    "hardswish": (lambda x: F.hardswish(x), lambda a: a * np.clip(a + 3, 0, 6) / 6),
    "hardsigmoid": (lambda x: F.hardsigmoid(x), lambda a: np.clip(a / 6 + 0.5, 0, 1)),
    "hardtanh": (lambda x: F.hardtanh(x, -2.0, 1.5), lambda a: np.clip(a, -2.0, 1.5)),
    "tanh": (lambda x: F.tanh(x), np.tanh),
    "sigmoid": (lambda x: F.sigmoid(x), _sigmoid),
    "softplus": (lambda x: F.softplus(x), lambda a: np.where(a > 20, a, _softplus(a))),
    "softplus_beta": (lambda x: F.softplus(x, beta=2.0, threshold=10.0),
                      lambda a: np.where(2 * a > 10, a, _softplus(2 * a) / 2)),
    "softsign": (lambda x: F.softsign(x), lambda a: a / (1 + np.abs(a))),
    "tanhshrink": (lambda x: F.tanhshrink(x), lambda a: a - np.tanh(a)),
    "logsigmoid": (lambda x: F.logsigmoid(x), lambda a: -_softplus(-a)),
    "threshold": (lambda x: F.threshold(x, 0.5, -3.0), lambda a: np.where(a > 0.5, a, -3.0)),
    "hardshrink": (lambda x: F.hardshrink(x, 0.7), lambda a: np.where(np.abs(a) > 0.7, a, 0.0)),
    "softshrink": (lambda x: F.softshrink(x, 0.7),
                   lambda a: np.where(a > 0.7, a - 0.7, np.where(a < -0.7, a + 0.7, 0.0))),
    "rrelu_eval": (lambda x: F.rrelu(x, 0.1, 0.3), lambda a: np.where(a >= 0, a, 0.2 * a)),
}
# Kinks where a finite difference is meaningless (gradcheck samples stay away from them).
KINKS = {"relu": [0], "relu6": [0, 6], "leaky_relu": [0], "elu": [0], "selu": [0], "celu": [0],
         "hardswish": [-3, 3], "hardsigmoid": [-3, 3], "hardtanh": [-2, 1.5], "threshold": [0.5],
         "hardshrink": [-0.7, 0.7], "softshrink": [-0.7, 0.7], "rrelu_eval": [0]}


def _away_from_kinks(name, n=7, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.uniform(-4, 4, n)
    for k in KINKS.get(name, []):
        a = np.where(np.abs(a - k) < 0.1, a + 0.25, a)
    return a


# ---- forward -------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(REFS))
def test_forward_backward_and_double_backward(name):
    """Forward against NumPy (extreme inputs included) in float32 and float64; gradcheck and gradgradcheck
    away from the kinks."""
    fn, ref = REFS[name]
    a = np.concatenate([EXTREME, np.random.default_rng(1).standard_normal(20) * 3])
    check_op(fn, a, reference=ref, tol=TOL, grad_inputs=(_away_from_kinks(name),))


@pytest.mark.parametrize("name", ["gelu", "gelu_tanh", "silu", "mish", "softplus", "logsigmoid", "elu", "selu",
                                  "celu", "sigmoid", "tanh", "softsign", "hardswish"])
def test_gradients_are_finite_for_extreme_inputs(name):
    fn, _ = REFS[name]
    for dtype in (ember.float32, ember.float64):
        x = ember.tensor(EXTREME, dtype=dtype, requires_grad=True)
        fn(x).sum().backward()
        assert np.all(np.isfinite(x.grad.numpy())), (name, x.grad)


def test_gelu_third_derivative_is_exact():
    x = ember.tensor([0.3, -1.2, 2.5], dtype=ember.float64, requires_grad=True)
    (g1,) = ember.autograd.grad(F.gelu(x).sum(), x, create_graph=True)
    (g2,) = ember.autograd.grad(g1.sum(), x, create_graph=True)
    (g3,) = ember.autograd.grad(g2.sum(), x)
    a = x.detach().numpy()
    phi = np.exp(-a * a / 2) / math.sqrt(2 * math.pi)
    assert_close(g1, 0.5 * (1 + _np_erf(a / math.sqrt(2))) + a * phi, rtol=1e-13, atol=1e-14)
    assert_close(g2, phi * (2 - a * a), rtol=1e-13, atol=1e-14)
    assert_close(g3, phi * (a ** 3 - 4 * a), rtol=1e-13, atol=1e-14)


def test_gradients_at_kinks_follow_pytorch():
    x = ember.tensor([-3.0, 3.0, 0.0, -1.0, 1.0, 6.0], requires_grad=True)
    expected = {  # values PyTorch 2.x returns at these points
        "hardswish": [0.0, 1.0, 0.5, 1 / 6, 5 / 6, 1.0],
        "hardsigmoid": [0.0, 0.0, 1 / 6, 1 / 6, 1 / 6, 0.0],
        "relu6": [0.0, 1.0, 0.0, 0.0, 1.0, 0.0],
        "hardtanh": [0.0, 0.0, 1.0, 0.0, 0.0, 0.0],
        "relu": [0.0, 1.0, 0.0, 0.0, 1.0, 1.0],
        "leaky_relu": [0.01, 1.0, 0.01, 0.01, 1.0, 1.0],
        "threshold": [0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
        "hardshrink": [1.0, 1.0, 0.0, 1.0, 1.0, 1.0],
        "softplus": [_sigmoid(-3.0), _sigmoid(3.0), 0.5, _sigmoid(-1.0), _sigmoid(1.0), _sigmoid(6.0)],
        "logsigmoid": [_sigmoid(3.0), _sigmoid(-3.0), 0.5, _sigmoid(1.0), _sigmoid(-1.0), _sigmoid(-6.0)],
    }
    fns = {"hardtanh": lambda t: F.hardtanh(t), "threshold": lambda t: F.threshold(t, 1.0, 5.0)}
    for name, want in expected.items():
        fn = fns.get(name, getattr(F, name))
        (g,) = ember.autograd.grad(fn(x).sum(), x)
        assert_close(g, np.array(want, dtype=np.float32), msg=name)
    z = ember.zeros(2, requires_grad=True)
    for fn, want in [(lambda t: F.elu(t, 0.5), 0.5), (lambda t: F.celu(t, 0.5), 1.0),
                     (F.selu, SELU_A * SELU_L), (F.gelu, 0.5), (F.silu, 0.5)]:
        (g,) = ember.autograd.grad(fn(z).sum(), z)
        assert_close(g, np.full(2, want, np.float32))


@HYP
@given(shape=st.lists(st.integers(1, 4), min_size=0, max_size=3), seed=st.integers(0, 1000),
       name=st.sampled_from(["gelu", "gelu_tanh", "silu", "logsigmoid", "softplus"]))
def test_fused_ops_on_random_shapes(shape, seed, name):
    fn, ref = REFS[name]
    a = np.random.default_rng(seed).standard_normal(shape) * 4
    x = ember.tensor(a, requires_grad=True)
    y = fn(x)
    assert tuple(y.shape) == tuple(shape)
    assert_close(y, ref(a), **TOL[np.float64])
    g = np.random.default_rng(seed + 1).standard_normal(shape)
    y.backward(ember.tensor(g))
    h = 1e-6   # central difference of the reference
    assert_close(x.grad, g * (ref(a + h) - ref(a - h)) / (2 * h), rtol=1e-6, atol=1e-8)


def test_half_precision_is_computed_in_float32():
    a = np.linspace(-6, 6, 25)
    for fn, ref in (REFS["gelu"], REFS["silu"], REFS["logsigmoid"]):
        x = ember.tensor(a.astype(np.float16), requires_grad=True)
        y = fn(x)
        assert y.dtype == ember.float16
        assert_close(y.float(), ref(a.astype(np.float16).astype(np.float64)), rtol=2e-3, atol=2e-3)
        y.sum().backward()
        assert x.grad.dtype == ember.float16


# ---- erf --------------------------------------------------------------------------------
def test_fast_erf_accuracy_against_math_erf():
    a = np.concatenate([np.linspace(-7, 7, 20001), [0.999999, 1.0, 1.000001, 3.99, 4.0, 4.01, 5.99, 6.0, 6.01]])
    for dtype, tol in ((np.float64, 5e-15), (np.float32, 2e-7)):
        x = a.astype(dtype)
        err = np.abs(_erf(np, x).astype(np.float64) - _np_erf(x.astype(np.float64)))
        assert err.max() < tol, (dtype, err.max(), x[np.argmax(err)])
    tiny = np.array([1e-300, -1e-30, 1e-10, 3e-5, -0.01])
    assert_close(_erf(np, tiny), _np_erf(tiny), rtol=1e-14, atol=0)
    out = _erf(np, np.array([np.inf, -np.inf, np.nan, 0.0, -0.0]))
    assert out[0] == 1 and out[1] == -1 and np.isnan(out[2]) and out[3] == 0 and np.signbit(out[4])


def test_normal_cdf_left_tail_is_relatively_accurate():
    x = np.array([-1.5, -3.0, -6.0, -8.0, -8.4])
    expected = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in x])
    assert_close(_normal_cdf(np, x), expected, rtol=1e-13, atol=0)
    # and gelu there keeps its relative accuracy (1 + erf would cancel to 0 or noise)
    assert_close(F.gelu(ember.tensor(x)), x * expected, rtol=1e-13, atol=0)


# ---- other functional forms --------------------------------------------------------------
def test_prelu_per_channel_and_shared():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 3, 2, 2))
    w = np.array([0.1, -0.5, 2.0])
    check_op(F.prelu, a, w, reference=lambda a, w: np.where(a > 0, a, w[None, :, None, None] * a))
    one = ember.tensor([0.3], dtype=ember.float64)
    assert_close(F.prelu(ember.tensor(a), one), np.where(a > 0, a, 0.3 * a))
    assert_close(F.prelu(ember.tensor(a[0, 0, 0]), one), np.where(a[0, 0, 0] > 0, a[0, 0, 0], 0.3 * a[0, 0, 0]))


def test_glu_softmin_softmax2d():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 4, 3))
    check_op(F.glu, a, 1, reference=lambda a, dim: a[:, :2] * _sigmoid(a[:, 2:]))
    x = ember.tensor(a, requires_grad=True)
    assert_close(F.glu(x[:, :, :2]), a[:, :, :1] * _sigmoid(a[:, :, 1:2]))
    e = np.exp(-a - (-a).max(1, keepdims=True))
    assert_close(F.softmin(x, 1), e / e.sum(1, keepdims=True))
    assert F.softmin(x, 1, dtype=ember.float32).dtype == ember.float32
    e = np.exp(a - a.max(0, keepdims=True))
    assert_close(F.softmax2d(x), e / e.sum(0, keepdims=True))
    with pytest.raises(ValueError, match="Softmax2d: expected input to be 3D or 4D, got 2D instead"):
        F.softmax2d(x[0])


def test_rrelu_training_slopes_lie_in_range():
    ember.manual_seed(0)
    x = -ember.ones(1000, dtype=ember.float64)
    y = F.rrelu(x, 0.1, 0.3, training=True)
    slopes = -y.numpy()
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and slopes.std() > 0.03
    assert_close(F.rrelu(ember.tensor([2.0, -2.0]), training=True)[0], 2.0)


def test_integer_inputs():
    i = ember.tensor([-2, 0, 3, 9])
    assert F.relu(i).dtype == ember.int64 and F.relu(i).tolist() == [0, 0, 3, 9]
    assert F.relu6(i).dtype == ember.int64 and F.relu6(i).tolist() == [0, 0, 3, 6]
    assert F.hardtanh(i).tolist() == [-1, 0, 1, 1]
    assert F.threshold(i, 1, 7).tolist() == [7, 7, 3, 9]
    assert F.tanh(i).dtype == ember.float32 and F.sigmoid(i).dtype == ember.float32
    for fn in (F.gelu, F.silu, F.elu, F.leaky_relu, F.softplus, F.logsigmoid, F.mish, F.hardswish):
        with pytest.raises(NotImplementedError, match="not implemented for"):
            fn(i)


# ---- in-place variants -------------------------------------------------------------------
INPLACE = [
    ("relu", lambda t: F.relu(t, inplace=True), "relu"),
    ("relu_", F.relu_, "relu"),
    ("relu6", lambda t: F.relu6(t, inplace=True), "relu6"),
    ("leaky_relu", lambda t: F.leaky_relu(t, 0.2, inplace=True), "leaky_relu"),
    ("leaky_relu_", lambda t: F.leaky_relu_(t, 0.2), "leaky_relu"),
    ("elu", lambda t: F.elu(t, 0.7, inplace=True), "elu"),
    ("elu_", lambda t: F.elu_(t, 0.7), "elu"),
    ("selu", lambda t: F.selu(t, inplace=True), "selu"),
    ("celu", lambda t: F.celu(t, 1.5, inplace=True), "celu"),
    ("silu", lambda t: F.silu(t, inplace=True), "silu"),
    ("mish", lambda t: F.mish(t, inplace=True), "mish"),
    ("hardswish", lambda t: F.hardswish(t, inplace=True), "hardswish"),
    ("hardsigmoid", lambda t: F.hardsigmoid(t, inplace=True), "hardsigmoid"),
    ("hardtanh_", lambda t: F.hardtanh_(t, -2.0, 1.5), "hardtanh"),
    ("threshold_", lambda t: F.threshold_(t, 0.5, -3.0), "threshold"),
    ("rrelu_", lambda t: F.rrelu_(t, 0.1, 0.3), "rrelu_eval"),
]


@pytest.mark.parametrize("name,fn,ref", INPLACE, ids=[c[0] for c in INPLACE])
def test_inplace_variants(name, fn, ref):
    a = _away_from_kinks(ref, 6)
    fwd, np_ref = REFS[ref]
    x = ember.tensor(a)
    v = x._version
    out = fn(x)
    assert out is x and x._version > v
    assert_close(x, np_ref(a))
    # On a non-leaf, autograd follows the in-place op (the gradient is the out-of-place one's).
    leaf = ember.tensor(a, requires_grad=True)
    y = leaf * 1.0
    fn(y)
    y.sum().backward()
    leaf2 = ember.tensor(a, requires_grad=True)
    fwd(leaf2).sum().backward()
    assert_close(leaf.grad, leaf2.grad)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        fn(ember.tensor(a, requires_grad=True))


# ---- devices ---------------------------------------------------------------------------
def test_activations_stay_on_the_tensor_device(accel):
    a = np.linspace(-3, 3, 7)
    x = ember.tensor(a).to("accel:1").requires_grad_()
    for name in ("gelu", "gelu_tanh", "silu", "logsigmoid", "softplus", "elu", "hardswish", "mish"):
        fn, ref = REFS[name]
        y = fn(x)
        assert y.device == ember.device("accel:1")
        assert_close(y.cpu(), ref(a))
        (g,) = ember.autograd.grad(y.sum(), x)
        assert g.device == ember.device("accel:1")
    w = ember.tensor([0.25]).to("accel:1")
    assert F.prelu(x.reshape(1, 7), w.double()).device == ember.device("accel:1")


# ---- modules ----------------------------------------------------------------------------
REPRS = [
    (nn.ReLU(), "ReLU()"), (nn.ReLU(True), "ReLU(inplace=True)"), (nn.ReLU6(), "ReLU6()"),
    (nn.ReLU6(inplace=True), "ReLU6(inplace=True)"), (nn.LeakyReLU(), "LeakyReLU(negative_slope=0.01)"),
    (nn.LeakyReLU(0.2, True), "LeakyReLU(negative_slope=0.2, inplace=True)"),
    (nn.PReLU(), "PReLU(num_parameters=1)"), (nn.PReLU(3, 0.1), "PReLU(num_parameters=3)"),
    (nn.ELU(), "ELU(alpha=1.0)"), (nn.ELU(0.5, True), "ELU(alpha=0.5, inplace=True)"), (nn.SELU(), "SELU()"),
    (nn.SELU(True), "SELU(inplace=True)"), (nn.CELU(), "CELU(alpha=1.0)"),
    (nn.GELU(), "GELU(approximate='none')"), (nn.GELU("tanh"), "GELU(approximate='tanh')"), (nn.SiLU(), "SiLU()"),
    (nn.SiLU(True), "SiLU(inplace=True)"), (nn.Mish(), "Mish()"), (nn.Hardswish(True), "Hardswish()"),
    (nn.Hardsigmoid(), "Hardsigmoid()"), (nn.Hardtanh(), "Hardtanh(min_val=-1.0, max_val=1.0)"),
    (nn.Hardtanh(-2, 2, True), "Hardtanh(min_val=-2, max_val=2, inplace=True)"), (nn.Tanh(), "Tanh()"),
    (nn.Sigmoid(), "Sigmoid()"), (nn.Softplus(), "Softplus(beta=1.0, threshold=20.0)"),
    (nn.Softplus(2, 10), "Softplus(beta=2, threshold=10)"), (nn.Softsign(), "Softsign()"),
    (nn.Tanhshrink(), "Tanhshrink()"), (nn.LogSigmoid(), "LogSigmoid()"),
    (nn.Threshold(0.1, 20), "Threshold(threshold=0.1, value=20)"),
    (nn.Threshold(0.1, 20, True), "Threshold(threshold=0.1, value=20, inplace=True)"), (nn.GLU(), "GLU(dim=-1)"),
    (nn.Softmax(), "Softmax(dim=None)"), (nn.Softmax(1), "Softmax(dim=1)"),
    (nn.LogSoftmax(dim=1), "LogSoftmax(dim=1)"), (nn.Softmin(0), "Softmin(dim=0)"), (nn.Softmax2d(), "Softmax2d()"),
    (nn.Hardshrink(), "Hardshrink(0.5)"), (nn.Softshrink(0.3), "Softshrink(0.3)"),
    (nn.RReLU(), "RReLU(lower=0.125, upper=0.3333333333333333)"),
]


@pytest.mark.parametrize("module,text", REPRS, ids=[t for _, t in REPRS])
def test_module_repr(module, text):
    assert repr(module) == text


MODULES = [
    (nn.ReLU(), "relu"), (nn.ReLU6(), "relu6"), (nn.LeakyReLU(0.2), "leaky_relu"), (nn.ELU(0.7), "elu"),
    (nn.SELU(), "selu"), (nn.CELU(1.5), "celu"), (nn.GELU(), "gelu"), (nn.GELU("tanh"), "gelu_tanh"),
    (nn.SiLU(), "silu"), (nn.Mish(), "mish"), (nn.Hardswish(), "hardswish"), (nn.Hardsigmoid(), "hardsigmoid"),
    (nn.Hardtanh(-2.0, 1.5), "hardtanh"), (nn.Tanh(), "tanh"), (nn.Sigmoid(), "sigmoid"),
    (nn.Softplus(), "softplus"), (nn.Softplus(2.0, 10.0), "softplus_beta"), (nn.Softsign(), "softsign"),
    (nn.Tanhshrink(), "tanhshrink"), (nn.LogSigmoid(), "logsigmoid"), (nn.Threshold(0.5, -3.0), "threshold"),
    (nn.Hardshrink(0.7), "hardshrink"), (nn.Softshrink(0.7), "softshrink"), (nn.RReLU(0.1, 0.3).eval(), "rrelu_eval"),
]


@pytest.mark.parametrize("module,name", MODULES, ids=[n for _, n in MODULES])
def test_module_forward_matches_functional(module, name):
    a = np.random.default_rng(3).standard_normal((2, 5)) * 3
    assert_close(module(ember.tensor(a)), REFS[name][1](a))


def test_inplace_module_modifies_its_input():
    x = ember.tensor([-1.0, 2.0])
    assert nn.ReLU(inplace=True)(x) is x and x.tolist() == [0.0, 2.0]
    y = ember.tensor([-1.0, 2.0])
    assert nn.Hardtanh(0.0, 1.0, inplace=True)(y) is y and y.tolist() == [0.0, 1.0]


def test_prelu_module_parameters_and_training():
    m = nn.PReLU(3, init=0.1)
    assert list(m.state_dict()) == ["weight"]
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    assert m.weight.shape == (3,) and m.weight.requires_grad
    assert_close(m.weight, np.full(3, 0.1, np.float32))
    x = ember.tensor(-np.ones((2, 3, 4), np.float32))
    m(x).sum().backward()
    assert_close(m.weight.grad, np.full(3, -8.0, np.float32))
    one = nn.PReLU()
    assert one.weight.shape == (1,) and abs(one.weight.item() - 0.25) < 1e-7
    assert nn.PReLU(2, dtype=ember.float64).weight.dtype == ember.float64
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers and input channel size"):
        m(ember.ones(2, 4))


def test_softmax_modules():
    a = np.random.default_rng(0).standard_normal((2, 3, 4))
    x = ember.tensor(a)
    e = np.exp(a - a.max(1, keepdims=True))
    sm = e / e.sum(1, keepdims=True)
    assert_close(nn.Softmax(dim=1)(x), sm)
    assert_close(nn.LogSoftmax(dim=1)(x), np.log(sm))
    assert_close(nn.Softmin(dim=1)(x), (lambda e: e / e.sum(1, keepdims=True))(np.exp(-a - (-a).max(1, keepdims=True))))
    # dim=None: PyTorch's deprecated implicit choice (dim 0 for 3-d input), with a warning
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax has been deprecated"):
        out = nn.Softmax()(x)
    e0 = np.exp(a - a.max(0, keepdims=True))
    assert_close(out, e0 / e0.sum(0, keepdims=True))
    with pytest.warns(UserWarning, match="Implicit dimension choice for log_softmax"):
        nn.LogSoftmax()(ember.tensor(a[0]))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
        F.softmin(x)


# ---- errors ---------------------------------------------------------------------------
def test_errors():
    x = ember.randn(3, 4)
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        F.gelu(x, approximate="fast")
    with pytest.raises(RuntimeError, match="Halving dimension must be even, but dimension 0 is size 3"):
        F.glu(x, 0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        F.glu(x, 2)
    with pytest.raises(RuntimeError, match="glu does not support scalars"):
        F.glu(ember.tensor(1.0))
    with pytest.raises(RuntimeError, match="Found parameter numbers = 2 and channel size = 4"):
        F.prelu(x, ember.ones(2))
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        F.hardtanh(x, 2.0, 1.0)
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        nn.Hardtanh(2.0, 1.0)
    with pytest.raises(RuntimeError, match="lambda must be greater or equal to 0"):
        F.softshrink(x, -1.0)
    with pytest.raises(TypeError, match="must be Tensor"):
        F.gelu(np.zeros(3))
    with pytest.raises(TypeError, match="must be Tensor"):
        F.relu6([1.0])
