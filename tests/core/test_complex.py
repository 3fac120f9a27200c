"""Complex tensors: dtypes and promotion, creation, views, printing, errors and autograd, against PyTorch.

The reference cases are expressions over ``torch`` evaluated here with ``torch = ember`` on the same
stored inputs (tests/core/data/make_complex_reference.py made them with PyTorch).
"""
from __future__ import annotations

import io
import json
import pathlib
import re

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck

DATA = np.load(pathlib.Path(__file__).with_name("data") / "complex_reference.npz")
META = json.loads(str(DATA["meta"]))
INPUT_NAMES = ("a", "b", "m", "r", "v")
PAIRS = {"complex64": (np.complex64, np.float32), "complex128": (np.complex128, np.float64)}
TOL = {"complex64": dict(rtol=2e-5, atol=2e-5), "complex128": dict(rtol=1e-10, atol=1e-10)}
ENV = {"torch": ember, "np": np}


def _inputs(cname, requires_grad=False):
    cdt, rdt = PAIRS[cname]
    out = {}
    for k in INPUT_NAMES:
        v = DATA[f"in_{k}"]
        out[k] = ember.tensor(v.astype(cdt if np.iscomplexobj(v) else rdt), requires_grad=requires_grad)
    return out


def _used(expr):
    return [k for k in INPUT_NAMES if re.search(rf"\b{k}\b", expr)]


@pytest.mark.parametrize("cname", list(PAIRS))
@pytest.mark.parametrize("i", range(len(META["values"])), ids=META["values"])
def test_values_match_pytorch(i, cname):
    out = eval(META["values"][i], ENV, _inputs(cname))
    want = DATA[f"value_{cname}_{i}"]
    assert out.dtype.name == META["value_dtypes"][f"{cname}_{i}"]
    np.testing.assert_allclose(out.numpy(), want, **TOL[cname])


@pytest.mark.parametrize("expr", list(META["reprs"]))
def test_printing_matches_pytorch(expr):
    assert repr(eval(expr, ENV, _inputs("complex64"))) == META["reprs"][expr]


@pytest.mark.parametrize("expr", list(META["dtypes"]))
def test_promotion_and_dtypes_match_pytorch(expr):
    assert str(eval(expr, ENV, _inputs("complex64"))).replace("ember.", "") == META["dtypes"][expr]


@pytest.mark.parametrize("expr", list(META["errors"]))
def test_refusals_raise_pytorch_exception_types(expr):
    with pytest.raises(Exception) as info:
        eval(expr, ENV, _inputs("complex64"))
    assert type(info.value).__name__ == META["errors"][expr], str(info.value)
    assert str(info.value)


@pytest.mark.parametrize("cname", list(PAIRS))
@pytest.mark.parametrize("i", range(len(META["grads"])), ids=META["grads"])
def test_gradients_match_pytorch(i, cname):
    expr = META["grads"][i]
    x = _inputs(cname, requires_grad=True)
    loss = eval(expr, ENV, x)
    loss.backward()
    tol = dict(rtol=1e-4, atol=1e-4) if cname == "complex64" else TOL[cname]
    np.testing.assert_allclose(loss.item(), DATA[f"loss_{cname}_{i}"], **tol)
    for k in _used(expr):
        if f"grad_{cname}_{i}_{k}" not in DATA:   # PyTorch gives it no gradient (used only in a condition)
            assert x[k].grad is None, k
            continue
        want = DATA[f"grad_{cname}_{i}_{k}"]
        assert x[k].grad.dtype is x[k].dtype, k
        np.testing.assert_allclose(x[k].grad.numpy(), want, **tol, err_msg=k)


GRADCHECKED = [
    lambda a, b, r: a * b, lambda a, b, r: a / b, lambda a, b, r: (a * r).abs(),
    lambda a, b, r: a.exp() * r, lambda a, b, r: a.log() + b.sqrt(), lambda a, b, r: a.angle() + b.real * r,
    lambda a, b, r: ember.view_as_real(a * b), lambda a, b, r: ember.polar(r.abs() + 1, r) * a,
    lambda a, b, r: a ** b, lambda a, b, r: a.conj() * b.imag, lambda a, b, r: a.sgn(),
    lambda a, b, r: a.tanh() + a.sigmoid() + a.reciprocal(), lambda a, b, r: (a[:, None] * b).sum(0).mean(),
    lambda a, b, r: a.reshape(3, 1) @ b.reshape(1, 3), lambda a, b, r: a.dot(b),
    lambda a, b, r: ember.view_as_complex(ember.stack([r, r * 2], -1)) * a,
    lambda a, b, r: (a * 2j + 1.5) ** 2.5, lambda a, b, r: ember.complex(r, r * r) / b,
    lambda a, b, r: (a.expand(2, 3) * b)[:, ::2].t(),
    lambda a, b, r: ember.einsum("i,j->ij", a, b), lambda a, b, r: ember.kron(a, b * r),
    lambda a, b, r: ember.nn.functional.linear(a.reshape(1, 3), ember.outer(b, a), b),
    lambda a, b, r: a.cumprod(0) * b.prod(), lambda a, b, r: a.var() + b.std() + (a * r).norm(),
    lambda a, b, r: ember.addmm(ember.outer(a, b), ember.outer(b, r.to(b.dtype)), ember.outer(a, a)),
]


