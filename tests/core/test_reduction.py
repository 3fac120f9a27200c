"""Reductions (ember.ops.reduction): forward against NumPy, result dtypes, gradients, errors."""
import pickle
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import ember
from ember.autograd import gradcheck, gradgradcheck
from ember.testing import assert_close

SETTINGS = settings(max_examples=25, deadline=None)
NAN, INF = float("nan"), float("inf")


def T(arr, requires_grad=False):
    """A tensor from a NumPy array (keeping its dtype) or a list (PyTorch's inference: floats -> float32)."""
    return ember.tensor(arr if isinstance(arr, list) else np.asarray(arr), requires_grad=requires_grad)


def leaf(arr):
    return ember.tensor(np.asarray(arr, dtype=np.float64), requires_grad=True)


def check(actual, expected, rtol=None, atol=None):
    """``actual`` (Tensor) has ``expected``'s (NumPy) dtype, shape and values."""
    expected = np.asarray(expected)
    assert isinstance(actual, ember.Tensor)
    assert actual.dtype == ember._dtype.FROM_NP[expected.dtype], (actual.dtype, expected.dtype)
    assert tuple(actual.shape) == expected.shape, (tuple(actual.shape), expected.shape)
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=True)


@st.composite
def array_and_dims(draw, min_ndim=0, max_ndim=4, dtype=np.float64, single=False, low=-3, high=3):
    """A random array (1..4 per dim), a ``dim`` argument (None / int / negative int / tuple) and keepdim."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=min_ndim, max_size=max_ndim)))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    if np.dtype(dtype).kind == "f":
        arr = rng.uniform(low, high, size=shape).astype(dtype)
    elif np.dtype(dtype).kind == "b":
        arr = rng.integers(0, 2, size=shape).astype(bool)
    else:
        arr = rng.integers(low, high + 1, size=shape).astype(dtype)
    n = max(len(shape), 1)
    if single:
        dim = draw(st.integers(-n, n - 1))
    else:
        kind = draw(st.sampled_from(["none", "int", "tuple"]))
        if kind == "none":
            dim = None
        elif kind == "int":
            dim = draw(st.integers(-n, n - 1))
        else:
            axes = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True)) if shape else [0]
            dim = tuple(a - n if draw(st.booleans()) else a for a in axes)
    return arr, dim, draw(st.booleans())


def np_axis(arr, dim):
    """NumPy's axis for an Ember ``dim`` (a 0-d array reduces over everything)."""
    if arr.ndim == 0 or dim is None:
        return None
    return dim


# ---------------------------------------------------------------------------------------
# Forward against NumPy, hypothesis-generated shapes and dims
# ---------------------------------------------------------------------------------------
@SETTINGS
@given(array_and_dims(dtype=np.float64), st.sampled_from([np.float32, np.float64, np.int32, np.int64, np.bool_]))
def test_sum_matches_numpy(case, dtype):
    arr, dim, keepdim = case
    a = arr.astype(dtype)
    want = a.sum(axis=np_axis(a, dim), keepdims=keepdim, dtype=np.int64 if a.dtype.kind in "biu" else a.dtype)
    check(ember.sum(T(a), dim, keepdim), want)
    check(T(a).sum(dim=dim, keepdim=keepdim), want)


@SETTINGS
@given(array_and_dims(), st.sampled_from([np.float32, np.float64]))
def test_mean_matches_numpy(case, dtype):
    arr, dim, keepdim = case
    a = arr.astype(dtype)
    want = a.astype(np.float64).mean(axis=np_axis(a, dim), keepdims=keepdim).astype(dtype)
    check(T(a).mean(dim, keepdim), want)


@SETTINGS
@given(array_and_dims(min_ndim=1), st.sampled_from([0, 1, 0.5]))
def test_var_std_match_numpy(case, correction):
    arr, dim, keepdim = case
    ax = np_axis(arr, dim)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        want_var = np.var(arr, axis=ax, ddof=correction, keepdims=keepdim)
        check(T(arr).var(dim, keepdim=keepdim, correction=correction), want_var)
        check(T(arr).std(dim, keepdim=keepdim, correction=correction), np.sqrt(want_var))
        v, m = ember.var_mean(T(arr), dim, keepdim=keepdim, correction=correction)
        check(v, want_var)
        check(m, arr.mean(axis=ax, keepdims=keepdim))
        s, m = ember.std_mean(T(arr), dim, keepdim=keepdim, correction=correction)
        check(s, np.sqrt(want_var))


