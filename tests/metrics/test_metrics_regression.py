"""Regression metrics against scikit-learn / SciPy, accumulation, stability, gradients and edge cases."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import stats
from sklearn import metrics as skm

import ember
from ember.autograd import gradcheck
from ember.testing import assert_close
import ember_metrics as em
from ember_metrics import functional as F


def T(x, dtype=None):
    return ember.tensor(np.asarray(x), dtype=dtype)


def close(actual, expected, tol=1e-5):
    assert_close(actual, np.asarray(expected, dtype=np.float64).astype(actual.numpy().dtype), rtol=tol, atol=tol)


@pytest.fixture(scope="module")
def xy():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(64, 3))
    y = 0.7 * x + rng.normal(size=(64, 3)) * 0.5
    return x, y


def cosine_ref(a, b):
    return (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))


CASES = [  # (class factory, functional, reference on (preds, target), 1-d data?)
    (lambda: em.MeanSquaredError(), F.mean_squared_error, lambda p, t: skm.mean_squared_error(t, p), True),
    (lambda: em.MeanSquaredError(squared=False), lambda p, t: F.mean_squared_error(p, t, squared=False),
     lambda p, t: np.sqrt(skm.mean_squared_error(t, p)), True),
    (lambda: em.MeanAbsoluteError(), F.mean_absolute_error, lambda p, t: skm.mean_absolute_error(t, p), True),
    (lambda: em.MeanAbsolutePercentageError(), F.mean_absolute_percentage_error,
     lambda p, t: skm.mean_absolute_percentage_error(t, p), True),
    (lambda: em.R2Score(), F.r2_score, lambda p, t: skm.r2_score(t, p), True),
    (lambda: em.ExplainedVariance(), F.explained_variance, lambda p, t: skm.explained_variance_score(t, p), True),
    (lambda: em.PearsonCorrCoef(), F.pearson_corrcoef, lambda p, t: stats.pearsonr(p, t)[0], True),
    (lambda: em.SpearmanCorrCoef(), F.spearman_corrcoef, lambda p, t: stats.spearmanr(p, t)[0], True),
    (lambda: em.CosineSimilarity(reduction="mean"), lambda p, t: F.cosine_similarity(p, t, reduction="mean"),
     lambda p, t: cosine_ref(p, t).mean(), False),
]


@pytest.mark.parametrize("make,fn,ref,one_d", CASES)
def test_against_reference_and_batched_equals_one_shot(xy, make, fn, ref, one_d):
    x, y = xy
    p, t = (x[:, 0], y[:, 0]) if one_d else (x, y)
    p = np.round(p, 1)  # ties for the rank correlation
    expected = ref(p, t)
    close(fn(T(p), T(t)), expected)
    m = make()
    edges = [0, 5, 5, 40, 64]  # uneven batches and an empty one
    for a, b in zip(edges[:-1], edges[1:]):
        if b > a:
            batch = m(T(p[a:b]).float(), T(t[a:b]).float())
            if b - a > 2:
                close(batch, ref(p[a:b], t[a:b]), tol=1e-4)
        else:
            m.update(T(p[a:b]).float(), T(t[a:b]).float())
    res = m.compute()
    assert res.dtype == ember.float32
    close(res, expected, tol=1e-4)


@pytest.mark.parametrize("multioutput", ["raw_values", "uniform_average", "variance_weighted"])
def test_multioutput(xy, multioutput):
    x, y = xy
    close(F.r2_score(T(x), T(y), multioutput=multioutput), skm.r2_score(y, x, multioutput=multioutput))
    close(F.explained_variance(T(x), T(y), multioutput=multioutput),
          skm.explained_variance_score(y, x, multioutput=multioutput))
    m = em.R2Score(num_outputs=3, multioutput=multioutput)
    m.update(T(x[:30]), T(y[:30]))
    m.update(T(x[30:]), T(y[30:]))
    close(m.compute(), skm.r2_score(y, x, multioutput=multioutput), tol=1e-4)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(3, 30), d=st.integers(1, 3), cuts=st.lists(st.integers(0, 30), max_size=3),
       offset=st.sampled_from([0.0, 1e3]), seed=st.integers(0, 2 ** 16))
def test_moment_merging_any_split(n, d, cuts, offset, seed):
    rng = np.random.default_rng(seed)
    t = rng.normal(size=(n, d)) + offset
    p = t + rng.normal(size=(n, d))
    edges = [0] + sorted(min(c, n) for c in cuts) + [n]
    metrics = [em.R2Score(num_outputs=d, multioutput="raw_values"),
               em.ExplainedVariance(num_outputs=d, multioutput="raw_values"), em.PearsonCorrCoef(num_outputs=d),
               em.MeanSquaredError(num_outputs=d)]
    for a, b in zip(edges[:-1], edges[1:]):
        for m in metrics:
            m.update(T(p[a:b]).double().reshape(-1) if d == 1 else T(p[a:b]),
                     T(t[a:b]).double().reshape(-1) if d == 1 else T(t[a:b]))
    expected = [skm.r2_score(t, p, multioutput="raw_values"),
                skm.explained_variance_score(t, p, multioutput="raw_values"),
                [stats.pearsonr(p[:, j], t[:, j])[0] for j in range(d)],
                skm.mean_squared_error(t, p, multioutput="raw_values")]
    for m, e in zip(metrics, expected):
        close(m.compute().reshape(-1), np.asarray(e).reshape(-1), tol=1e-4)


def test_num_outputs_and_per_output_correlations(xy):
    x, y = xy
    mse = em.MeanSquaredError(num_outputs=3)
    mse.update(T(x), T(y))
    close(mse.compute(), skm.mean_squared_error(y, x, multioutput="raw_values"), tol=1e-4)
    close(F.pearson_corrcoef(T(x), T(y)), [stats.pearsonr(x[:, j], y[:, j])[0] for j in range(3)])
    close(F.spearman_corrcoef(T(x), T(y)), [stats.spearmanr(x[:, j], y[:, j])[0] for j in range(3)])
    pc = em.PearsonCorrCoef(num_outputs=3)
    pc.update(T(x[:10]), T(y[:10]))
    pc.update(T(x[10:]), T(y[10:]))
    close(pc.compute(), [stats.pearsonr(x[:, j], y[:, j])[0] for j in range(3)], tol=1e-4)
    with pytest.raises(ValueError, match="`num_outputs` to match the number of outputs"):
        em.R2Score().update(T(x), T(y))


def test_adjusted_r2(xy):
    x, y = xy
    p, t = x[:, 0], y[:, 0]
    n, k = len(t), 3
    close(F.r2_score(T(p), T(t), adjusted=k), 1 - (1 - skm.r2_score(t, p)) * (n - 1) / (n - k - 1))
    with pytest.warns(UserWarning, match="More independent regressions than data points"):
        close(F.r2_score(T(p[:3]), T(t[:3]), adjusted=5), skm.r2_score(t[:3], p[:3]))
    with pytest.raises(ValueError, match="Needs at least two samples"):
        F.r2_score(T([1.0]), T([2.0]))


def test_moment_states_stay_accurate_with_a_large_offset():
    rng = np.random.default_rng(0)
    t = rng.normal(size=4000) + 1e4
    p = t + rng.normal(size=4000) * 0.1
    m, pc = em.R2Score(), em.PearsonCorrCoef()
    for i in range(0, 4000, 500):  # float32 states: raw sums of squares would lose every digit here
        m.update(T(p[i:i + 500]).float(), T(t[i:i + 500]).float())
        pc.update(T(p[i:i + 500]).float(), T(t[i:i + 500]).float())
    close(m.compute(), skm.r2_score(t, p), tol=1e-3)
    close(pc.compute(), stats.pearsonr(p, t)[0], tol=1e-4)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # the documented nan results
def test_constant_inputs_documented_behaviour():
    t = T([2.0, 2.0, 2.0])
    close(F.r2_score(t, t), 1.0)  # constant target, perfect fit
    close(F.r2_score(T([1.0, 2.0, 3.0]), t), 0.0)  # constant target otherwise: 0 (sklearn's force_finite)
    close(F.explained_variance(T([1.0, 2.0, 3.0]), t), skm.explained_variance_score([2.0] * 3, [1.0, 2.0, 3.0]))
    with pytest.warns(UserWarning, match="variance of predictions or target is zero"):
        assert np.isnan(float(F.pearson_corrcoef(T([1.0, 2.0, 3.0]), t)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isnan(float(F.spearman_corrcoef(T([1.0, 2.0, 3.0]), t)))
    assert np.isnan(float(F.cosine_similarity(T([[0.0, 0.0]]), T([[1.0, 2.0]]), reduction="none")[0]))


def test_mape_near_zero_targets_are_clamped():
    close(F.mean_absolute_percentage_error(T([1.0, 1.0]), T([0.0, 2.0])), (1 / 1.17e-6 + 0.5) / 2, tol=1e-3)


def test_cosine_reductions(xy):
    x, y = xy
    ref = cosine_ref(x, y)
    close(F.cosine_similarity(T(x), T(y)), ref.sum())
    close(F.cosine_similarity(T(x), T(y), reduction="none"), ref)
    m = em.CosineSimilarity(reduction=None)
    m.update(T(x[:20]), T(y[:20]))
    m.update(T(x[20:]), T(y[20:]))
    close(m.compute(), ref)
    with pytest.raises(ValueError, match="Expected reduction to be one of"):
        em.CosineSimilarity(reduction="max")
    with pytest.raises(ValueError, match="to be 2D tensors"):
        F.cosine_similarity(T(x[:, 0]), T(y[:, 0]))


def test_gradients_of_differentiable_metrics():
    rng = np.random.default_rng(1)
    p = ember.tensor(rng.normal(size=6), requires_grad=True)
    t = ember.tensor(rng.normal(size=6))
    p2 = ember.tensor(rng.normal(size=(3, 4)), requires_grad=True)
    t2 = ember.tensor(rng.normal(size=(3, 4)))
    for fn in (F.mean_squared_error, F.mean_absolute_error, F.r2_score, F.explained_variance, F.pearson_corrcoef,
               lambda a, b: F.mean_squared_error(a, b, squared=False)):
        assert gradcheck(lambda a: fn(a, t), (p,))
    assert gradcheck(lambda a: F.cosine_similarity(a, t2, reduction="mean"), (p2,))
    for cls in (em.MeanSquaredError, em.R2Score, em.PearsonCorrCoef, em.CosineSimilarity):
        assert cls.is_differentiable
    assert not em.SpearmanCorrCoef.is_differentiable


def test_input_errors():
    with pytest.raises(RuntimeError, match="expected to have the same shape"):
        F.mean_squared_error(T([1.0, 2.0]), T([1.0]))
    with pytest.raises(TypeError, match="both to be floating point tensors"):
        F.spearman_corrcoef(T([1, 2, 3]), T([1, 2, 3]))
    with pytest.raises(ValueError, match="Invalid input to argument `multioutput`"):
        em.R2Score(multioutput="median")
    with pytest.raises(ValueError, match="1D or 2D tensors"):
        F.pearson_corrcoef(T(np.zeros((2, 2, 2))), T(np.zeros((2, 2, 2))))


def test_on_accelerator(accel, xy):
    x, y = xy
    m = em.R2Score().to("accel:0")
    m.update(T(x[:, 0]).float().to("accel:0"), T(y[:, 0]).float().to("accel:0"))
    res = m.compute()
    assert res.device == ember.device("accel:0")
    close(res.cpu(), skm.r2_score(y[:, 0], x[:, 0]), tol=1e-4)
    s = em.SpearmanCorrCoef().to("accel:0")
    s.update(T(x[:, 0]).float().to("accel:0"), T(y[:, 0]).float().to("accel:0"))
    assert s.compute().device == ember.device("accel:0")
