"""``**`` at its edge cases against PyTorch 2.13: values and gradients, NaN and inf placement exact.

Reference data: tests/core/data/pow_reference.npz, made by make_pow_reference.py.
"""
import os

import numpy as np
import pytest

import ember

REF = np.load(os.path.join(os.path.dirname(__file__), "data", "pow_reference.npz"))
GRADS = ("ones", "mixed")


def _same(actual, expected, what):
    a = actual.detach().numpy() if isinstance(actual, ember.Tensor) else np.asarray(actual)
    assert a.shape == expected.shape, what
    nan_a, nan_e = np.isnan(a), np.isnan(expected)
    assert (nan_a == nan_e).all(), f"{what}: NaN at {np.flatnonzero(nan_a)} vs PyTorch {np.flatnonzero(nan_e)}"
    np.testing.assert_allclose(a[~nan_a], expected[~nan_e], rtol=1e-13, atol=0, err_msg=what)


def _grad_output(gname, n):
    return ember.ones(n, dtype=ember.float64) if gname == "ones" else \
        ember.tensor(np.resize(REF[f"g_{gname}"], n), dtype=ember.float64)


@pytest.mark.parametrize("gname", GRADS)
@pytest.mark.parametrize("i", range(len(REF["exponents"])))
def test_tensor_to_constant_power(i, gname):
    c = float(REF["exponents"][i])
    x = ember.tensor(REF["bases"], dtype=ember.float64, requires_grad=True)
    out = x ** c
    (g,) = ember.autograd.grad(out, x, _grad_output(gname, x.shape[0]))
    _same(out, REF[f"tensor_scalar_{gname}_{i}_out"], f"x ** {c}")
    _same(g, REF[f"tensor_scalar_{gname}_{i}_grad"], f"d(x ** {c})/dx")


@pytest.mark.parametrize("gname", GRADS)
@pytest.mark.parametrize("i", range(len(REF["scalar_bases"])))
def test_constant_to_tensor_power(i, gname):
    c = float(REF["scalar_bases"][i])
    e = ember.tensor(REF["bases"], dtype=ember.float64, requires_grad=True)
    out = c ** e
    (g,) = ember.autograd.grad(out, e, _grad_output(gname, e.shape[0]))
    _same(out, REF[f"scalar_tensor_{gname}_{i}_out"], f"{c} ** x")
    _same(g, REF[f"scalar_tensor_{gname}_{i}_grad"], f"d({c} ** x)/dx")


@pytest.mark.parametrize("gname", GRADS)
def test_tensor_to_tensor_power(gname):
    a = ember.tensor(REF[f"tensor_tensor_{gname}_a"], requires_grad=True)
    b = ember.tensor(REF[f"tensor_tensor_{gname}_b"], requires_grad=True)
    out = a ** b
    ga, gb = ember.autograd.grad(out, (a, b), _grad_output(gname, a.shape[0]))
    _same(out, REF[f"tensor_tensor_{gname}_out"], "a ** b")
    _same(ga, REF[f"tensor_tensor_{gname}_ga"], "d(a ** b)/da")
    _same(gb, REF[f"tensor_tensor_{gname}_gb"], "d(a ** b)/db")


def test_pow_gradients_match_finite_differences_away_from_edges():
    x = ember.tensor([0.3, 1.2, 2.5], dtype=ember.float64, requires_grad=True)
    e = ember.tensor([-1.5, 0.5, 2.0], dtype=ember.float64, requires_grad=True)
    for f in (lambda x, e: x ** 5.5, lambda x, e: x ** -5.5, lambda x, e: 2.5 ** e, lambda x, e: x ** e):
        assert ember.autograd.gradcheck(f, (x, e))
        assert ember.autograd.gradgradcheck(f, (x, e))