@SETTINGS
@given(array_and_dims(dtype=np.int64), st.sampled_from([np.float32, np.float64, np.int32, np.int64, np.bool_]))
def test_amax_amin_all_any_count_nonzero(case, dtype):
    arr, dim, keepdim = case
    a = arr.astype(dtype)
    ax = np_axis(a, dim)
    check(T(a).amax(() if dim is None else dim, keepdim), a.max(axis=ax, keepdims=keepdim))
    check(ember.amin(T(a), () if dim is None else dim, keepdim), a.min(axis=ax, keepdims=keepdim))
    check(T(a).all(dim, keepdim), np.all(a, axis=ax, keepdims=keepdim))
    check(ember.any(T(a), dim, keepdim), np.any(a, axis=ax, keepdims=keepdim))
    check(ember.count_nonzero(T(a), dim), np.asarray(np.count_nonzero(a, axis=ax), dtype=np.int64))


@SETTINGS
@given(array_and_dims(min_ndim=1, low=-20, high=20), st.sampled_from([np.float32, np.float64]))
def test_logsumexp_matches_numpy(case, dtype):
    arr, dim, keepdim = case
    a = arr.astype(dtype)
    dim = 0 if dim is None else dim
    want = np.log(np.exp(a.astype(np.float64)).sum(axis=dim, keepdims=keepdim)).astype(dtype)
    check(T(a).logsumexp(dim, keepdim), want, rtol=1e-5, atol=1e-6)


@SETTINGS
@given(array_and_dims(min_ndim=1), st.sampled_from([2, 1, INF, -INF, 0, 3, 0.5, -1.5, "fro"]))
def test_norm_matches_numpy(case, p):
    arr, dim, keepdim = case
    if p == "fro" and isinstance(dim, tuple) and len(dim) > 2:
        dim = dim[:2]
    ax = np_axis(arr, dim)
    a = np.abs(arr)
    with np.errstate(divide="ignore"):
        if p == INF:
            want = a.max(axis=ax, keepdims=keepdim)
        elif p == -INF:
            want = a.min(axis=ax, keepdims=keepdim)
        elif p == 0:
            want = (a != 0).sum(axis=ax, keepdims=keepdim).astype(np.float64)
        else:
            q = 2 if p == "fro" else p
            want = (a ** q).sum(axis=ax, keepdims=keepdim) ** (1 / q)
    check(T(arr).norm(p, dim, keepdim), want)


@SETTINGS
@given(array_and_dims(min_ndim=1, dtype=np.int64, single=True), st.sampled_from([np.float32, np.float64, np.int64]))
def test_max_min_with_dim_return_values_and_indices(case, dtype):
    arr, dim, keepdim = case
    a = arr.astype(dtype)
    for fn, npv, npi in ((ember.max, np.max, np.argmax), (ember.min, np.min, np.argmin)):
        res = fn(T(a), dim, keepdim)
        values, indices = res
        check(values, npv(a, axis=dim, keepdims=keepdim))
        check(indices, np.asarray(npi(a, axis=dim, keepdims=keepdim), dtype=np.int64))
        assert res.values is values and res.indices is indices
    check(T(a).argmax(dim, keepdim), np.argmax(a, axis=dim, keepdims=keepdim).astype(np.int64))
    check(T(a).argmin(dim=dim, keepdim=keepdim), np.argmin(a, axis=dim, keepdims=keepdim).astype(np.int64))
    check(T(a).max(), np.asarray(a.max()))
    check(T(a).argmax(), np.asarray(np.argmax(a), dtype=np.int64))


@SETTINGS
@given(array_and_dims(min_ndim=1, single=True, low=-2, high=2), st.sampled_from([np.float32, np.float64, np.int32]))
def test_prod_cumsum_cumprod(case, dtype):
    arr, dim, keepdim = case
    a = arr.astype(dtype)
    acc = np.int64 if a.dtype.kind in "iub" else a.dtype
    check(T(a).prod(dim, keepdim), a.prod(axis=dim, keepdims=keepdim, dtype=acc), rtol=1e-5, atol=1e-6)
    check(T(a).prod(), np.asarray(a.prod(dtype=acc)), rtol=1e-5, atol=1e-6)
    check(T(a).cumsum(dim), np.cumsum(a, axis=dim, dtype=acc), rtol=1e-5, atol=1e-5)
    check(ember.cumprod(T(a), dim), np.cumprod(a, axis=dim, dtype=acc), rtol=1e-5, atol=1e-5)


