"""nn.utils: gradient clipping and parameter/vector conversion."""
import math

import numpy as np
import pytest

import ember
from ember import nn
from ember.nn.utils import (clip_grad_norm_, clip_grad_value_, get_total_norm, parameters_to_vector,
                            vector_to_parameters)
from ember.testing import assert_close


def params_with_grads(*grads):
    ps = []
    for g in grads:
        p = nn.Parameter(ember.zeros(len(g)))
        p.grad = ember.tensor(g)
        ps.append(p)
    return ps


def test_clip_grad_norm_scales_to_max_norm_and_returns_total():
    ps = params_with_grads([3.0, 0.0], [0.0, 4.0])
    total = clip_grad_norm_(ps, max_norm=1.0)
    assert abs(total.item() - 5.0) < 1e-6
    assert_close(ps[0].grad, [3 / 5.000001, 0.0], rtol=1e-5, atol=1e-6)
    assert_close(ps[1].grad, [0.0, 4 / 5.000001], rtol=1e-5, atol=1e-6)
    small = params_with_grads([0.1, 0.1])
    clip_grad_norm_(small, 10.0)
    assert_close(small[0].grad, [0.1, 0.1])  # untouched below the limit


@pytest.mark.parametrize("norm_type", [1.0, 3.0, math.inf])
def test_total_norm_types(norm_type):
    grads = [np.array([1.0, -2.0]), np.array([3.0])]
    ps = params_with_grads(*grads)
    flat = np.concatenate(grads)
    expected = np.abs(flat).max() if math.isinf(norm_type) else (np.abs(flat) ** norm_type).sum() ** (1 / norm_type)
    assert abs(get_total_norm([p.grad for p in ps], norm_type).item() - expected) < 1e-5


def test_nonfinite_norm_error_and_value_clipping():
    ps = params_with_grads([float("nan"), 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)
    ps = params_with_grads([-5.0, 0.5, 5.0])
    clip_grad_value_(ps, 1.0)
    assert ps[0].grad.tolist() == [-1.0, 0.5, 1.0]


def test_parameters_vector_round_trip():
    lin = nn.Linear(3, 2)
    vec = parameters_to_vector(lin.parameters())
    assert vec.shape == (8,)
    assert_close(vec[:6], lin.weight.detach().reshape(-1))
    vector_to_parameters(ember.arange(8.0), lin.parameters())
    assert lin.weight.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]] and lin.bias.tolist() == [6.0, 7.0]
    with pytest.raises(ValueError, match="vec has 3 elements"):
        vector_to_parameters(ember.zeros(3), lin.parameters())
