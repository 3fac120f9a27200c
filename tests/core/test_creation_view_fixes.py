"""``linspace``/``logspace`` values and errors, ``Tensor.view(dtype)`` and channel dropout ranks,
against PyTorch 2.13 (tests/core/data/linspace_view_reference.json, made by
make_linspace_view_reference.py)."""
import json
import os
import warnings

import numpy as np
import pytest

import ember
import ember.nn.functional as F

REF = json.load(open(os.path.join(os.path.dirname(__file__), "data", "linspace_view_reference.json")))


def _ulps(a, b, dtype):
    a, b = np.asarray(a, dtype=dtype), np.asarray(b, dtype=dtype)
    finite = np.isfinite(b)
    assert (np.isfinite(a) == finite).all()
    return (np.abs(a[finite].astype(np.float64) - b[finite]) / np.spacing(np.abs(b[finite]).astype(dtype))).max(
        initial=0)


@pytest.mark.parametrize("case", REF["linspace"], ids=lambda c: f"{c[3]}-{c[0]}-{c[1]}-{c[2]}")
def test_linspace_matches_pytorch(case):
    a, b, n, dtype, expected = case
    got = ember.linspace(a, b, n, dtype=getattr(ember, dtype))
    assert got.dtype == getattr(ember, dtype) and got.shape == (n,)
    if dtype == "float16":      # computed in half precision: within two units in the last place
        assert _ulps(got.tolist(), expected, np.float16) <= 2
    else:                       # bit-exact, both ends included
        assert got.tolist() == expected


@pytest.mark.parametrize("case", REF["logspace"], ids=lambda c: f"{c[3]}-{c[0]}-{c[1]}-{c[2]}")
def test_logspace_matches_pytorch(case):
    a, b, n, dtype, expected = case
    got = ember.logspace(a, b, n, dtype=getattr(ember, dtype))
    assert got.dtype == getattr(ember, dtype)
    # pow differs by libm, and a last-place difference of a large exponent grows in the power
    rtol = {"float16": 2e-3, "float32": 2e-6, "float64": 1e-12}[dtype]
    np.testing.assert_allclose(got.tolist(), expected, rtol=rtol)


def _arg(a):
    return ember.tensor([0.0, 1.0]) if a == "tensor[0.,1.]" else a


ERRORS = {"RuntimeError": RuntimeError, "TypeError": TypeError, "NotImplementedError": NotImplementedError}


@pytest.mark.parametrize("key", sorted(REF["errors"]))
def test_linspace_logspace_errors_have_pytorch_types(key):
    fn = key.split(":")[0]
    args, kw, raised = REF["errors"][key]
    kw = {k: getattr(ember, v) if k == "dtype" else v for k, v in kw.items()}
    with pytest.raises(ERRORS[raised]):
        getattr(ember, fn)(*map(_arg, args), **kw)


def test_linspace_accepts_zero_dim_tensor_ends():
    assert ember.linspace(ember.tensor(2.0), ember.tensor(3), 3).tolist() == [2.0, 2.5, 3.0]


def _viewed(values, src, how):
    x = ember.tensor(values, dtype=getattr(ember, src))
    return {"none": lambda: x, "transpose": lambda: x.t(), "rows": lambda: x[::2],
            "stride2": lambda: x[:, ::2], "every_other_column": lambda: x[:, 1:3]}[how]()


@pytest.mark.parametrize("case", REF["views"], ids=lambda c: f"{c[1]}-{c[2]}-{c[3]}")
def test_view_dtype_reinterprets_bits(case):
    values, src, dst, how, expected, shape = case
    y = _viewed(values, src, how).view(getattr(ember, dst))
    assert y.dtype == getattr(ember, dst) and list(y.shape) == shape
    np.testing.assert_array_equal(np.asarray(y.tolist()), np.asarray(expected))


@pytest.mark.parametrize("case", REF["view_errors"], ids=lambda c: f"{c[1]}-{c[2]}-{c[3]}")
def test_view_dtype_errors_match_pytorch(case):
    values, src, dst, how, message = case
    with pytest.raises(RuntimeError) as e:
        _viewed(values, src, how).view(getattr(ember, dst))
    assert str(e.value) == message


def test_view_dtype_shares_storage_and_is_not_differentiable():
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    b = a.detach().view(ember.int32)
    b[0] = 0                                  # writes through to a's storage, as in PyTorch
    assert a.tolist() == [0.0, 2.0]
    assert not a.view(ember.int32).requires_grad
    assert a.view(ember.float32).dtype == ember.float32


def _mask_of(y):
    return (y.numpy() != 0)


def test_dropout2d_on_2d_input_warns_and_drops_elements():
    ember.manual_seed(0)
    x = ember.ones(64, 32)
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d, which is deprecated"):
        y = F.dropout2d(x, 0.5, True)
    kept = _mask_of(y)
    assert 0.3 < kept.mean() < 0.7 and set(np.unique(y.numpy())) <= {0.0, 2.0}
    assert not (kept.all(axis=0) | (~kept).all(axis=0)).all()    # not whole columns: element-wise


def test_dropout2d_on_3d_input_is_read_as_batched_channels():
    ember.manual_seed(0)
    with pytest.warns(UserWarning, match=r"interpreted as shape \(N, C, L\)"):
        y = F.dropout2d(ember.ones(8, 16, 5), 0.5, True)
    kept = _mask_of(y)
    assert (kept == kept[:, :, :1]).all()                        # one draw per (n, c)
    assert 0 < kept[:, :, 0].mean() < 1


def test_dropout3d_unbatched_and_other_ranks_as_pytorch():
    ember.manual_seed(0)
    y = F.dropout3d(ember.ones(16, 2, 3, 4), 0.5, True)          # (C, D, H, W): one draw per channel
    kept = _mask_of(y).reshape(16, -1)
    assert (kept == kept[:, :1]).all() and 0 < kept[:, 0].mean() < 1
    with pytest.warns(UserWarning, match="Received a 3-D input to dropout3d"):
        y = F.dropout3d(ember.ones(16, 3, 4), 0.5, True)
    kept = _mask_of(y).reshape(16, -1)
    assert (kept == kept[:, :1]).all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions"):
            F.dropout2d(ember.ones(5), 0.5, True)
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input, but received a 4D input"):
        F.dropout1d(ember.ones(2, 3, 4, 5), 0.5, True)


def test_dropout2d_gradient_uses_the_same_mask():
    ember.manual_seed(1)
    x = ember.ones(6, 4, requires_grad=True)
    with pytest.warns(UserWarning):
        y = F.dropout2d(x, 0.25, True)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())