@SETTINGS
@given(array_and_dims(min_ndim=1, dtype=np.int64, single=True, low=-3, high=3), st.sampled_from([np.float64, np.int64]))
def test_median_matches_numpy(case, dtype):
    arr, dim, keepdim = case
    a = arr.astype(dtype)
    n = a.shape[dim]
    want = np.take(np.sort(a, axis=dim), [(n - 1) // 2], axis=dim)   # the lower median
    values, indices = T(a).median(dim, keepdim)
    check(values, want if keepdim else want.squeeze(dim))
    # the index points at an element equal to the median
    idx = indices.numpy() if keepdim else np.expand_dims(indices.numpy(), dim)
    np.testing.assert_array_equal(np.take_along_axis(a, idx, axis=dim), want)
    check(T(a).median(), np.asarray(np.sort(a.reshape(-1))[(a.size - 1) // 2]))


@SETTINGS
@given(array_and_dims(min_ndim=1, single=True, low=-30, high=30), st.sampled_from([np.float32, np.float64]))
def test_softmax_log_softmax_match_numpy(case, dtype):
    arr, dim, _ = case
    a = arr.astype(dtype)
    e = np.exp(a.astype(np.float64) - a.max(axis=dim, keepdims=True))
    sm = e / e.sum(axis=dim, keepdims=True)
    check(ember.softmax(T(a), dim), sm.astype(dtype), rtol=1e-5, atol=1e-6)
    check(T(a).softmax(dim), sm.astype(dtype), rtol=1e-5, atol=1e-6)
    check(ember.log_softmax(T(a), dim), np.log(sm).astype(dtype), rtol=1e-5, atol=1e-5)
    check(T(a).log_softmax(dim, dtype=ember.float64), np.log(sm), rtol=1e-5, atol=1e-5)


@SETTINGS
@given(array_and_dims(min_ndim=1))
def test_nansum_nanmean(case):
    arr, dim, keepdim = case
    a = arr.copy()
    a.reshape(-1)[:: 3] = np.nan
    ax = np_axis(a, dim)
    check(T(a).nansum(dim, keepdim), np.nansum(a, axis=ax, keepdims=keepdim))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = np.nanmean(a, axis=ax, keepdims=keepdim)
    with np.errstate(invalid="ignore"):
        check(ember.nanmean(T(a), dim, keepdim), want)


# ---------------------------------------------------------------------------------------
# Result dtypes and special values
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn, dtype, want", [
    (lambda x: x.sum(), ember.int32, ember.int64),
    (lambda x: x.sum(), ember.bool, ember.int64),
    (lambda x: x.sum(), ember.uint8, ember.int64),
    (lambda x: x.sum(), ember.float16, ember.float16),
    (lambda x: x.sum(dtype=ember.int32), ember.float32, ember.int32),
    (lambda x: x.sum(0, dtype=ember.float64), ember.int64, ember.float64),
    (lambda x: x.mean(), ember.float32, ember.float32),
    (lambda x: x.mean(dtype=ember.float64), ember.int64, ember.float64),
    (lambda x: x.var(), ember.float16, ember.float16),
    (lambda x: x.prod(), ember.int32, ember.int64),
    (lambda x: x.prod(), ember.bool, ember.int64),
    (lambda x: x.prod(0, dtype=ember.int32), ember.float32, ember.int32),
    (lambda x: x.cumsum(0), ember.int32, ember.int64),
    (lambda x: x.cumsum(0, dtype=ember.int32), ember.int32, ember.int32),
    (lambda x: x.cumprod(0), ember.bool, ember.int64),
    (lambda x: x.amax(), ember.int8, ember.int8),
    (lambda x: x.max(), ember.bool, ember.bool),
    (lambda x: x.max(0).indices, ember.float32, ember.int64),
    (lambda x: x.argmax(), ember.float32, ember.int64),
    (lambda x: x.argmin(0), ember.int32, ember.int64),
    (lambda x: x.all(), ember.float32, ember.bool),
    (lambda x: x.any(0), ember.int64, ember.bool),
    (lambda x: x.all(), ember.uint8, ember.uint8),
    (lambda x: x.count_nonzero(), ember.float32, ember.int64),
    (lambda x: x.median(), ember.int32, ember.int32),
    (lambda x: x.logsumexp(0), ember.int64, ember.float32),
    (lambda x: x.nansum(), ember.int32, ember.int64),
    (lambda x: x.norm(dtype=ember.float64), ember.float32, ember.float64),
    (lambda x: x.softmax(0, dtype=ember.float64), ember.int64, ember.float64),
])
def test_result_dtypes(fn, dtype, want):
    x = ember.tensor(np.array([1, 2, 0, 3]).astype(dtype.np))
    assert fn(x).dtype == want


def test_default_dtype_for_logsumexp_of_integers():
    ember.set_default_dtype(ember.float64)
    assert T([1, 2]).logsumexp(0).dtype == ember.float64


def test_float16_reductions_accumulate_in_float32():
    x = ember.ones(5000, dtype=ember.float16)
    assert x.sum().item() == 5000.0          # float16 accumulation would stall at 2048
    assert x.mean().item() == 1.0


def test_zero_dim_inputs():
    x = ember.tensor(3.0)
    for dim in (0, -1):
        check(x.sum(dim), np.asarray(3.0, np.float32))
        check(x.sum(dim, keepdim=True), np.asarray(3.0, np.float32))
        check(x.cumsum(dim), np.asarray(3.0, np.float32))
        check(x.softmax(dim), np.asarray(1.0, np.float32))
        check(x.log_softmax(dim), np.asarray(0.0, np.float32))
        check(x.argmax(dim), np.asarray(0))
        check(x.prod(dim), np.asarray(3.0, np.float32))
        check(x.logsumexp(dim), np.asarray(3.0, np.float32))
        values, indices = x.max(dim)
        check(values, np.asarray(3.0, np.float32))
        check(indices, np.asarray(0))
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.sum(1)


def test_empty_inputs():
    e = ember.zeros(0, 3)
    check(e.sum(), np.asarray(0.0, np.float32))
    check(e.prod(), np.asarray(1.0, np.float32))
    check(e.sum(0), np.zeros(3, np.float32))
    check(e.amax(1), np.zeros(0, np.float32))
    check(e.logsumexp(0), np.full(3, -np.inf, np.float32))
    check(e.all(), np.asarray(True))
    check(e.norm(), np.asarray(0.0, np.float32))
    check(e.softmax(0), np.zeros((0, 3), np.float32))
    with np.errstate(invalid="ignore"):
        assert np.isnan(e.mean().item())
    values, indices = e.max(1)
    check(values, np.zeros(0, np.float32))
    check(indices, np.zeros(0, np.int64))


def test_keepdim_with_all_dims():
    x = ember.ones(2, 3)
    assert x.sum(keepdim=True).shape == (1, 1)
    assert x.argmax(keepdim=True).shape == (1, 1)
    assert x.amax(keepdim=True).shape == (1, 1)
    assert x.sum(()).shape == ()                 # an empty dim list reduces everything, as in PyTorch


def test_nan_propagation():
    x = T([[1.0, NAN, 0.0], [1.0, 2.0, 3.0]])
    values, indices = x.max(1)
    check(values, np.array([NAN, 3.0], np.float32))
    check(indices, np.array([1, 2]))
    assert np.isnan(x.max().item()) and np.isnan(x.amin().item())
    check(x.argmin(1), np.array([1, 0]))
    check(x.median(1).values, np.array([NAN, 2.0], np.float32))
    check(x.median(1).indices, np.array([1, 1]))
    assert np.isnan(x.median().item())
    assert x.nanmedian().item() == 1.0
    check(x.nanmedian(1).values, np.array([0.0, 2.0], np.float32))
    check(x.nanmedian(1).indices, np.array([2, 1]))
    check(x.nansum(1), np.array([1.0, 6.0], np.float32))


def test_median_ties_and_lower_median():
    x = T([1.0, 2.0, 2.0, 3.0, 2.0])
    assert x.median().item() == 2.0
    assert T([4.0, 1.0, 3.0, 2.0]).median().item() == 2.0    # lower of the two middle values
    r = ember.median(T([[3.0, 1.0, 3.0]]), 1, keepdim=True)
    check(r.values, np.array([[3.0]], np.float32))
    assert r.indices.item() in (0, 2)


def test_numerical_stability():
    big = T(np.array([1000.0, 1000.0, -1000.0], np.float32))
    check(big.softmax(0), np.array([0.5, 0.5, 0.0], np.float32))
    check(big.log_softmax(0), np.array([-np.log(2), -np.log(2), -2000 - np.log(2)], np.float32), rtol=1e-6)
    assert_close(big.logsumexp(0), 1000 + np.log(2))
    small = T(np.array([-1000.0, -1000.0]))
    assert_close(small.logsumexp(0), -1000 + np.log(2))
    assert T([-INF, -INF]).logsumexp(0).item() == -INF
    assert T([INF, 1.0]).logsumexp(0).item() == INF
    assert T([-INF, 0.0]).softmax(0).tolist() == [0.0, 1.0]


def test_var_std_overloads():
    x = T(np.array([[1.0, 2.0, 4.0], [3.0, 3.0, 9.0]]))
    a = x.numpy()
    assert_close(x.var(), a.var(ddof=1))
    assert_close(x.var(True), a.var(ddof=1))
    assert_close(x.var(False), a.var())
    assert_close(x.var(unbiased=False), a.var())
    assert_close(x.var(1, False), a.var(axis=1))
    check(x.var(1, True, True), a.var(axis=1, ddof=1, keepdims=True))
    assert_close(x.std(0, correction=0), a.std(axis=0))
    assert_close(ember.std(x, dim=None), a.std(ddof=1))
    assert_close(x.var(correction=2.5), ((a - a.mean()) ** 2).sum() / 3.5)
    with pytest.raises(TypeError, match="unbiased"):
        x.var(unbiased=True, correction=0)
    with pytest.warns(UserWarning, match="degrees of freedom"):
        assert T([1.0, 2.0]).var(correction=2).item() == INF
    with pytest.warns(UserWarning, match="degrees of freedom"):
        assert np.isnan(T([1.0]).std().item())


def test_return_types():
    x = T([[1.0, 5.0], [7.0, 2.0]])
    r = x.max(dim=0)
    assert isinstance(r, tuple) and isinstance(r, ember.return_types.max)
    assert type(r).__name__ == "max" and r._fields == ("values", "indices")
    values, indices = r
    assert values.tolist() == [7.0, 5.0] and indices.tolist() == [1, 0]
    assert "ember.return_types.max(" in repr(r) and "values=" in repr(r)
    assert isinstance(x.min(1), ember.return_types.min)
    assert isinstance(x.median(1), ember.return_types.median)
    mm = ember.aminmax(x)
    assert isinstance(mm, ember.return_types.aminmax) and mm.min.item() == 1.0 and mm.max.item() == 7.0
    mm = x.aminmax(dim=1, keepdim=True)
    check(mm.min, np.array([[1.0], [2.0]], np.float32))
    check(mm.max, np.array([[5.0], [7.0]], np.float32))
    back = pickle.loads(pickle.dumps(r))
    assert type(back) is ember.return_types.max and back.values.tolist() == [7.0, 5.0]


def test_max_min_with_a_second_tensor_are_elementwise():
    a, b = T([1.0, 5.0, 3.0]), T([4.0, 2.0, 3.0])
    check(ember.max(a, b), np.array([4.0, 5.0, 3.0], np.float32))
    check(a.min(b), np.array([1.0, 2.0, 3.0], np.float32))
    check(ember.max(a, other=b), np.array([4.0, 5.0, 3.0], np.float32))
    x, y = leaf([1.0, 5.0, 3.0]), leaf([4.0, 2.0, 3.0])
    ember.max(x, y).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.5] and y.grad.tolist() == [1.0, 0.0, 0.5]


def test_integer_outputs_and_no_grad_mode():
    x = leaf([[1.0, 3.0], [2.0, 0.0]])
    values, indices = x.max(1)
    assert values.requires_grad and not indices.requires_grad
    assert not x.argmax().requires_grad and not x.all().requires_grad
    with ember.no_grad():
        assert not x.sum().requires_grad and x.sum().grad_fn is None
        assert not x.softmax(0).requires_grad


def test_norm_special_cases():
    x = T([[3.0, -4.0], [0.0, 0.0]])
    assert x.norm().item() == 5.0
    check(x.norm(dim=1), np.array([5.0, 0.0], np.float32))
    assert x.norm(p=None).item() == 5.0
    assert x.norm(0).item() == 2.0
    assert x.norm(-INF).item() == 0.0
    assert x.norm(-1).item() == 0.0              # a zero element makes negative norms 0
    assert_close(ember.norm(x, "fro", (0, 1)), 5.0)
    assert_close(T(np.ones((2, 3, 4))).norm(), np.sqrt(24.0))


# ---------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [
    lambda x: x.sum(2), lambda x: x.sum((0, -3)), lambda x: x.mean(5), lambda x: x.var(2), lambda x: x.std(-3),
    lambda x: x.max(2), lambda x: x.min(-3), lambda x: x.amax(2), lambda x: x.argmax(2), lambda x: x.prod(2),
    lambda x: x.cumsum(2), lambda x: x.cumprod(-3), lambda x: x.logsumexp(2), lambda x: x.norm(dim=2),
    lambda x: x.all(2), lambda x: x.any(-3), lambda x: x.count_nonzero(2), lambda x: x.median(2),
    lambda x: x.softmax(2), lambda x: x.log_softmax(-3), lambda x: x.nansum(2), lambda x: x.nanmean(2),
])
def test_dim_out_of_range(fn):
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\]"):
        fn(ember.ones(2, 3))


