"""The specialised convolution kernels (1x1 pointwise, depthwise) against the general im2col lowering:
forward, input and weight gradients in float32 and float64, non-contiguous inputs (permuted,
sliced with a step, expanded, channels-last views), geometries that route to and away from them,
conv_transpose through the same kernels, and gradcheck/gradgradcheck in float64."""
import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck
from ember.nn import functional as F
from ember.nn._functional import _conv_kernels
from ember.nn._functional import conv as conv_impl
from ember.nn._functional._conv_kernels import kernels_for
from ember.testing import assert_close


def rnd(*shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def general(monkeypatch):
    """Route every geometry to the general lowering (the straightforward reference)."""
    monkeypatch.setattr(conv_impl, "kernels_for", lambda geom: None)


def conv_and_grads(x, w, b, **kw):
    xt, wt = ember.tensor(x, requires_grad=True), ember.tensor(w, requires_grad=True)
    bt = None if b is None else ember.tensor(b, requires_grad=True)
    y = F.conv2d(xt, wt, bt, **kw)
    g = ember.tensor(rnd(*y.shape, seed=9, dtype=x.dtype))
    (y * g).sum().backward()
    return [y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()] + ([] if b is None else [bt.grad.numpy()])


def routed(x_shape, w_shape, stride=1, padding=0, dilation=1, groups=1):
    """The kernel family ``conv2d`` picks for this call (None: the general lowering)."""
    c, co = x_shape[1], w_shape[0]
    size, k = x_shape[2:], w_shape[2:]
    s, d = (conv_impl._pair(v, "argument") for v in (stride, dilation))
    lo, hi = conv_impl._conv_padding(padding, 2, k, d, s)
    out = tuple((size[i] + lo[i] + hi[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(2))
    kern = kernels_for(conv_impl.ConvGeometry(c, co, groups, size, k, s, d, lo, out, hi))
    return None if kern is None else kern.name


CASES = [  # (x shape, w shape, conv2d keywords, expected kernel)
    ((2, 6, 7, 5), (4, 6, 1, 1), {}, "pointwise"),
    ((3, 5, 4, 8), (5, 5, 1, 1), {"bias": True}, "pointwise"),
    ((2, 4, 9, 8), (4, 1, 3, 3), {"padding": 1, "groups": 4}, "depthwise"),
    ((2, 4, 9, 8), (4, 1, 3, 3), {"padding": 1, "groups": 4, "stride": 2}, "depthwise"),
    ((2, 3, 10, 11), (3, 1, 5, 5), {"padding": 2, "groups": 3, "stride": 2, "bias": True}, "depthwise"),
    ((1, 3, 9, 9), (3, 1, 3, 3), {"padding": 2, "groups": 3, "dilation": 2}, "depthwise"),
    ((2, 3, 8, 7), (3, 1, 3, 3), {"groups": 3}, "depthwise"),
    ((2, 3, 8, 7), (3, 1, 2, 4), {"groups": 3, "stride": (1, 2), "padding": (1, 0)}, "depthwise"),
    ((2, 4, 9, 8), (4, 1, 3, 3), {"groups": 4, "stride": 2, "padding": ((0, 1), (1, 0))}, "depthwise"),
    ((2, 3, 10, 11), (3, 1, 5, 5), {"groups": 3, "stride": 2, "padding": ((1, 2), (2, 1))}, "depthwise"),
    # routed away: strided or padded 1x1, grouped 1x1, 1x1 on few pixels, depthwise with a channel multiplier
    ((2, 6, 5, 5), (4, 6, 1, 1), {}, None),
    ((2, 6, 7, 5), (4, 6, 1, 1), {"stride": 2}, None),
    ((2, 6, 7, 5), (4, 6, 1, 1), {"padding": 1}, None),
    ((2, 6, 7, 5), (4, 3, 1, 1), {"groups": 2}, None),
    ((2, 3, 7, 5), (6, 1, 3, 3), {"groups": 3}, None),
]


def _call(xs, ws, kw, dtype, seed=0):
    kw = dict(kw)
    b = rnd(ws[0], seed=seed + 2, dtype=dtype) if kw.pop("bias", False) else None
    return rnd(*xs, seed=seed, dtype=dtype), rnd(*ws, seed=seed + 1, dtype=dtype), b, kw


DEPTHWISE_FAMILIES = {family.name: family for family in _conv_kernels.DEPTHWISE_FAMILIES}


@pytest.fixture(params=sorted(DEPTHWISE_FAMILIES))
def depthwise_lowering(request, monkeypatch):
    """Run a depthwise test through each of the three depthwise lowerings, whatever the cost estimates pick
    for its (small) maps; test_depthwise_routing checks the estimates themselves."""
    monkeypatch.setattr(_conv_kernels, "DEPTHWISE_FAMILIES", (DEPTHWISE_FAMILIES[request.param],))
    return request.param


@pytest.mark.parametrize("xs,ws,kw,expected", CASES)
def test_routing(xs, ws, kw, expected, depthwise_lowering):
    kw = {k: v for k, v in kw.items() if k != "bias"}
    if expected == "depthwise":
        expected = depthwise_lowering
    assert routed(xs, ws, **kw) == expected


@pytest.mark.parametrize("size,k,stride,expected", [
    (2, 5, 1, "depthwise_small"), (4, 5, 2, "depthwise_small"), (8, 5, 1, "depthwise_small"),
    (10, 5, 2, "depthwise_small"), (16, 5, 2, "depthwise_rows"), (10, 3, 1, "depthwise_rows"),
    (16, 3, 1, "depthwise_rows"), (32, 3, 2, "depthwise_rows"), (28, 5, 1, "depthwise_rows"),
    (56, 5, 2, "depthwise_rows"), (56, 3, 1, "depthwise"), (112, 3, 1, "depthwise"), (112, 3, 2, "depthwise")])
def test_depthwise_routing(size, k, stride, expected):
    # Mobile networks' late stages (small maps, 5x5 kernels) go to the dense GEMMs, the middle ones (and 5x5
    # kernels up to 56x56 at stride 2) to the banded rows; the large early maps keep the views.
    assert routed((32, 240, size, size), (240, 1, k, k), stride=stride, padding=k // 2, groups=240) == expected


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("xs,ws,kw,expected", CASES)
def test_kernels_match_general_lowering(monkeypatch, xs, ws, kw, expected, dtype, tol, depthwise_lowering):
    x, w, b, kw = _call(xs, ws, kw, dtype)
    fast = conv_and_grads(x, w, b, **kw)
    general(monkeypatch)
    ref = conv_and_grads(x, w, b, **kw)
    for got, want in zip(fast, ref):
        assert got.dtype == want.dtype == dtype
        assert_close(got, want, rtol=tol, atol=tol)


VIEWS = {  # each gives the values of ``x`` through a non-contiguous tensor
    "channels_last": lambda x: ember.tensor(np.ascontiguousarray(x.transpose(0, 2, 3, 1))).permute(0, 3, 1, 2),
    "stepped": lambda x: ember.tensor(np.repeat(x, 2, axis=3))[..., ::2],
    "expanded": lambda x: ember.tensor(x[..., :1]).expand(*x.shape),
}


@pytest.mark.parametrize("view", sorted(VIEWS))
@pytest.mark.parametrize("xs,ws,kw,expected", [c for c in CASES if c[3] is not None])
def test_kernels_on_non_contiguous_inputs(xs, ws, kw, expected, view, depthwise_lowering):
    x, w, b, kw = _call(xs, ws, kw, np.float64)
    if view == "expanded":
        x = np.broadcast_to(x[..., :1], x.shape).copy()
    bt = None if b is None else ember.tensor(b)
    results = []
    for xt in (VIEWS[view](x).requires_grad_(), ember.tensor(x, requires_grad=True)):
        wt = ember.tensor(w, requires_grad=True)
        y = F.conv2d(xt, wt, bt, **kw)
        (y * y).sum().backward()
        results.append((xt.is_contiguous(), y.detach(), wt.grad, xt.grad))
    (view_contiguous, *fast), (_, *ref) = results
    assert not view_contiguous
    for got, want in zip(fast, ref):
        assert_close(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("xs,ws,kw", [(c[0], c[1], c[2]) for c in CASES[:6]])
def test_kernels_gradcheck_and_gradgradcheck(xs, ws, kw, depthwise_lowering):
    x, w, b, kw = _call(tuple(max(1, s // 2) if i == 0 else s for i, s in enumerate(xs)), ws, kw, np.float64)
    args = [ember.tensor(x, requires_grad=True), ember.tensor(w, requires_grad=True)]
    if b is not None:
        args.append(ember.tensor(b, requires_grad=True))

    def fn(*a):
        return F.conv2d(*a, **kw)
    assert gradcheck(fn, args)
    assert gradgradcheck(fn, args)


@pytest.mark.parametrize("kw", [{"groups": 4, "padding": 1, "stride": 2, "output_padding": 1},
                                {"groups": 4, "padding": 1}, {}])
def test_conv_transpose_through_the_kernels(monkeypatch, kw, depthwise_lowering):
    cin = 4
    w_shape = (cin, 1 if kw.get("groups") else 3, 3 if kw.get("groups") else 1, 3 if kw.get("groups") else 1)
    x = ember.tensor(rnd(2, cin, 5, 6), requires_grad=True)
    w = ember.tensor(rnd(*w_shape, seed=1), requires_grad=True)
    b = ember.tensor(rnd(w_shape[1] * kw.get("groups", 1), seed=2))
    y = F.conv_transpose2d(x, w, b, **kw)
    gx, gw = ember.autograd.grad(y.square().sum(), (x, w))
    general(monkeypatch)
    x2, w2 = x.detach().requires_grad_(), w.detach().requires_grad_()
    y2 = F.conv_transpose2d(x2, w2, b, **kw)
    gx2, gw2 = ember.autograd.grad(y2.square().sum(), (x2, w2))
    for got, want in ((y, y2), (gx, gx2), (gw, gw2)):
        assert_close(got.detach(), want.detach(), rtol=1e-12, atol=1e-12)


def test_empty_batch_and_frozen_weight(depthwise_lowering):
    x = ember.zeros(0, 4, 6, 6)
    assert F.conv2d(x, ember.randn(4, 1, 3, 3), padding=1, groups=4).shape == (0, 4, 6, 6)
    assert F.conv2d(x, ember.randn(5, 4, 1, 1)).shape == (0, 5, 6, 6)
    # Only the input needs a gradient: the weight gradient is never computed.
    xt = ember.randn(2, 4, 6, 6, requires_grad=True)
    w = ember.randn(4, 1, 3, 3)
    F.conv2d(xt, w, padding=1, groups=4).sum().backward()
    assert xt.grad.shape == xt.shape and w.grad is None


def test_large_depthwise_spans_several_blocks(monkeypatch):
    """More planes than one cache block: block boundaries must not change the result."""
    x, w = rnd(3, 40, 30, 30, dtype=np.float32), rnd(40, 1, 3, 3, seed=1, dtype=np.float32)
    fast = conv_and_grads(x, w, None, padding=1, groups=40, stride=2)
    general(monkeypatch)
    ref = conv_and_grads(x, w, None, padding=1, groups=40, stride=2)
    for got, want in zip(fast, ref):
        assert_close(got, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("chunk_bytes", [1, 1 << 21])  # one sample per chunk, and all samples in one
@pytest.mark.parametrize("c,co,g,k,d,lo,hi", [
    (6, 16, 1, (5, 5), (1, 1), (0, 0), (0, 0)),      # LeNet's second convolution
    (1, 6, 1, (3, 2), (2, 1), (1, 0), (2, 1)),      # dilated, asymmetric padding
    (4, 6, 2, (3, 3), (1, 1), (1, 1), (1, 1)),      # groups
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_wide_rows_col2im_matches_the_offset_by_offset_scatter(monkeypatch, chunk_bytes, c, co, g, k, d, lo, hi, dtype):
    # The stride-1 channel-major input gradient adds each offset's columns on the padded width in sample
    # chunks; the reference adds them window by window.
    monkeypatch.setattr(conv_impl, "_COL2IM_CHUNK_BYTES", chunk_bytes)
    size = (7, 6)
    out = tuple(size[i] + lo[i] + hi[i] - d[i] * (k[i] - 1) for i in range(2))
    geom = conv_impl.ConvGeometry(c, co, g, size, k, (1, 1), d, lo, out, hi)
    assert not geom.channels_last
    grad, w = rnd(3, co, *out, seed=4, dtype=dtype), rnd(co, c // g, *k, seed=5, dtype=dtype)
    wm = conv_impl._weight_matrix(w, geom).transpose(0, 2, 1)
    want = conv_impl._col2im(np, grad, wm, geom, conv_impl._grad_matrix(np, grad, geom)).copy()
    stepped = np.repeat(grad, 2, axis=3)[..., ::2]  # the same values through a non-contiguous view
    got = conv_impl._col2im_wide_rows(np, stepped, wm, geom)
    assert got.dtype == dtype
    assert_close(got, want, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-5 if dtype == np.float32 else 1e-12)
