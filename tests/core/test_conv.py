"""Convolutions, F.pad, unfold/fold: forward vs plain NumPy loops, gradients (incl. second order), modules,
errors, and a small CNN trained on the 8x8 digits."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import ember
from ember import nn
from ember.autograd import gradcheck, gradgradcheck
from ember.nn import functional as F
from ember.nn._functional import conv as conv_impl
from ember.testing import assert_close


def rnd(*shape, seed=0, grad=False):
    return ember.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=grad)


@pytest.fixture(params=["channels_first", "channels_last"])
def lowering(request, monkeypatch):
    """Run a test with both lowerings of the convolution (chosen per layer by channel count)."""
    monkeypatch.setattr(conv_impl, "_CHANNELS_LAST_MIN", 10 ** 9 if request.param == "channels_first" else 0)
    return request.param


# ---- plain NumPy references -------------------------------------------------------------------
def ref_conv2d(x, w, b=None, stride=(1, 1), pad=((0, 0), (0, 0)), dilation=(1, 1), groups=1):
    """Direct cross-correlation with loops over output pixels; ``pad``: ((top, bottom), (left, right))."""
    n, c, h, wd = x.shape
    co, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple(pad))
    oh = (xp.shape[2] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (xp.shape[3] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((n, co, oh, ow))
    cog = co // groups
    for o in range(co):
        g = o // cog
        for i in range(oh):
            for j in range(ow):
                r0, c0 = i * stride[0], j * stride[1]
                patch = xp[:, g * cg:(g + 1) * cg, r0:r0 + dilation[0] * (kh - 1) + 1:dilation[0],
                           c0:c0 + dilation[1] * (kw - 1) + 1:dilation[1]]
                out[:, o, i, j] = (patch * w[o]).sum(axis=(1, 2, 3))
    if b is not None:
        out += b.reshape(1, -1, 1, 1)
    return out


def ref_conv_transpose2d(x, w, b=None, stride=(1, 1), padding=(0, 0), output_padding=(0, 0), groups=1,
                         dilation=(1, 1)):
    """Scatter every input pixel times the kernel into a full-size output, then crop the padding."""
    n, cin, h, wd = x.shape
    _, cog, kh, kw = w.shape
    cig = cin // groups
    full_h = (h - 1) * stride[0] + dilation[0] * (kh - 1) + 1 + output_padding[0]
    full_w = (wd - 1) * stride[1] + dilation[1] * (kw - 1) + 1 + output_padding[1]
    full = np.zeros((n, cog * groups, full_h, full_w))
    for ci in range(cin):
        g = ci // cig
        for i in range(h):
            for j in range(wd):
                for a in range(kh):
                    for c in range(kw):
                        full[:, g * cog:(g + 1) * cog, i * stride[0] + a * dilation[0],
                             j * stride[1] + c * dilation[1]] += x[:, ci, i, j, None] * w[ci, :, a, c]
    out = full[:, :, padding[0]:full_h - padding[0], padding[1]:full_w - padding[1]]
    if b is not None:
        out = out + b.reshape(1, -1, 1, 1)
    return out


# ---- conv2d / conv1d forward ------------------------------------------------------------------
CONV2D_CASES = [
    # (N, C, H, W), (Co, kh, kw), kwargs
    ((2, 3, 7, 6), (4, 3, 3), dict()),
    ((2, 3, 7, 6), (4, 3, 3), dict(stride=2, padding=1)),
    ((1, 2, 9, 8), (3, 3, 2), dict(stride=(2, 3), padding=(2, 1), dilation=(1, 2))),
    ((2, 2, 6, 7), (3, 4, 4), dict(padding="same")),  # even kernel: more padding at the end
    ((1, 2, 7, 7), (2, 2, 3), dict(padding="same", dilation=(3, 2))),
    ((2, 3, 5, 5), (2, 2, 2), dict(padding="valid")),
    ((2, 4, 6, 5), (6, 3, 3), dict(groups=2, padding=1)),
    ((2, 4, 7, 7), (4, 3, 3), dict(groups=4, stride=2, padding=1)),  # depthwise
    ((1, 3, 6, 6), (6, 3, 3), dict(groups=3, dilation=2, padding=2)),  # depthwise, multiplier 2
    ((2, 3, 5, 4), (5, 1, 1), dict()),
    ((2, 3, 5, 4), (5, 1, 1), dict(stride=2)),
    ((1, 1, 5, 5), (1, 5, 5), dict()),  # kernel as large as the input
]


def _conv_padding_pairs(padding, k, dilation):
    if padding == "same":
        total = [d * (kk - 1) for d, kk in zip(dilation, k)]
        return tuple((t // 2, t - t // 2) for t in total)
    if padding == "valid":
        return ((0, 0), (0, 0))
    p = (padding, padding) if isinstance(padding, int) else padding
    return tuple((v, v) for v in p)


@pytest.mark.parametrize("xshape,wshape,kw", CONV2D_CASES)
def test_conv2d_matches_loops(lowering, xshape, wshape, kw):
    groups = kw.get("groups", 1)
    x = rnd(*xshape, seed=1)
    w = rnd(wshape[0], xshape[1] // groups, *wshape[1:], seed=2)
    b = rnd(wshape[0], seed=3)
    stride = kw.get("stride", 1)
    stride = (stride, stride) if isinstance(stride, int) else stride
    dil = kw.get("dilation", 1)
    dil = (dil, dil) if isinstance(dil, int) else dil
    pad = _conv_padding_pairs(kw.get("padding", 0), wshape[1:], dil)
    expected = ref_conv2d(x.numpy(), w.numpy(), b.numpy(), stride, pad, dil, groups)
    assert_close(F.conv2d(x, w, b, **kw), expected, rtol=1e-10, atol=1e-10)
    assert_close(F.conv2d(x, w, None, **kw), expected - b.numpy().reshape(1, -1, 1, 1), rtol=1e-10, atol=1e-10)


def test_conv2d_unbatched_float32_and_output_is_contiguous_nchw():
    x, w = rnd(3, 6, 5).float(), rnd(4, 3, 3, 3, seed=1).float()
    y = F.conv2d(x, w, padding=1)
    assert y.shape == (4, 6, 5) and y.dtype is ember.float32 and y.is_contiguous()
    assert_close(y, ref_conv2d(x.numpy()[None].astype(np.float64), w.numpy().astype(np.float64),
                               pad=((1, 1), (1, 1)))[0], rtol=1e-5, atol=1e-5)
    y.view(-1)  # an ordinary NCHW tensor: views work


@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=1), dict(padding="same", dilation=3),
                                dict(groups=3, padding=2), dict(padding="same")])
def test_conv1d_matches_loops(kw):
    groups = kw.get("groups", 1)
    x, w, b = rnd(2, 6, 11, seed=1), rnd(9, 6 // groups, 4, seed=2), rnd(9, seed=3)
    d = kw.get("dilation", 1)
    pad = _conv_padding_pairs(kw.get("padding", 0), (1, 4), (1, d))[1] if kw.get("padding") else \
        (kw.get("padding", 0),) * 2
    expected = ref_conv2d(x.numpy()[:, :, None], w.numpy()[:, :, None], b.numpy(), (1, kw.get("stride", 1)),
                          ((0, 0), pad), (1, d), groups)[:, :, 0]
    assert_close(F.conv1d(x, w, b, **kw), expected, rtol=1e-10, atol=1e-10)
    assert_close(F.conv1d(x[0], w, b, **kw), expected[0], rtol=1e-10, atol=1e-10)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 2), cg=st.integers(1, 3), cog=st.integers(1, 3), groups=st.integers(1, 2),
       h=st.integers(1, 7), w=st.integers(1, 7), kh=st.integers(1, 3), kw=st.integers(1, 3),
       sh=st.integers(1, 3), sw=st.integers(1, 3), ph=st.integers(0, 2), pw=st.integers(0, 2),
       dh=st.integers(1, 2), dw=st.integers(1, 2), channels_last=st.booleans())
def test_conv2d_random_geometries(n, cg, cog, groups, h, w, kh, kw, sh, sw, ph, pw, dh, dw, channels_last):
    if h + 2 * ph < dh * (kh - 1) + 1 or w + 2 * pw < dw * (kw - 1) + 1:
        return
    old = conv_impl._CHANNELS_LAST_MIN
    conv_impl._CHANNELS_LAST_MIN = 0 if channels_last else 10 ** 9
    try:
        x, wt = rnd(n, cg * groups, h, w, seed=h), rnd(cog * groups, cg, kh, kw, seed=w)
        got = F.conv2d(x, wt, stride=(sh, sw), padding=(ph, pw), dilation=(dh, dw), groups=groups)
        assert_close(got, ref_conv2d(x.numpy(), wt.numpy(), None, (sh, sw), ((ph, ph), (pw, pw)), (dh, dw), groups),
                     rtol=1e-10, atol=1e-10)
        # the transposed convolution is the adjoint: <conv(x), y> == <x, conv_T(y)>
        y = rnd(*got.shape, seed=7)
        op = ((h + 2 * ph - dh * (kh - 1) - 1) % sh, (w + 2 * pw - dw * (kw - 1) - 1) % sw)
        back = F.conv_transpose2d(y, wt, stride=(sh, sw), padding=(ph, pw), output_padding=op, groups=groups,
                                  dilation=(dh, dw))
        assert back.shape == x.shape
        assert abs((got * y).sum().item() - (x * back).sum().item()) < 1e-9
    finally:
        conv_impl._CHANNELS_LAST_MIN = old


# ---- conv_transpose ---------------------------------------------------------------------------
TRANSPOSE_CASES = [
    dict(), dict(stride=2), dict(stride=2, padding=1, output_padding=1),
    dict(stride=(2, 3), padding=(0, 1), output_padding=(1, 2)), dict(groups=2, stride=2),
    dict(dilation=2, padding=1), dict(stride=1, dilation=2, output_padding=1),
    dict(stride=3, dilation=2, padding=2, output_padding=2, groups=2), dict(padding=3),
]


@pytest.mark.parametrize("kw", TRANSPOSE_CASES)
def test_conv_transpose2d_matches_loops(lowering, kw):
    groups = kw.get("groups", 1)
    x, w, b = rnd(2, 4, 6, 7, seed=1), rnd(4, 3, 3, 3, seed=2), rnd(3 * groups, seed=3)
    pair = {k: (v, v) if isinstance(v, int) else v for k, v in kw.items() if k != "groups"}
    expected = ref_conv_transpose2d(x.numpy(), w.numpy(), b.numpy(), groups=groups, **pair)
    assert_close(F.conv_transpose2d(x, w, b, **kw), expected, rtol=1e-10, atol=1e-10)


def test_conv_transpose1d_matches_loops():
    x, w, b = rnd(2, 4, 6, seed=1), rnd(4, 3, 3, seed=2), rnd(6, seed=3)
    expected = ref_conv_transpose2d(x.numpy()[:, :, None], w.numpy()[:, :, None], b.numpy(), (1, 2), (0, 1),
                                    (0, 1), 2, (1, 2))[:, :, 0]
    got = F.conv_transpose1d(x, w, b, stride=2, padding=1, output_padding=1, groups=2, dilation=2)
    assert_close(got, expected, rtol=1e-10, atol=1e-10)
    assert_close(F.conv_transpose1d(x[1], w, b, stride=2, padding=1, output_padding=1, groups=2, dilation=2),
                 expected[1], rtol=1e-10, atol=1e-10)


# ---- gradients --------------------------------------------------------------------------------
GRAD_CASES = [
    ((1, 2, 4, 3), (2, 2, 2), dict(stride=(2, 1), padding=1)),
    ((1, 2, 4, 4), (2, 1, 3), dict(groups=2, padding="same", dilation=(1, 2))),
    ((2, 1, 5, 3), (2, 2, 2), dict(padding="same")),
    ((1, 2, 5, 5), (2, 1, 2), dict(stride=2, dilation=2, groups=2)),
]


@pytest.mark.parametrize("xshape,wshape,kw", GRAD_CASES)
def test_conv2d_gradcheck_and_gradgradcheck(lowering, xshape, wshape, kw):
    groups = kw.get("groups", 1)
    x = rnd(*xshape, seed=1, grad=True)
    w = rnd(wshape[0], xshape[1] // groups, *wshape[1:], seed=2, grad=True)
    b = rnd(wshape[0], seed=3, grad=True)

    def f(x, w, b):
        return F.conv2d(x, w, b, **kw)
    assert gradcheck(f, (x, w, b))
    assert gradgradcheck(f, (x, w, b))


@pytest.mark.parametrize("kw", [dict(stride=2, padding=1, output_padding=1), dict(groups=2, dilation=2),
                                dict(padding=1)])
def test_conv_transpose2d_gradcheck_and_gradgradcheck(lowering, kw):
    groups = kw.get("groups", 1)
    x, w = rnd(1, 2, 3, 2, seed=1, grad=True), rnd(2, 2 // groups, 2, 2, seed=2, grad=True)
    b = rnd(2, seed=3, grad=True)

    def f(x, w, b):
        return F.conv_transpose2d(x, w, b, **kw)
    assert gradcheck(f, (x, w, b))
    assert gradgradcheck(f, (x, w, b))


def test_conv1d_and_conv_transpose1d_gradcheck():
    x, w, b = rnd(2, 2, 5, seed=1, grad=True), rnd(3, 2, 2, seed=2, grad=True), rnd(3, seed=3, grad=True)
    assert gradcheck(lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1), (x, w, b))
    wt = rnd(2, 2, 3, seed=4, grad=True)
    assert gradcheck(lambda x, w: F.conv_transpose1d(x, w, stride=2, output_padding=1, dilation=2), (x, wt))
    assert gradgradcheck(lambda x, w: F.conv1d(x, w, padding="same", dilation=2), (x, wt))


def test_conv_backward_matches_loop_reference_in_float32():
    """A wide layer (channels-last lowering, kept columns) trained through: gradients vs finite-free formulas."""
    x = rnd(2, 20, 6, 5, seed=1).float().requires_grad_()
    w = rnd(24, 20, 3, 3, seed=2).float().requires_grad_()
    y = F.conv2d(x, w, padding=1)
    g = rnd(*y.shape, seed=3).float()
    y.backward(g)
    # grad wrt w: correlation of x with g; grad wrt x: transposed convolution of g
    xn, gn, wn = x.detach().numpy().astype(np.float64), g.numpy().astype(np.float64), w.detach().numpy()
    xp = np.pad(xn, ((0, 0), (0, 0), (1, 1), (1, 1)))
    gw = np.zeros(w.shape)
    for a in range(3):
        for c in range(3):
            gw[:, :, a, c] = np.einsum("nohw,nchw->oc", gn, xp[:, :, a:a + 6, c:c + 5])
    assert_close(w.grad, gw, rtol=1e-4, atol=1e-4)
    assert_close(x.grad, ref_conv_transpose2d(gn, wn.astype(np.float64), padding=(1, 1)), rtol=1e-4, atol=1e-4)


def test_kept_columns_are_released_and_a_second_backward_recomputes(monkeypatch):
    m = nn.Conv2d(20, 20, 3, padding=1).double()
    x = rnd(2, 20, 5, 5)
    grads = []
    for budget in (1 << 28, 0):  # columns kept from the forward pass, then rebuilt in backward
        monkeypatch.setattr(conv_impl, "_KEEP_COLUMNS_BYTES", budget)
        for _ in range(2):
            m.weight.grad = None
            y = m(x)
            y.pow(2).sum().backward(retain_graph=True)
            first = m.weight.grad.clone()
            y.pow(2).sum().backward()
            assert_close(m.weight.grad, 2 * first)
            grads.append(first)
        assert conv_impl._KeptColumns.live == 0
    for g in grads[1:]:
        assert_close(g, grads[0])


@pytest.mark.parametrize("channels,groups", [(20, 1), (4, 4), (4, 1)])
def test_results_do_not_share_scratch_memory(lowering, channels, groups):
    x1, x2 = rnd(2, channels, 6, 6, seed=1, grad=True), rnd(2, channels, 6, 6, seed=2)
    w = rnd(channels, channels // groups, 3, 3, seed=3, grad=True)
    y1 = F.conv2d(x1, w, padding=1, groups=groups)
    gx, gw = ember.autograd.grad(y1.sum(), (x1, w))
    results = [y1.detach(), gx, gw]
    before = [r.numpy().copy() for r in results]
    y2 = F.conv2d(x2, w, padding=1, groups=groups)
    ember.autograd.grad(y2.pow(2).sum(), (w,))
    F.conv_transpose2d(y2, w, padding=1, groups=groups)
    for r, b in zip(results, before):
        assert np.array_equal(r.numpy(), b)
        for pool_buffer in getattr(conv_impl._local, "pool", {}).values():
            assert not np.shares_memory(r.numpy(), pool_buffer)


# ---- modules ----------------------------------------------------------------------------------
def test_conv2d_module_repr_state_dict_and_init():
    ember.manual_seed(0)
    m = nn.Conv2d(3, 16, 3, padding=1)
    assert repr(m) == "Conv2d(3, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))"
    assert list(m.state_dict()) == ["weight", "bias"]
    assert m.weight.shape == (16, 3, 3, 3) and m.bias.shape == (16,)
    bound = 1 / math.sqrt(27)  # kaiming_uniform(a=sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)) too
    assert m.weight.abs().max().item() <= bound and m.bias.abs().max().item() <= bound
    assert m.weight.std().item() > 0.5 * bound / math.sqrt(3)
    assert m(ember.randn(2, 3, 8, 8)).shape == (2, 16, 8, 8)
    m = nn.Conv2d(3, 16, (3, 5), stride=2, padding="valid", dilation=2, bias=False, padding_mode="reflect")
    assert repr(m) == ("Conv2d(3, 16, kernel_size=(3, 5), stride=(2, 2), padding=valid, dilation=(2, 2), bias=False, "
                       "padding_mode=reflect)")
    assert repr(nn.Conv2d(4, 8, 3, padding="same", groups=2)) == \
        "Conv2d(4, 8, kernel_size=(3, 3), stride=(1, 1), padding=same, groups=2)"
    assert repr(nn.Conv1d(3, 16, 3)) == "Conv1d(3, 16, kernel_size=(3,), stride=(1,))"
    assert repr(nn.ConvTranspose2d(3, 16, 3, stride=2, output_padding=1, dilation=2)) == \
        "ConvTranspose2d(3, 16, kernel_size=(3, 3), stride=(2, 2), dilation=(2, 2), output_padding=(1, 1))"
    assert repr(nn.ConvTranspose1d(3, 6, 3, groups=3, bias=False)) == \
        "ConvTranspose1d(3, 6, kernel_size=(3,), stride=(1,), groups=3, bias=False)"
    t = nn.ConvTranspose2d(4, 6, 3, groups=2)
    assert t.weight.shape == (4, 3, 3, 3) and list(t.state_dict()) == ["weight", "bias"]
    assert nn.Conv1d(2, 4, 3, bias=False).bias is None


@pytest.mark.parametrize("mode,np_mode", [("reflect", "reflect"), ("replicate", "edge"), ("circular", "wrap")])
def test_conv2d_padding_modes(mode, np_mode):
    m = nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode=mode).double()
    x = rnd(2, 2, 5, 6, seed=1)
    xp = np.pad(x.numpy(), ((0, 0), (0, 0), (1, 1), (2, 2)), mode=np_mode)
    assert_close(m(x), ref_conv2d(xp, m.weight.detach().numpy(), m.bias.detach().numpy()), rtol=1e-10, atol=1e-10)
    same = nn.Conv2d(2, 3, (2, 4), padding="same", padding_mode=mode, bias=False).double()
    xp = np.pad(x.numpy(), ((0, 0), (0, 0), (0, 1), (1, 2)), mode=np_mode)
    assert_close(same(x), ref_conv2d(xp, same.weight.detach().numpy()), rtol=1e-10, atol=1e-10)
    assert gradcheck(lambda x: nn.functional.conv2d(F.pad(x, (1, 1, 1, 1), mode), m.weight.detach()),
                     (rnd(1, 2, 3, 3, grad=True),))
    c1 = nn.Conv1d(2, 2, 3, padding=1, padding_mode=mode).double()
    x1 = rnd(1, 2, 5, seed=2)
    expected = ref_conv2d(np.pad(x1.numpy(), ((0, 0), (0, 0), (1, 1)), mode=np_mode)[:, :, None],
                          c1.weight.detach().numpy()[:, :, None], c1.bias.detach().numpy())[:, :, 0]
    assert_close(c1(x1), expected, rtol=1e-10, atol=1e-10)


def test_conv_transpose2d_module_output_size():
    m = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    x = ember.randn(1, 2, 4, 4)
    assert m(x).shape == (1, 3, 7, 7)
    assert m(x, output_size=(8, 8)).shape == (1, 3, 8, 8)
    assert m(x, output_size=[1, 3, 8, 7]).shape == (1, 3, 8, 7)
    with pytest.raises(ValueError, match=r"requested an output size of \[9, 9\], but valid sizes range from \[7, 7\] "
                                         r"to \[8, 8\]"):
        m(x, output_size=(9, 9))
    down = nn.Conv2d(3, 3, 3, stride=2, padding=1)
    y = ember.randn(1, 3, 8, 8)
    assert nn.ConvTranspose2d(3, 3, 3, stride=2, padding=1)(down(y), output_size=y.shape).shape == y.shape


def test_conv_module_errors():
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        nn.Conv2d(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match="Invalid padding string 'foo'"):
        nn.Conv2d(4, 4, 3, padding="foo")
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        nn.Conv2d(4, 4, 3, padding="same", stride=2)
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(4, 4, 3, padding_mode="foo")
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported for ConvTranspose2d'):
        nn.ConvTranspose2d(4, 4, 3, padding_mode="reflect")


def test_conv_functional_errors():
    w = ember.randn(4, 3, 3, 3)
    with pytest.raises(RuntimeError, match=r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d, but got "
                                           r"input of size: \[2, 3\]"):
        F.conv2d(ember.randn(2, 3), w)
    with pytest.raises(RuntimeError, match=r"Expected 2D \(unbatched\) or 3D \(batched\) input to conv1d"):
        F.conv1d(ember.randn(3, 8, 8, 8), ember.randn(4, 3, 3))
    with pytest.raises(RuntimeError, match=r"Given groups=2, weight of size \[4, 3, 3, 3\], expected input\[1, 5, 8, "
                                           r"8\] to have 6 channels, but got 5 channels instead"):
        F.conv2d(ember.randn(1, 5, 8, 8), w, groups=2)
    with pytest.raises(RuntimeError, match="expected weight to be divisible by 2 at dimension 0"):
        F.conv2d(ember.randn(1, 6, 8, 8), ember.randn(3, 3, 3, 3), groups=2)
    with pytest.raises(RuntimeError, match=r"Calculated padded input size per channel: \(2 x 2\). Kernel size: "
                                           r"\(3 x 3\). Kernel size can't be greater than actual input size"):
        F.conv2d(ember.randn(1, 3, 2, 2), w)
    with pytest.raises(RuntimeError, match="padding='same' is not supported for strided convolutions"):
        F.conv2d(ember.randn(1, 3, 8, 8), w, stride=2, padding="same")
    with pytest.raises(RuntimeError, match="expected bias to be 1-dimensional with 4 elements"):
        F.conv2d(ember.randn(1, 3, 8, 8), w, ember.randn(3))
    with pytest.raises(RuntimeError, match="expected scalar type Float but found Double"):
        F.conv2d(ember.randn(1, 3, 8, 8), w.double())
    with pytest.raises(RuntimeError, match="Invalid padding string: 'foo'"):
        F.conv2d(ember.randn(1, 3, 8, 8), w, padding="foo")
    with pytest.raises(RuntimeError, match="non-positive stride is not supported"):
        F.conv2d(ember.randn(1, 3, 8, 8), w, stride=0)
    with pytest.raises(RuntimeError, match="negative padding is not supported"):
        F.conv2d(ember.randn(1, 3, 8, 8), w, padding=-1)
    with pytest.raises(RuntimeError, match="expected stride to be a single integer value or a list of 2 values"):
        F.conv2d(ember.randn(1, 3, 8, 8), w, stride=(1, 1, 1))
    with pytest.raises(RuntimeError, match="output padding must be smaller than either stride or dilation"):
        F.conv_transpose2d(ember.randn(1, 3, 4, 4), ember.randn(3, 2, 3, 3), stride=2, output_padding=2)
    with pytest.raises(RuntimeError, match=r"Given transposed=1, weight of size \[4, 2, 3, 3\], expected input\[1, 3, "
                                           r"4, 4\] to have 4 channels, but got 3 channels instead"):
        F.conv_transpose2d(ember.randn(1, 3, 4, 4), ember.randn(4, 2, 3, 3))
    with pytest.raises(RuntimeError, match=r"Calculated output size per channel: \(-1 x -1\). Output size is too "
                                           r"small"):
        F.conv_transpose2d(ember.randn(1, 4, 1, 1), ember.randn(4, 2, 3, 3), padding=2)


def test_conv_on_accelerator_and_device_mismatch(accel):
    x, w = rnd(1, 2, 5, 5, seed=1), rnd(3, 2, 3, 3, seed=2)
    expected = F.conv2d(x, w, padding=1)
    xa, wa = x.to("accel:0").requires_grad_(), w.to("accel:0").requires_grad_()
    y = F.conv2d(xa, wa, padding=1)
    assert y.device == ember.device("accel:0")
    assert_close(y.cpu(), expected)
    y.sum().backward()
    assert xa.grad.device == ember.device("accel:0") and wa.grad.device == ember.device("accel:0")
    with pytest.raises(RuntimeError, match="accel:0.*cpu|cpu.*accel:0"):
        F.conv2d(xa, w)


# ---- F.pad ------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode,np_mode", [("constant", "constant"), ("reflect", "reflect"), ("replicate", "edge"),
                                          ("circular", "wrap")])
def test_pad_modes_match_numpy_and_gradcheck(mode, np_mode):
    x = rnd(2, 3, 4, 5, seed=1)
    assert_close(F.pad(x, (1, 2, 3, 0), mode), np.pad(x.numpy(), ((0, 0), (0, 0), (3, 0), (1, 2)), mode=np_mode))
    x3 = rnd(2, 3, 4, seed=2)
    assert_close(F.pad(x3, (3, 2), mode), np.pad(x3.numpy(), ((0, 0), (0, 0), (3, 2)), mode=np_mode))
    assert gradcheck(lambda t: F.pad(t, (2, 1, 1, 2), mode), (rnd(1, 2, 3, 3, grad=True),))
    assert gradgradcheck(lambda t: F.pad(t, (1, 2), mode), (rnd(1, 2, 3, grad=True),))


def test_constant_pad_value_negative_amounts_and_dtype():
    x = rnd(2, 3, 4, 5)
    got = F.pad(x, (-1, 2, 1, -2), value=1.5)
    ref = np.pad(x.numpy()[:, :, :2, 1:], ((0, 0), (0, 0), (1, 0), (0, 2)), constant_values=1.5)
    assert_close(got, ref)
    assert F.pad(x, (1, 1, 1, 1, 1, 1)).shape == (2, 5, 6, 7)
    xi = ember.arange(3).reshape(1, 3)
    assert F.pad(xi, (1, 1), value=2).dtype is ember.int64
    assert F.pad(xi, (1, 1), value=2).tolist() == [[2, 0, 1, 2, 2]]
    assert gradcheck(lambda t: F.pad(t, (-1, 2, 1, -1), value=3.0), (rnd(1, 1, 3, 3, grad=True),))
    assert_close(nn.ZeroPad2d((1, 2, 0, 1))(x), np.pad(x.numpy(), ((0, 0), (0, 0), (0, 1), (1, 2))))
    assert_close(nn.ConstantPad1d(2, 3.5)(x[0]), np.pad(x.numpy()[0], ((0, 0), (0, 0), (2, 2)), constant_values=3.5))
    assert_close(nn.ReflectionPad2d(1)(x), np.pad(x.numpy(), ((0, 0), (0, 0), (1, 1), (1, 1)), mode="reflect"))
    assert_close(nn.ReplicationPad1d((1, 2))(x[0]), np.pad(x.numpy()[0], ((0, 0), (0, 0), (1, 2)), mode="edge"))
    assert_close(nn.CircularPad2d(1)(x), np.pad(x.numpy(), ((0, 0), (0, 0), (1, 1), (1, 1)), mode="wrap"))


def test_pad_module_reprs_and_errors():
    assert repr(nn.ZeroPad2d(1)) == "ZeroPad2d((1, 1, 1, 1))"
    assert repr(nn.ZeroPad2d((1, 2, 3, 4))) == "ZeroPad2d((1, 2, 3, 4))"
    assert repr(nn.ConstantPad1d(2, 3.5)) == "ConstantPad1d(padding=(2, 2), value=3.5)"
    assert repr(nn.ReflectionPad2d(2)) == "ReflectionPad2d((2, 2, 2, 2))"
    assert repr(nn.ReplicationPad1d((1, 2))) == "ReplicationPad1d((1, 2))"
    assert repr(nn.CircularPad2d(1)) == "CircularPad2d((1, 1, 1, 1))"
    x = ember.randn(1, 1, 4, 4)
    with pytest.raises(RuntimeError, match="Padding length must be divisible by 2"):
        F.pad(x, (1, 2, 3))
    with pytest.raises(NotImplementedError, match="Padding size 2 is not supported for 4D input tensor"):
        F.pad(x, (1, 1), mode="reflect")
    with pytest.raises(RuntimeError, match=r"Padding size should be less than the corresponding input dimension, but "
                                           r"got: padding \(4, 4\) at dimension 3"):
        F.pad(x, (4, 4, 1, 1), mode="reflect")
    with pytest.raises(RuntimeError, match="Padding value causes wrapping around more than once"):
        F.pad(x, (5, 5, 1, 1), mode="circular")
    with pytest.raises(NotImplementedError, match="Unrecognised padding mode foo"):
        F.pad(x, (1, 1), mode="foo")
    with pytest.raises(RuntimeError, match="doesn't take in value argument"):
        F.pad(x, (1, 1, 1, 1), mode="replicate", value=2.0)


# ---- unfold / fold ----------------------------------------------------------------------------
def ref_unfold(x, k, d, p, s):
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    oh = (h + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    ow = (w + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    out = np.zeros((n, c * k[0] * k[1], oh * ow))
    for ch in range(c):
        for a in range(k[0]):
            for b in range(k[1]):
                for i in range(oh):
                    for j in range(ow):
                        row, col = i * s[0] + a * d[0], j * s[1] + b * d[1]
                        out[:, (ch * k[0] + a) * k[1] + b, i * ow + j] = xp[:, ch, row, col]
    return out


@pytest.mark.parametrize("k,d,p,s", [((2, 2), (1, 1), (0, 0), (1, 1)), ((2, 3), (1, 2), (1, 1), (2, 1)),
                                     ((3, 1), (2, 1), (2, 0), (1, 3))])
def test_unfold_fold_match_loops_and_gradients(k, d, p, s):
    x = rnd(2, 3, 5, 6, seed=1)
    cols = F.unfold(x, k, d, p, s)
    ref = ref_unfold(x.numpy(), k, d, p, s)
    assert_close(cols, ref)
    # fold is the adjoint of unfold: <unfold(x), c> == <x, fold(c)>
    c = rnd(*ref.shape, seed=2)
    assert abs((cols * c).sum().item() - (x * F.fold(c, (5, 6), k, d, p, s)).sum().item()) < 1e-9
    assert_close(nn.Unfold(k, d, p, s)(x[0]), ref[0])
    assert gradcheck(lambda t: F.unfold(t, k, d, p, s), (rnd(1, 1, 5, 4, grad=True),))
    small = rnd(1, ref.shape[1] // 3, F.unfold(ember.zeros(1, 1, 4, 4), k, d, p, s).shape[2], grad=True)
    assert gradgradcheck(lambda t: F.fold(t, (4, 4), k, d, p, s), (small,))


def test_fold_of_unfold_counts_overlaps_and_errors():
    x = ember.ones(1, 2, 4, 4)
    counts = F.fold(F.unfold(x, 3, padding=1), (4, 4), 3, padding=1)
    assert counts[0, 0].tolist() == [[4, 6, 6, 4], [6, 9, 9, 6], [6, 9, 9, 6], [4, 6, 6, 4]]
    assert repr(nn.Unfold(3, padding=1)) == "Unfold(kernel_size=3, dilation=1, padding=1, stride=1)"
    assert repr(nn.Fold((4, 5), 2, stride=(1, 2))) == \
        "Fold(output_size=(4, 5), kernel_size=2, dilation=1, padding=0, stride=(1, 2))"
    with pytest.raises(RuntimeError, match="calculated shape of the array of sliding blocks as \\(0, 0\\)"):
        F.unfold(ember.randn(1, 1, 2, 2), 3)
    with pytest.raises(RuntimeError, match="Expected size of input's dimension 1 to be divisible by the product of "
                                           "kernel_size"):
        F.fold(ember.randn(1, 5, 4), (3, 3), 2)
    with pytest.raises(RuntimeError, match="expected size of input's dimension 2 to match the calculated number of "
                                           "sliding blocks 2 \\* 2 = 4, but got input.size\\(2\\)=5"):
        F.fold(ember.randn(1, 4, 5), (3, 3), 2)


# ---- non-contiguous inputs, weights and incoming gradients (every fused op of conv.py and pooling.py) ----
# Each view kind turns an array into (contiguous leaf, function of the leaf) whose result has the
# array's values (``expanded``: its first non-trivial dim repeated) but is a non-contiguous view. The
# leaf stays contiguous because gradcheck perturbs it in place; the op sees the view.
def _channels_last_view(a):
    perm = (0,) + tuple(range(2, a.ndim)) + (1,)
    return np.ascontiguousarray(a.transpose(perm)), lambda t: t.permute(tuple(np.argsort(perm).tolist()))


def _stepped_view(a):  # every other element of the last dim, from an offset of one
    big = np.zeros(a.shape[:-1] + (2 * a.shape[-1] + 1,))
    big[..., 1::2] = a
    return big, lambda t: t[..., 1::2]


def _expanded_view(a):  # a size-1 dim broadcast (stride 0)
    dim = next(i for i, s in enumerate(a.shape) if s > 1)
    return np.take(a, [0], axis=dim), lambda t: t.expand(a.shape)


INPUT_VIEWS = {"channels_last": _channels_last_view, "stepped": _stepped_view, "expanded": _expanded_view}
# Views of the output, so that the gradient arriving at the op is a non-contiguous array.
OUTPUT_VIEWS = {None: lambda y: y,
                "permuted": lambda y: y.permute(tuple(reversed(range(y.dim())))),
                "expanded": lambda y: y.sum(-1)}  # the gradient of a sum is broadcast (stride 0)

VIEW_OPS = {  # name: (function of the op's tensors, their shapes)
    "conv1d": (lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1), [(2, 2, 6), (3, 2, 3), (3,)]),
    "conv2d": (lambda x, w, b: F.conv2d(x, w, b, padding=1, dilation=(1, 2)), [(1, 2, 3, 4), (2, 2, 2, 2), (2,)]),
    "conv2d_1x1": (lambda x, w: F.conv2d(x, w, stride=(1, 2)), [(2, 3, 2, 4), (2, 3, 1, 1)]),
    "conv2d_groups": (lambda x, w: F.conv2d(x, w, stride=2, groups=2, padding=1), [(1, 4, 3, 3), (4, 2, 2, 2)]),
    "conv3d": (lambda x, w, b: F.conv3d(x, w, b, padding=(1, 0, 1)), [(1, 2, 2, 3, 2), (2, 2, 2, 2, 2), (2,)]),
    "conv3d_1x1x1": (lambda x, w: F.conv3d(x, w, stride=(2, 1, 1)), [(1, 3, 3, 2, 2), (2, 3, 1, 1, 1)]),
    "conv_transpose1d": (lambda x, w: F.conv_transpose1d(x, w, stride=2, output_padding=1), [(2, 2, 3), (2, 2, 3)]),
    "conv_transpose2d": (lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1),
                         [(1, 2, 2, 3), (2, 2, 3, 2), (2,)]),
    "conv_transpose2d_same": (lambda x, w: F.conv_transpose2d(x, w, padding=1), [(1, 2, 3, 3), (2, 2, 3, 3)]),
    "conv_transpose3d": (lambda x, w: F.conv_transpose3d(x, w, stride=(2, 1, 2)), [(1, 2, 2, 2, 2), (2, 2, 2, 1, 2)]),
    "max_pool1d": (lambda x: F.max_pool1d(x, 3, 2, padding=1), [(2, 2, 6)]),
    "max_pool2d": (lambda x: F.max_pool2d(x, 2), [(2, 2, 4, 4)]),  # disjoint windows: one indexed write
    "max_pool2d_overlap": (lambda x: F.max_pool2d(x, 3, 1, padding=1), [(1, 2, 3, 4)]),
    "max_pool3d": (lambda x: F.max_pool3d(x, 2, stride=(1, 2, 1)), [(1, 2, 3, 2, 3)]),
    "avg_pool2d": (lambda x: F.avg_pool2d(x, 3, 2, padding=1, count_include_pad=False), [(1, 2, 5, 4)]),
    "avg_pool3d": (lambda x: F.avg_pool3d(x, 2, stride=1), [(1, 2, 2, 3, 3)]),
    "adaptive_avg_pool2d": (lambda x: F.adaptive_avg_pool2d(x, (2, 3)), [(1, 2, 5, 4)]),
    "adaptive_avg_pool3d": (lambda x: F.adaptive_avg_pool3d(x, (2, 1, 2)), [(1, 2, 3, 2, 3)]),
    "adaptive_max_pool2d": (lambda x: F.adaptive_max_pool2d(x, (2, 3)), [(1, 2, 5, 4)]),
    "adaptive_max_pool3d": (lambda x: F.adaptive_max_pool3d(x, 2), [(1, 2, 3, 2, 3)]),
    "lp_pool2d": (lambda x: F.lp_pool2d(x, 2.0, 2), [(1, 2, 4, 4)]),
    "unfold": (lambda x: F.unfold(x, (2, 3), padding=1, stride=2), [(2, 2, 3, 4)]),
    "fold": (lambda x: F.fold(x, (3, 4), (2, 2), stride=(1, 2)), [(2, 8, 4)]),
    "interpolate_bilinear": (lambda x: F.interpolate(x, scale_factor=1.5, mode="bilinear"), [(1, 2, 2, 3)]),
    "interpolate_bicubic": (lambda x: F.interpolate(x, size=(3, 2), mode="bicubic", align_corners=True),
                            [(1, 2, 2, 3)]),
    "interpolate_trilinear": (lambda x: F.interpolate(x, scale_factor=(2, 1, 1.5), mode="trilinear"),
                              [(1, 2, 2, 2, 2)]),
    "interpolate_nearest": (lambda x: F.interpolate(x, scale_factor=2), [(2, 2, 2, 2)]),
    "interpolate_area": (lambda x: F.interpolate(x, size=(2, 3), mode="area"), [(1, 2, 5, 4)]),
    "pad_constant": (lambda x: F.pad(x, (1, 2, -1, 1), value=0.5), [(2, 2, 3, 3)]),
    "pad_reflect": (lambda x: F.pad(x, (2, 1, 0, 1), mode="reflect"), [(2, 2, 3, 3)]),
    "pad_replicate": (lambda x: F.pad(x, (1, 0, 2, 1, 0, 1), mode="replicate"), [(1, 2, 2, 2, 3)]),
    "pad_circular": (lambda x: F.pad(x, (2, -1, 1, 2), mode="circular"), [(2, 2, 3, 3)]),
    "pixel_shuffle": (lambda x: F.pixel_shuffle(x, 2), [(2, 8, 2, 2)]),
    "pixel_unshuffle": (lambda x: F.pixel_unshuffle(x, 2), [(1, 2, 4, 4)]),
}
VIEW_CASES = [("channels_last", None), ("stepped", "expanded"), ("expanded", "permuted")]


@pytest.mark.parametrize("view,out_view", VIEW_CASES)
@pytest.mark.parametrize("op", list(VIEW_OPS))
def test_non_contiguous_views_match_contiguous_and_gradcheck(op, view, out_view, monkeypatch):
    """Inputs and weights as views, and a view of the output (so the incoming gradient is one too):
    values and gradients equal those of the contiguous computation, and gradcheck passes."""
    if op.startswith("conv") and view != "stepped":  # the views also go through the channels-last lowering
        monkeypatch.setattr(conv_impl, "_CHANNELS_LAST_MIN", 0)
    fn, shapes = VIEW_OPS[op]
    rng = np.random.default_rng(7)
    made = [INPUT_VIEWS[view](rng.standard_normal(s)) if len(s) > 1 else (rng.standard_normal(s), lambda t: t)
            for s in shapes]
    leaves = [ember.tensor(leaf, requires_grad=True) for leaf, _ in made]
    seen = []

    def run(*ts, contiguous=False):
        args = [v(t) for t, (_, v) in zip(ts, made)]
        y = fn(*[a.contiguous() for a in args] if contiguous else args)
        if y.requires_grad:
            y.register_hook(lambda g: seen.append(g.is_contiguous()))
        return OUTPUT_VIEWS[out_view](y)

    assert not all(v(t).is_contiguous() for t, (_, v) in zip(leaves, made))
    y_view, y_contiguous = run(*leaves), run(*leaves, contiguous=True)
    assert_close(y_view, y_contiguous, rtol=1e-12, atol=1e-12)
    g = ember.tensor(rng.standard_normal(tuple(y_view.shape)))
    for a, b in zip(ember.autograd.grad(y_view, leaves, g), ember.autograd.grad(y_contiguous, leaves, g)):
        assert_close(a, b, rtol=1e-12, atol=1e-12)
    assert seen and seen[0] == (out_view is None)  # the op really received a non-contiguous gradient
    assert gradcheck(run, leaves)


# ---- end to end -------------------------------------------------------------------------------
def test_lenet_style_cnn_learns_digits():
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_digits
    digits = load_digits()
    rng = np.random.default_rng(0)
    perm = rng.permutation(len(digits.target))
    images = (digits.images[perm] / 16.0).astype(np.float32)[:, None]
    labels = digits.target[perm]
    n_train = int(0.8 * len(labels))
    x = F.interpolate(ember.tensor(images), scale_factor=2, mode="bilinear")  # 8x8 -> 16x16
    y = ember.tensor(labels)
    ember.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(32 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = ember.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = getattr(F, "cross_entropy", None) or (lambda z, t: -F.log_softmax(z, 1).gather(1, t[:, None]).mean())
    for epoch in range(14):
        if epoch == 8:
            for group in opt.param_groups:
                group["lr"] = 6e-4
        order = ember.tensor(rng.permutation(n_train))
        for i in range(0, n_train, 64):
            idx = order[i:i + 64]
            opt.zero_grad()
            loss_fn(model(x[idx]), y[idx]).backward()
            opt.step()
    model.eval()
    with ember.no_grad():
        acc = (model(x[n_train:]).argmax(1) == y[n_train:]).float().mean().item()
    assert acc >= 0.97, f"test accuracy {acc:.3f}"


def test_constant_pad_fills_every_border_element():
    # Only the border is written with the value (the interior is copied once): a crop that leaves no input
    # along a dim, borders on several dims and a non-contiguous input all against NumPy.
    x = ember.arange(24.0).reshape(2, 3, 4).permute(0, 2, 1)           # (2, 4, 3), non-contiguous
    assert F.pad(x, (-3, 2), value=7.0).tolist() == [[[7.0, 7.0]] * 4] * 2
    want = np.pad(x.numpy(), ((0, 0), (2, 1), (1, 3)), constant_values=-1.5)
    assert_close(F.pad(x, (1, 3, 2, 1), value=-1.5), want, rtol=0, atol=0)


# ---- Ember's extension: (before, after) padding pairs (PyTorch needs an F.pad copy first) ----
@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
@pytest.mark.parametrize("fn,x_shape,w_shape,pairs,kw", [
    (F.conv1d, (2, 3, 9), (4, 3, 3), ((0, 1),), dict(stride=2)),
    (F.conv2d, (2, 3, 8, 8), (4, 3, 3, 3), ((0, 1), (0, 1)), dict(stride=2)),          # TF "same", stride 2
    (F.conv2d, (2, 4, 10, 9), (4, 1, 5, 5), ((1, 2), (2, 1)), dict(stride=2, groups=4)),  # depthwise
    (F.conv2d, (1, 2, 7, 6), (3, 2, 2, 3), ((3, 0), (1, 2)), dict(dilation=(2, 1))),
    (F.conv3d, (1, 2, 5, 6, 4), (2, 2, 3, 3, 3), ((0, 1), (1, 1), (2, 0)), dict()),
])
def test_padding_pairs_equal_f_pad_then_convolution(fn, x_shape, w_shape, pairs, kw, dtype):
    x = ember.randn(*x_shape[:-1], 2 * x_shape[-1], dtype=dtype)[..., ::2].requires_grad_()  # not contiguous
    assert not x.is_contiguous()
    x2 = x.detach().clone().requires_grad_()
    w = ember.randn(*w_shape, dtype=dtype, requires_grad=True)
    w2 = w.detach().clone().requires_grad_()
    y = fn(x, w, padding=pairs, **kw)
    flat = [v for pair in reversed(pairs) for v in pair]  # F.pad lists the last dim first
    ref = fn(F.pad(x2, flat), w2, padding=0, **kw)
    assert y.shape == ref.shape
    g = ember.randn(*y.shape, dtype=dtype)
    (y * g).sum().backward()
    (ref * g).sum().backward()
    tol = 1e-5 if dtype == ember.float32 else 1e-12
    for got, want in [(y, ref), (x.grad, x2.grad), (w.grad, w2.grad)]:
        assert_close(got.detach(), want.detach(), rtol=tol, atol=tol)


def test_padding_pairs_gradcheck():
    x = ember.randn(1, 2, 6, 5, dtype=ember.float64, requires_grad=True)
    w = ember.randn(3, 2, 3, 3, dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda a, b: F.conv2d(a, b, stride=2, padding=((0, 1), (2, 1))), (x, w))


@pytest.mark.parametrize("padding,match", [
    (((0, 1),), r"one pair of ints per spatial dimension \(2\)"),
    (((0, 1), (1,)), "one pair of ints per spatial dimension"),
    (((0, 1), 1), "one pair of ints per spatial dimension"),
    (((0, 1), (0.5, 1)), "one pair of ints per spatial dimension"),
    (((0, -1), (0, 1)), "negative padding is not supported"),
])
def test_padding_pairs_errors(padding, match):
    with pytest.raises(RuntimeError, match=match):
        F.conv2d(ember.randn(1, 3, 8, 8), ember.randn(4, 3, 3, 3), padding=padding)