@pytest.mark.parametrize("fn", [lambda x: x.sum((0, 0)), lambda x: x.amax((1, -1)), lambda x: x.mean((0, -2)),
                                lambda x: x.count_nonzero((0, 0)), lambda x: x.var((1, 1))])
def test_repeated_dims(fn):
    with pytest.raises(RuntimeError, match="appears multiple times in the list of dims"):
        fn(ember.ones(2, 3))


def test_dtype_errors():
    i = T([1, 2, 3])
    with pytest.raises(RuntimeError, match=r"mean\(\): could not infer output dtype.*Got: Long"):
        i.mean()
    with pytest.raises(RuntimeError, match=r"mean\(\).*Got: Bool"):
        T([True]).mean()
    with pytest.raises(RuntimeError, match="Optional dtype must be either a floating point"):
        T([1.0]).mean(dtype=ember.int64)
    with pytest.raises(RuntimeError, match="std and var only support floating point"):
        i.var()
    with pytest.raises(RuntimeError, match="std and var only support floating point"):
        ember.std_mean(i)
    with pytest.raises(RuntimeError, match="nanmean.*floating point.*Long"):
        i.nanmean()
    with pytest.raises(RuntimeError, match="vector_norm: Expected a floating point.*Long"):
        i.norm()
    with pytest.raises(RuntimeError, match="dtype should be floating point"):
        T([1.0]).norm(dtype=ember.int32)
    with pytest.raises(RuntimeError, match="without narrowing"):
        T([1.0]).norm(dtype=ember.float16)
    with pytest.raises(NotImplementedError, match="\"softmax\" not implemented for 'Long'"):
        i.softmax(0)
    with pytest.raises(RuntimeError, match="log_softmax"):   # NotImplementedError is a RuntimeError
        i.log_softmax(0)