@pytest.mark.parametrize("k", range(len(GRADCHECKED)))
def test_gradcheck_and_gradgradcheck_in_complex128(k):
    g = ember.Generator().manual_seed(k)
    a, b = (ember.randn(3, dtype=ember.complex128, generator=g, requires_grad=True) for _ in range(2))
    r = ember.randn(3, dtype=ember.float64, generator=g, requires_grad=True)
    assert gradcheck(GRADCHECKED[k], (a, b, r))
    assert gradgradcheck(GRADCHECKED[k], (a, b, r))


def test_gradcheck_detects_a_wrong_complex_gradient():
    class Wrong(ember.autograd.Function):   # z -> z*z with the holomorphic (unconjugated) gradient
        @staticmethod
        def forward(ctx, z):
            ctx.save_for_backward(z)
            return z * z

        @staticmethod
        def backward(ctx, g):
            (z,) = ctx.saved_tensors
            return g * 2 * z

    z = ember.tensor([1 + 2j, -0.5 + 1j], dtype=ember.complex128, requires_grad=True)
    assert not gradcheck(Wrong.apply, (z,), raise_exception=False)
    assert gradcheck(lambda z: z * z, (z,))


def test_real_and_imag_are_views_that_write_through():
    z = ember.tensor([1 + 2j, 3 - 1j])
    z.real = ember.tensor([5.0, 6.0])
    z.imag[0] = 9.0
    assert z.tolist() == [5 + 9j, 6 - 1j]
    ember.view_as_real(z)[1, 1] = 4.0
    assert z[1].item() == 6 + 4j
    w = ember.view_as_complex(ember.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert w.tolist() == [1 + 2j, 3 + 4j]
    r = ember.tensor([1.0, -2.0])
    assert r.real is r and ember.conj(r) is r and not z.is_conj()


def test_view_as_real_of_non_contiguous_input_and_empty():
    z = ember.randn(4, 6, dtype=ember.complex64)
    v = z.t()[::2]
    got = ember.view_as_real(v)
    assert got.shape == (3, 4, 2)
    np.testing.assert_array_equal(got.numpy(), np.stack([v.numpy().real, v.numpy().imag], -1))
    e = ember.zeros(0, 3, dtype=ember.complex128)
    assert ember.view_as_real(e).shape == (0, 3, 2) and e.abs().dtype is ember.float64


def test_randn_complex_splits_the_variance():
    z = ember.randn(40000, dtype=ember.complex64, generator=ember.Generator().manual_seed(0))
    assert z.dtype is ember.complex64
    assert abs(z.real.var().item() - 0.5) < 0.02 and abs(z.imag.var().item() - 0.5) < 0.02
    assert ember.rand(3, dtype=ember.cdouble).dtype is ember.complex128


def test_item_numpy_and_is_complex():
    z = ember.tensor([[1 + 2j]], dtype=ember.complex128)
    assert z.item() == 1 + 2j and type(z.item()) is complex
    assert z.is_complex() and ember.is_complex(z) and not z.is_floating_point()
    back = ember.from_numpy(z.numpy())
    assert back.dtype is ember.complex128 and back.tolist() == [[1 + 2j]]
    assert ember.complex64.is_complex and not ember.float32.is_complex
    assert ember.cfloat is ember.complex64 and ember.cdouble is ember.complex128


def test_casting_complex_to_real_warns_and_keeps_the_real_part():
    z = ember.tensor([1 + 2j])
    with pytest.warns(UserWarning, match="discards the imaginary part"):
        assert z.float().tolist() == [1.0]
    r = ember.zeros(1)
    r.copy_(z)
    assert r.tolist() == [1.0]


@pytest.mark.parametrize("fmt", [None, "torch", "safetensors"])
def test_serialization_round_trip(fmt, tmp_path):
    z = ember.randn(2, 3, dtype=ember.complex64)
    state = {"z": z} if fmt == "safetensors" else {"z": z, "w": z.to(ember.complex128)[:, ::2]}
    path = tmp_path / "c.bin"
    ember.save(state, path, **({"format": fmt} if fmt else {}))
    back = ember.load(path)
    for k, v in state.items():
        assert back[k].dtype is v.dtype and back[k].tolist() == v.tolist()


def test_safetensors_refuses_complex128():
    with pytest.raises(TypeError, match="complex128"):
        ember.save({"z": ember.zeros(1, dtype=ember.complex128)}, io.BytesIO(), format="safetensors")


def test_real_input_gets_the_real_part_of_a_complex_gradient():
    r = ember.tensor([1.0, 2.0], requires_grad=True)
    (r * (1 + 2j)).abs().sum().backward()
    # |r (1 + 2i)| = sqrt(5) |r|: d/dr = sqrt(5) sign(r)
    np.testing.assert_allclose(r.grad.numpy(), [5 ** 0.5] * 2, rtol=1e-6)
    assert r.grad.dtype is ember.float32


def test_testing_helpers_handle_complex():
    from ember.testing import assert_close, make_tensor
    z = make_tensor(2, 3, dtype=ember.complex64, seed=0)
    assert z.dtype is ember.complex64 and bool((z.imag != 0).all())
    assert_close(z, z.clone())
    with pytest.raises(AssertionError, match="not close"):
        assert_close(z, z + 1e-3j)


def test_in_place_through_a_real_view_under_autograd_is_refused_not_wrong():
    # Deviation: PyTorch records it; Ember's view rebasing works per element of one type, so it refuses
    # rather than dropping the imaginary part of the gradient.
    y = ember.randn(3, dtype=ember.complex128, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="another element type"):
        y.real.mul_(3)
    with ember.no_grad():
        y.real.mul_(3)