def test_argument_errors():
    x = ember.ones(2, 3)
    with pytest.raises(TypeError, match="'dim' must be int, not tuple"):
        x.max((0, 1))
    with pytest.raises(TypeError, match="'dim' must be int, not tuple"):
        x.argmax((0, 1))
    with pytest.raises(TypeError, match="'dim' must be int"):
        x.prod((0, 1))
    with pytest.raises(TypeError, match="'dim' must be int"):
        x.softmax((0, 1))
    with pytest.raises(TypeError, match="'dim' must be int, not float"):
        ember.max(x, 1.0)
    with pytest.raises(TypeError):
        x.cumsum()
    with pytest.raises(TypeError):
        ember.logsumexp(x)
    with pytest.raises(RuntimeError, match="Order abc not supported"):
        x.norm("abc")
    with pytest.raises(NotImplementedError, match="nuc"):
        x.norm("nuc")
    with pytest.raises(RuntimeError, match="dim must be a 2-tuple"):
        ember.ones(2, 2, 2).norm("fro", (0, 1, 2))


def test_empty_reduction_errors():
    e = ember.zeros(0, 3)
    with pytest.raises(RuntimeError, match=r"max\(\): Expected reduction dim to be specified for input.numel\(\) == 0"):
        e.max()
    with pytest.raises(RuntimeError, match=r"amin\(\): Expected reduction dim to be specified"):
        e.amin()
    with pytest.raises(IndexError, match=r"max\(\): Expected reduction dim 0 to have non-zero size"):
        e.max(0)
    with pytest.raises(IndexError, match=r"amax\(\): Expected reduction dim 0 to have non-zero size"):
        e.amax(0)
    with pytest.raises(IndexError, match=r"argmax\(\): Expected reduction dim to be specified"):
        e.argmax()
    with pytest.raises(IndexError, match=r"argmin\(\): Expected reduction dim 0"):
        e.argmin(0)
    with pytest.raises(IndexError, match=r"median\(\): Expected reduction dim 0"):
        e.median(0)
    with pytest.raises(RuntimeError, match="cannot compute the inf norm on an empty tensor"):
        e.norm(INF)


def test_backward_detects_in_place_change_of_saved_input():
    x = leaf([1.0, 2.0, 4.0])
    y = x * 1
    v = y.var()
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        v.backward()


# ---------------------------------------------------------------------------------------
# Gradients: gradcheck and gradgradcheck (float64, small tensors)
# ---------------------------------------------------------------------------------------
def rand(*shape, seed=0, low=-1.0, high=1.0):
    return ember.testing.make_tensor(*shape, low=low, high=high, requires_grad=True, seed=seed)


def pos(*shape, seed=0):
    return rand(*shape, seed=seed, low=0.5, high=1.5)


GRAD_CASES = {
    "sum_all": (lambda x: x.sum(), rand(3, 4)),
    "sum_tuple_keepdim": (lambda x: x.sum((0, -1), keepdim=True), rand(2, 3, 2)),
    "sum_dtype": (lambda x: x.sum(1, dtype=ember.float64), rand(3, 4)),
    "mean": (lambda x: x.mean(-1), rand(3, 4)),
    "mean_all_keepdim": (lambda x: x.mean(keepdim=True), rand(3, 4)),
    "var": (lambda x: x.var(1), rand(3, 4)),
    "var_tuple_keepdim": (lambda x: x.var((0, 2), keepdim=True, correction=0), rand(2, 3, 2)),
    "std": (lambda x: x.std(), rand(3, 4)),
    "std_dim": (lambda x: x.std(0, unbiased=False), rand(3, 4)),
    "var_mean": (lambda x: ember.var_mean(x, 1), rand(3, 4)),
    "std_mean": (lambda x: ember.std_mean(x, 0, keepdim=True), rand(3, 4)),
    "max_all": (lambda x: x.max(), rand(3, 4)),
    "min_dim": (lambda x: x.min(1).values, rand(3, 4)),
    "max_dim_keepdim": (lambda x: x.max(0, keepdim=True).values, rand(3, 4)),
    "amax_tuple": (lambda x: x.amax((0, 2)), rand(2, 3, 2)),
    "amin": (lambda x: x.amin(-1, keepdim=True), rand(3, 4)),
    "aminmax": (lambda x: tuple(ember.aminmax(x, dim=1)), rand(3, 4)),
    "median_all": (lambda x: x.median(), rand(3, 3)),
    "median_dim": (lambda x: x.median(0).values, rand(3, 4)),
    "nanmedian": (lambda x: x.nanmedian(1).values, rand(3, 4)),
    "prod_all": (lambda x: x.prod(), rand(2, 4)),
    "prod_dim": (lambda x: x.prod(1), rand(3, 4)),
    "prod_keepdim": (lambda x: x.prod(0, keepdim=True), rand(3, 4)),
    "norm_fro": (lambda x: x.norm(), rand(3, 4)),
    "norm_2_dim": (lambda x: x.norm(2, 1), rand(3, 4)),
    "norm_1": (lambda x: x.norm(1, 0, keepdim=True), rand(3, 4)),
    "norm_3": (lambda x: x.norm(3, (0, 1)), rand(3, 4)),
    "norm_1.5": (lambda x: x.norm(1.5, 1), rand(3, 4)),
    "norm_0.5": (lambda x: x.norm(0.5, 1), rand(3, 4)),
    "norm_-2": (lambda x: x.norm(-2, 0), rand(3, 4)),
    "norm_inf": (lambda x: x.norm(INF, 1), rand(3, 4)),
    "norm_-inf": (lambda x: x.norm(-INF), rand(3, 4)),
    "logsumexp": (lambda x: x.logsumexp(1), rand(3, 4)),
    "logsumexp_tuple": (lambda x: x.logsumexp((0, 2), keepdim=True), rand(2, 3, 2)),
    "cumsum": (lambda x: x.cumsum(1), rand(3, 4)),
    "cumsum_neg": (lambda x: x.cumsum(-3), rand(2, 3, 2)),
    "cumprod": (lambda x: x.cumprod(0), rand(3, 4)),
    "cumprod_last": (lambda x: x.cumprod(-1), rand(3, 4)),
    "nansum": (lambda x: x.nansum(1), rand(3, 4)),
    "nanmean": (lambda x: x.nanmean(0), rand(3, 4)),
    "softmax": (lambda x: x.softmax(1), rand(3, 4)),
    "softmax_dim0": (lambda x: ember.softmax(x, 0), rand(2, 3, 2)),
    "log_softmax": (lambda x: x.log_softmax(-1), rand(3, 4)),
    "log_softmax_dim0": (lambda x: ember.log_softmax(x, 0), rand(3, 4)),
    "zero_dim_softmax": (lambda x: x.softmax(0) * x, rand()),
    "zero_dim_cumprod": (lambda x: x.cumprod(0) * x, rand()),
}


@pytest.mark.parametrize("name", list(GRAD_CASES))
def test_gradcheck_and_gradgradcheck(name):
    fn, x = GRAD_CASES[name]
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


ZERO_CASES = {
    "one_zero": [[2.0, 0.0, 3.0, 0.5], [1.5, -1.0, 0.7, 2.0]],
    "two_zeros": [[2.0, 0.0, 3.0, 0.0], [0.0, 1.1, -0.6, 2.0]],
    "all_zero": [[0.0, 0.0, 0.0, 0.0], [1.5, 0.0, 1.2, 0.0]],
}


@pytest.mark.parametrize("case", list(ZERO_CASES))
@pytest.mark.parametrize("fn", [lambda x: x.prod(), lambda x: x.prod(1), lambda x: x.prod(0, keepdim=True),
                                lambda x: x.cumprod(1), lambda x: x.cumprod(0)],
                         ids=["prod_all", "prod_dim1", "prod_dim0", "cumprod_dim1", "cumprod_dim0"])
def test_prod_and_cumprod_gradients_with_zeros(case, fn):
    x = leaf(ZERO_CASES[case])
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_prod_gradient_values_with_zeros():
    x = leaf([0.0, 2.0, 3.0])
    x.prod().backward()
    assert x.grad.tolist() == [6.0, 0.0, 0.0]
    x = leaf([0.0, 2.0, 0.0])
    x.prod().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]
    x = leaf([[0.0, 2.0], [3.0, 4.0]])
    x.prod(1).sum().backward()
    assert x.grad.tolist() == [[2.0, 0.0], [4.0, 3.0]]


def test_cumprod_gradient_values_with_zeros():
    x = leaf([2.0, 0.0, 3.0, 0.0, 4.0])
    x.cumprod(0).sum().backward()
    # d/dx0 = 1 (only y0 is nonzero); d/dx1 = 2 + 2*3 + 0 ... ; after the first zero: 0
    assert x.grad.tolist() == [1.0, 8.0, 0.0, 0.0, 0.0]


def test_ties_share_the_gradient():
    x = leaf([1.0, 3.0, 3.0, 2.0])
    x.max().backward()
    assert x.grad.tolist() == [0.0, 0.5, 0.5, 0.0]
    x = leaf([[1.0, 3.0], [3.0, 2.0]])
    x.amax().backward()
    assert x.grad.tolist() == [[0.0, 0.5], [0.5, 0.0]]
    x = leaf([[1.0, 1.0, 2.0], [4.0, 4.0, 4.0]])
    x.amin(1).sum().backward()
    assert x.grad.tolist() == [[0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3]]
    x = leaf([1.0, 2.0, 2.0, 3.0])
    x.median().backward()
    assert x.grad.tolist() == [0.0, 0.5, 0.5, 0.0]
    x = leaf([1.0, -3.0, 3.0])
    x.norm(INF).backward()
    assert x.grad.tolist() == [0.0, -0.5, 0.5]


def test_reduction_with_dim_sends_gradient_to_returned_index():
    x = leaf([[3.0, 1.0, 3.0], [0.0, 5.0, 5.0]])
    values, indices = x.max(1)
    values.sum().backward()
    assert indices.tolist() == [0, 1]
    assert x.grad.tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    x = leaf([1.0, 1.0, 2.0])
    x.min(0).values.backward()
    assert x.grad.tolist() == [1.0, 0.0, 0.0]


def test_gradients_at_degenerate_points_are_zero_not_nan():
    x = leaf([1.0, 1.0, 1.0])
    x.std().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]
    x = leaf([0.0, 0.0])
    x.norm().backward()
    assert x.grad.tolist() == [0.0, 0.0]
    x = leaf([0.0, 0.0])
    x.norm(3).backward()
    assert x.grad.tolist() == [0.0, 0.0]
    x = leaf([0.0, 1.0])
    x.norm(0.5).backward()
    assert x.grad.tolist() == [0.0, 1.0]
    x = leaf([1.0, NAN, 2.0])
    x.nansum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 1.0]


def test_softmax_backward_formulas():
    x = leaf([[0.1, 0.5, -0.3], [1.0, 2.0, 3.0]])
    g = ember.tensor(np.array([[1.0, -2.0, 0.5], [0.3, 0.1, -1.0]]))
    y = x.softmax(1)
    (gx,) = ember.autograd.grad(y, x, g)
    yn, gn = y.detach().numpy(), g.numpy()
    assert_close(gx, yn * (gn - (gn * yn).sum(1, keepdims=True)))
    ly = x.log_softmax(1)
    (gx,) = ember.autograd.grad(ly, x, g)
    assert_close(gx, gn - np.exp(ly.detach().numpy()) * gn.sum(1, keepdims=True))
    assert y.grad_fn.name() == "SoftmaxBackward" and ly.grad_fn.name() == "LogSoftmaxBackward"


def test_gradient_dtype_follows_input_with_dtype_argument():
    x = ember.ones(3, requires_grad=True)
    x.sum(dtype=ember.float64).backward()
    assert x.grad.dtype == ember.float32
    x = ember.ones(3, requires_grad=True)
    x.softmax(0, dtype=ember.float64)[0].backward()
    assert x.grad.dtype == ember.float32


# ---------------------------------------------------------------------------------------
# Devices
# ---------------------------------------------------------------------------------------
def test_reductions_stay_on_the_tensor_device(accel):
    a = np.array([[1.0, 0.0, 3.0], [4.0, 5.0, 6.0]])
    x = ember.tensor(a).to("accel:1").requires_grad_()
    for r in (x.sum(1), x.mean(), x.var(0), x.amax(), x.argmax(), x.prod(1), x.norm(), x.logsumexp(1),
              x.cumprod(1), x.all(), x.count_nonzero(), x.softmax(0), x.median(1).indices, x.max(0).values):
        assert r.device == ember.device("accel:1")

    def loss(t):
        return t.prod(1).sum() + t.cumprod(1).sum() + t.max(0).values.sum() + t.softmax(0)[0, 0] + t.std()

    loss(x).backward()
    assert x.grad.device == ember.device("accel:1")
    y = leaf(a)
    loss(y).backward()
    assert_close(x.grad.cpu(), y.grad)
