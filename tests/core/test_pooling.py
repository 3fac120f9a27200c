"""Pooling, unpooling, interpolation and pixel shuffle: forward vs plain NumPy loops, gradients, modules, errors."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import ember
from ember import nn
from ember.autograd import gradcheck, gradgradcheck
from ember.nn import functional as F
from ember.testing import assert_close


def rnd(*shape, seed=0, grad=False):
    return ember.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=grad)


def out_size(size, k, s, p, d, ceil_mode):
    num = size + 2 * p - d * (k - 1) - 1
    o = (math.ceil(num / s) if ceil_mode else num // s) + 1
    if ceil_mode and (o - 1) * s >= size + p:
        o -= 1
    return o


# ---- references -------------------------------------------------------------------------------
def ref_max_pool2d(x, k, s, p, d, ceil_mode):
    """Maximum and flat index (first maximum in scan order) per window, looping over output pixels."""
    n, c, h, w = x.shape
    oh, ow = out_size(h, k[0], s[0], p[0], d[0], ceil_mode), out_size(w, k[1], s[1], p[1], d[1], ceil_mode)
    vals, idx = np.zeros((n, c, oh, ow)), np.zeros((n, c, oh, ow), dtype=np.int64)
    for i in range(oh):
        for j in range(ow):
            best = np.full((n, c), -np.inf)
            r0, q0 = i * s[0] - p[0], j * s[1] - p[1]
            while r0 < 0:  # PyTorch's index when nothing beats -inf: the first in-bounds step
                r0 += d[0]
            while q0 < 0:
                q0 += d[1]
            arg = np.full((n, c), r0 * w + q0, dtype=np.int64)
            for a in range(k[0]):
                for b in range(k[1]):
                    r, q = i * s[0] - p[0] + a * d[0], j * s[1] - p[1] + b * d[1]
                    if 0 <= r < h and 0 <= q < w:
                        v = x[:, :, r, q]
                        better = v > best
                        best = np.where(better, v, best)
                        arg = np.where(better, r * w + q, arg)
            vals[:, :, i, j], idx[:, :, i, j] = best, arg
    return vals, idx


def ref_avg_pool2d(x, k, s, p, ceil_mode, count_include_pad, divisor_override=None):
    n, c, h, w = x.shape
    oh, ow = out_size(h, k[0], s[0], p[0], 1, ceil_mode), out_size(w, k[1], s[1], p[1], 1, ceil_mode)
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * s[0] - p[0], j * s[1] - p[1]
            r1, c1 = min(r0 + k[0], h + p[0]), min(c0 + k[1], w + p[1])
            area = (r1 - r0) * (c1 - c0)
            r0, c0, r1, c1 = max(r0, 0), max(c0, 0), min(r1, h), min(c1, w)
            total = x[:, :, r0:r1, c0:c1].sum(axis=(2, 3))
            div = divisor_override or (area if count_include_pad else (r1 - r0) * (c1 - c0))
            out[:, :, i, j] = total / div
    return out


def ref_adaptive(x, out, reduce):
    n, c, h, w = x.shape
    res = np.zeros((n, c) + out)
    for i in range(out[0]):
        for j in range(out[1]):
            r0, r1 = (i * h) // out[0], -((-(i + 1) * h) // out[0])
            c0, c1 = (j * w) // out[1], -((-(j + 1) * w) // out[1])
            res[:, :, i, j] = reduce(x[:, :, r0:r1, c0:c1], axis=(2, 3))
    return res


# ---- max pooling ------------------------------------------------------------------------------
MAX_CASES = [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=(2, 3), stride=1,
             dilation=2, padding=1), dict(kernel_size=2, ceil_mode=True), dict(kernel_size=3, stride=2, padding=1,
             ceil_mode=True), dict(kernel_size=(3, 2), stride=(1, 2), dilation=(1, 2), ceil_mode=True)]


def _pairs(kw, nd=2):
    def pair(v, default):
        v = default if v is None else v
        return (v,) * nd if isinstance(v, int) else tuple(v)
    k = pair(kw["kernel_size"], None)
    return k, pair(kw.get("stride"), k), pair(kw.get("padding"), 0), pair(kw.get("dilation"), 1)


@pytest.mark.parametrize("kw", MAX_CASES)
def test_max_pool2d_matches_loops_with_indices(kw):
    x = rnd(2, 3, 7, 6, seed=1)
    k, s, p, d = _pairs(kw)
    vals, idx = ref_max_pool2d(x.numpy(), k, s, p, d, kw.get("ceil_mode", False))
    out, ind = F.max_pool2d(x, return_indices=True, **kw)
    assert_close(out, vals)
    assert ind.dtype is ember.int64 and ind.tolist() == idx.tolist()
    assert_close(F.max_pool2d(x[0], **kw), vals[0])
    m = nn.MaxPool2d(return_indices=True, **kw)
    assert m(x)[1].tolist() == idx.tolist()


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
                                dict(kernel_size=2, dilation=2, stride=1)])
def test_max_pool1d_matches_loops(kw):
    x = rnd(2, 3, 9, seed=1)
    k, s, p, d = _pairs(kw, 1)
    vals, idx = ref_max_pool2d(x.numpy()[:, :, None], (1,) + k, (1,) + s, (0,) + p, (1,) + d,
                               kw.get("ceil_mode", False))
    out, ind = F.max_pool1d(x, return_indices=True, **kw)
    assert_close(out, vals[:, :, 0])
    assert ind.tolist() == idx[:, :, 0].tolist()
    assert_close(nn.MaxPool1d(**kw)(x[1]), vals[1, :, 0])


def test_max_pool_ties_nan_and_integers():
    x = ember.tensor([[[[1.0, 1.0], [1.0, 1.0]]]])
    assert F.max_pool2d(x, 2, return_indices=True)[1].item() == 0  # first maximum wins
    y = ember.tensor([[[[1.0, float("nan")], [3.0, 2.0]]]])
    v, i = F.max_pool2d(y, 2, return_indices=True)
    assert math.isnan(v.item()) and i.item() == 1  # NaN propagates, as in PyTorch
    xi = ember.arange(16).reshape(1, 1, 4, 4)
    assert F.max_pool2d(xi, 2).tolist() == [[[[5, 7], [13, 15]]]] and F.max_pool2d(xi, 2).dtype is ember.int64


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
                                dict(kernel_size=(2, 2), stride=1, dilation=(1, 2), padding=1)])
def test_max_pool2d_gradcheck_and_gradgradcheck(kw):
    x = rnd(1, 2, 4, 5, seed=3, grad=True)
    assert gradcheck(lambda t: F.max_pool2d(t, **kw), (x,))
    assert gradgradcheck(lambda t: F.max_pool2d(t, **kw), (x,))
    x1 = rnd(2, 1, 6, seed=4, grad=True)
    assert gradcheck(lambda t: F.max_pool1d(t, 3, 2, 1), (x1,))


def test_max_pool_gradient_of_overlapping_windows_accumulates():
    x = ember.tensor([[[[0.0, 5.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]]], requires_grad=True)
    F.max_pool2d(x, 2, stride=1).sum().backward()
    # the all-zero windows of the second row pick their first position
    assert x.grad.tolist() == [[[[0.0, 2.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]]]]


# ---- average pooling --------------------------------------------------------------------------
AVG_CASES = [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
             dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
             dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
             dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
             dict(kernel_size=2, ceil_mode=True), dict(kernel_size=(2, 3), divisor_override=5, padding=1)]


@pytest.mark.parametrize("kw", AVG_CASES)
def test_avg_pool2d_matches_loops(kw):
    x = rnd(2, 3, 7, 6, seed=1)
    k, s, p, _ = _pairs(kw)
    expected = ref_avg_pool2d(x.numpy(), k, s, p, kw.get("ceil_mode", False), kw.get("count_include_pad", True),
                              kw.get("divisor_override"))
    assert_close(F.avg_pool2d(x, **kw), expected)
    assert_close(nn.AvgPool2d(**kw)(x[0]), expected[0])
    small = rnd(1, 1, 4, 5, seed=2, grad=True)
    assert gradcheck(lambda t: F.avg_pool2d(t, **kw), (small,))
    assert gradgradcheck(lambda t: F.avg_pool2d(t, **kw), (small,))


def test_avg_pool1d_and_integer_input():
    x = rnd(2, 3, 9, seed=1)
    exp = ref_avg_pool2d(x.numpy()[:, :, None], (1, 3), (1, 2), (0, 1), True, False)[:, :, 0]
    assert_close(F.avg_pool1d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False), exp)
    assert_close(nn.AvgPool1d(3, 2, 1, True, False)(x), exp)
    assert gradcheck(lambda t: F.avg_pool1d(t, 2), (rnd(1, 2, 5, grad=True),))
    xi = ember.arange(16).reshape(1, 1, 4, 4)
    assert F.avg_pool2d(xi, 2).tolist() == [[[[2, 4], [10, 12]]]]  # truncating division, as in PyTorch


def test_known_values_from_pytorch():
    x = ember.arange(25.0).reshape(1, 1, 5, 5)
    assert F.avg_pool2d(x, 2, ceil_mode=True).tolist() == [[[[3.0, 5.0, 6.5], [13.0, 15.0, 16.5],
                                                              [20.5, 22.5, 24.0]]]]
    assert_close(F.avg_pool2d(x, 3, 2, 1, ceil_mode=True),
                 [[[[4 / 3, 3.0, 8 / 3], [7.0, 12.0, 9.0], [8.0, 13.0, 28 / 3]]]], atol=1e-6, rtol=1e-6)
    v, i = F.max_pool2d(x, 2, ceil_mode=True, return_indices=True)
    assert i.tolist() == [[[[6, 8, 9], [16, 18, 19], [21, 23, 24]]]]


def test_lp_pool_matches_definition():
    x = rnd(2, 3, 6, 6, seed=1).abs()
    expected = (ref_avg_pool2d(x.numpy() ** 2, (2, 2), (2, 2), (0, 0), False, True) * 4) ** 0.5
    assert_close(F.lp_pool2d(x, 2, 2), expected)
    assert_close(nn.LPPool2d(2, 2)(x), expected)
    x1 = rnd(1, 2, 6, seed=2).abs()
    assert_close(F.lp_pool1d(x1, 3, 3), (x1.numpy() ** 3).reshape(1, 2, 2, 3).sum(-1) ** (1 / 3))
    assert repr(nn.LPPool2d(2, 3)) == "LPPool2d(norm_type=2, kernel_size=3, stride=None, ceil_mode=False)"


# ---- adaptive pooling -------------------------------------------------------------------------
@pytest.mark.parametrize("out", [1, 2, 3, (4, 3), (None, 2), (5, 7), (7, 6)])
def test_adaptive_pools_2d_match_loops(out):
    x = rnd(2, 3, 7, 6, seed=1)
    o = (out, out) if isinstance(out, int) else (out[0] or 7, out[1] or 6)
    assert_close(F.adaptive_avg_pool2d(x, out), ref_adaptive(x.numpy(), o, np.mean))
    vals, idx = F.adaptive_max_pool2d(x, out, return_indices=True)
    assert_close(vals, ref_adaptive(x.numpy(), o, np.max))
    flat = x.numpy().reshape(2, 3, -1)
    assert_close(np.take_along_axis(flat, idx.numpy().reshape(2, 3, -1), 2).reshape(vals.shape), vals.numpy())
    assert_close(nn.AdaptiveAvgPool2d(out)(x[0]), ref_adaptive(x.numpy(), o, np.mean)[0])


@pytest.mark.parametrize("out", [1, 3, 4])
def test_adaptive_pools_1d_and_gradients(out):
    x = rnd(2, 3, 7, seed=1)
    assert_close(F.adaptive_avg_pool1d(x, out), ref_adaptive(x.numpy()[:, :, None], (1, out), np.mean)[:, :, 0])
    v, i = nn.AdaptiveMaxPool1d(out, return_indices=True)(x)
    assert_close(v, ref_adaptive(x.numpy()[:, :, None], (1, out), np.max)[:, :, 0])
    assert i.shape == (2, 3, out)
    small = rnd(1, 2, 5, 4, seed=2, grad=True)
    assert gradcheck(lambda t: F.adaptive_avg_pool2d(t, (out, 3)), (small,))
    assert gradgradcheck(lambda t: F.adaptive_avg_pool2d(t, (out, 3)), (small,))
    assert gradcheck(lambda t: F.adaptive_max_pool2d(t, (out, 3)), (small,))
    assert gradcheck(lambda t: F.adaptive_max_pool1d(t, out), (rnd(1, 2, 5, grad=True),))


# ---- max unpooling ----------------------------------------------------------------------------
def test_max_unpool2d_inverts_max_pool_at_indices():
    x = rnd(2, 3, 6, 6, seed=1)
    v, i = F.max_pool2d(x, 2, return_indices=True)
    up = F.max_unpool2d(v, i, 2)
    expected = np.zeros((2, 3, 36))
    np.put_along_axis(expected, i.numpy().reshape(2, 3, -1), v.numpy().reshape(2, 3, -1), 2)
    assert_close(up, expected.reshape(2, 3, 6, 6))
    assert_close(nn.MaxUnpool2d(2)(v, i), up)
    # odd input: the default size loses the last row/column; output_size restores it
    x7 = rnd(1, 2, 7, 7, seed=2)
    v7, i7 = F.max_pool2d(x7, 2, return_indices=True)
    assert F.max_unpool2d(v7, i7, 2, output_size=(7, 7)).shape == (1, 2, 7, 7)
    assert F.max_unpool2d(v7, i7, 2, output_size=x7.shape).shape == (1, 2, 7, 7)
    assert gradcheck(lambda t: F.max_unpool2d(t, i, 2), (v.detach().requires_grad_(),))
    v1, i1 = F.max_pool1d(rnd(2, 3, 8, seed=3), 2, return_indices=True)
    assert F.max_unpool1d(v1, i1, 2).shape == (2, 3, 8)
    assert repr(nn.MaxUnpool2d((2, 3), padding=1)) == "MaxUnpool2d(kernel_size=(2, 3), stride=(2, 3), padding=(1, 1))"


def test_max_unpool_errors():
    v = ember.randn(1, 1, 2, 2)
    with pytest.raises(RuntimeError, match=r"Found an invalid max index: 100 \(output volumes are of size 4x4\)"):
        F.max_unpool2d(v, ember.full((1, 1, 2, 2), 100), 2)
    with pytest.raises(ValueError, match=r'invalid output_size "\(9, 9\)" \(dim 0 must be between 2 and 6\)'):
        F.max_unpool2d(v, ember.zeros(1, 1, 2, 2, dtype=ember.int64), 2, output_size=(9, 9))


# ---- interpolation ----------------------------------------------------------------------------
def ref_interp_axis(x, axis, out, mode, align_corners, scale):
    """Resample one axis with PyTorch's source-coordinate rules, one output position at a time."""
    n_in = x.shape[axis]
    res = []
    for o in range(out):
        if mode == "nearest":
            s = 1.0 / scale if scale else n_in / out
            res.append(np.take(x, min(int(np.floor(np.float32(o) * np.float32(s))), n_in - 1), axis))
            continue
        if align_corners:
            src = o * (n_in - 1) / (out - 1) if out > 1 else 0.0
        else:
            s = 1.0 / scale if scale else n_in / out
            src = max((o + 0.5) * s - 0.5, 0.0)
        i0 = min(int(src), n_in - 1)
        i1 = min(i0 + 1, n_in - 1)
        lam = src - i0
        res.append((1 - lam) * np.take(x, i0, axis) + lam * np.take(x, i1, axis))
    return np.stack(res, axis)


INTERP_CASES = [dict(scale_factor=2), dict(size=(5, 3)), dict(scale_factor=0.6), dict(scale_factor=(1.7, 2.3)),
                dict(scale_factor=2, mode="bilinear"), dict(scale_factor=2, mode="bilinear", align_corners=True),
                dict(size=(5, 9), mode="bilinear"), dict(size=(3, 2), mode="bilinear", align_corners=True),
                dict(scale_factor=1.7, mode="bilinear"), dict(size=(1, 1), mode="bilinear", align_corners=True),
                dict(scale_factor=1.7, mode="bilinear", recompute_scale_factor=True)]


@pytest.mark.parametrize("kw", INTERP_CASES)
def test_interpolate_matches_coordinate_rules(kw):
    x = rnd(2, 3, 4, 6, seed=1)
    mode = kw.get("mode", "nearest")
    if "size" in kw:
        out, scales = kw["size"], (None, None)
    else:
        sf = kw["scale_factor"]
        sf = (sf, sf) if not isinstance(sf, tuple) else sf
        out = (int(4 * sf[0]), int(6 * sf[1]))
        scales = (None, None) if kw.get("recompute_scale_factor") else sf
    expected = x.numpy()
    for axis in (2, 3):
        expected = ref_interp_axis(expected, axis, out[axis - 2], mode, kw.get("align_corners"), scales[axis - 2])
    assert_close(F.interpolate(x, **kw), expected, rtol=1e-12, atol=1e-12)
    small = rnd(1, 1, 3, 2, seed=2, grad=True)
    assert gradcheck(lambda t: F.interpolate(t, **kw), (small,))


def test_interpolate_known_values_and_other_modes():
    x = ember.arange(5.0).reshape(1, 1, 5)
    assert F.interpolate(x, scale_factor=0.6).tolist() == [[[0.0, 1.0, 3.0]]]
    assert F.interpolate(x, scale_factor=0.6, mode="nearest-exact").tolist() == [[[0.0, 2.0, 4.0]]]
    assert_close(F.interpolate(x, size=3, mode="area"), [[[0.5, 2.0, 3.5]]])
    lin = F.interpolate(ember.arange(4.0).reshape(1, 1, 4), scale_factor=1.7, mode="linear")
    assert_close(lin, [[[0.0, 0.3824, 0.9706, 1.5588, 2.1471, 2.7353]]], atol=1e-4, rtol=0)
    assert_close(F.interpolate(ember.arange(4.0).reshape(1, 1, 2, 2), size=(3, 3), mode="bilinear",
                               align_corners=True), [[[[0, .5, 1], [1, 1.5, 2], [2, 2.5, 3]]]])
    img = rnd(1, 2, 3, 4, seed=1)
    up = F.interpolate(img, scale_factor=2, mode="bicubic", align_corners=True)
    assert up.shape == (1, 2, 6, 8)
    assert_close(up[..., ::5, ::7], img[..., ::2, ::3])  # corners are kept with align_corners
    assert F.interpolate(rnd(1, 1, 2, 3, 2), scale_factor=2, mode="trilinear").shape == (1, 1, 4, 6, 4)
    assert gradcheck(lambda t: F.interpolate(t, size=(4, 3), mode="bicubic"), (rnd(1, 1, 3, 2, grad=True),))


def test_upsample_modules_and_errors():
    assert repr(nn.Upsample(scale_factor=2)) == "Upsample(scale_factor=2.0, mode='nearest')"
    assert repr(nn.Upsample(size=(3, 4), mode="bilinear", align_corners=True)) == \
        "Upsample(size=(3, 4), mode='bilinear')"
    assert repr(nn.UpsamplingNearest2d(scale_factor=2)) == "UpsamplingNearest2d(scale_factor=2.0, mode='nearest')"
    assert repr(nn.UpsamplingBilinear2d(size=4)) == "UpsamplingBilinear2d(size=4, mode='bilinear')"
    x = rnd(1, 1, 2, 2)
    assert_close(nn.UpsamplingBilinear2d(scale_factor=2)(x), F.interpolate(x, scale_factor=2, mode="bilinear",
                                                                           align_corners=True))
    with pytest.raises(ValueError, match="only one of size or scale_factor should be defined"):
        F.interpolate(x, scale_factor=2, size=3)
    with pytest.raises(ValueError, match="either size or scale_factor should be defined"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="align_corners option can only be set with the interpolating modes"):
        F.interpolate(x, size=3, align_corners=True)
    with pytest.raises(NotImplementedError, match="Got 3D input, but bilinear mode needs 4D input"):
        F.interpolate(rnd(1, 1, 4), size=3, mode="bilinear")
    with pytest.raises(ValueError, match="Input and output must have the same number of spatial dimensions"):
        F.interpolate(x, size=(3, 3, 3))
    with pytest.raises(RuntimeError, match="Input and output sizes should be greater than 0"):
        F.interpolate(x, scale_factor=0.1)


# ---- pixel shuffle ----------------------------------------------------------------------------
def test_pixel_shuffle_matches_loops_and_inverts():
    x = rnd(2, 8, 3, 4, seed=1)
    r = 2
    expected = np.zeros((2, 2, 6, 8))
    for c in range(2):
        for i in range(r):
            for j in range(r):
                expected[:, c, i::r, j::r] = x.numpy()[:, c * r * r + i * r + j]
    assert_close(F.pixel_shuffle(x, 2), expected)
    assert_close(nn.PixelShuffle(2)(x), expected)
    assert_close(F.pixel_unshuffle(F.pixel_shuffle(x, 2), 2), x)
    assert_close(nn.PixelUnshuffle(2)(ember.tensor(expected)), x)
    assert F.pixel_shuffle(rnd(3, 2, 9, 1, 1), 3).shape == (3, 2, 1, 3, 3)
    assert gradcheck(lambda t: F.pixel_shuffle(t, 2), (rnd(1, 4, 2, 1, grad=True),))
    assert repr(nn.PixelShuffle(2)) == "PixelShuffle(upscale_factor=2)"
    assert repr(nn.PixelUnshuffle(3)) == "PixelUnshuffle(downscale_factor=3)"
    with pytest.raises(RuntimeError, match="input.size\\(-3\\)=5 is not divisible by 4"):
        F.pixel_shuffle(ember.randn(1, 5, 4, 4), 2)
    with pytest.raises(RuntimeError, match="input.size\\(-2\\)=5 is not divisible by 2"):
        F.pixel_unshuffle(ember.randn(1, 1, 5, 4), 2)


# ---- modules, errors, random shapes -----------------------------------------------------------
def test_pool_module_reprs():
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    assert repr(nn.MaxPool2d((2, 3), 1, 1, 2, True, True)) == \
        "MaxPool2d(kernel_size=(2, 3), stride=1, padding=1, dilation=2, ceil_mode=True)"
    assert repr(nn.AvgPool2d(2)) == "AvgPool2d(kernel_size=2, stride=2, padding=0)"
    assert repr(nn.MaxPool1d(3)) == "MaxPool1d(kernel_size=3, stride=3, padding=0, dilation=1, ceil_mode=False)"
    assert repr(nn.AvgPool1d(3)) == "AvgPool1d(kernel_size=(3,), stride=(3,), padding=(0,))"
    assert repr(nn.AdaptiveAvgPool2d((None, 3))) == "AdaptiveAvgPool2d(output_size=(None, 3))"
    assert repr(nn.AdaptiveMaxPool2d(2, True)) == "AdaptiveMaxPool2d(output_size=2)"
    assert list(nn.MaxPool2d(2).state_dict()) == []


def test_pool_errors():
    with pytest.raises(RuntimeError, match="non-empty 3D or 4D \\(batch mode\\) tensor expected for input"):
        F.max_pool2d(ember.randn(2, 3), 2)
    with pytest.raises(RuntimeError, match="pad should be at most half of effective kernel size, but got pad=2, "
                                           "kernel_size=2 and dilation=1"):
        F.max_pool2d(ember.randn(1, 1, 4, 4), 2, padding=2)
    with pytest.raises(RuntimeError, match=r"Given input size: \(1x1x1\). Calculated output size: \(1x0x0\). Output "
                                           r"size is too small"):
        F.avg_pool2d(ember.randn(1, 1, 1, 1), 2)
    with pytest.raises(RuntimeError, match="stride should not be zero"):
        F.max_pool2d(ember.randn(1, 1, 4, 4), 2, stride=0)
    with pytest.raises(RuntimeError, match="max_pool1d: Expected 2D or 3D"):
        F.max_pool1d(ember.randn(2, 3, 4, 5), 2)
    with pytest.raises(RuntimeError, match="Expected 2 to 3 dimensions, but got 4-dimensional tensor"):
        F.avg_pool1d(ember.randn(2, 3, 4, 5), 2)
    with pytest.raises(RuntimeError, match=r"adaptive_avg_pool2d\(\): Expected 3D or 4D tensor, but got \[3\]"):
        F.adaptive_avg_pool2d(ember.randn(3), 2)
    with pytest.raises(RuntimeError, match="divisor must be not zero"):
        F.avg_pool2d(ember.randn(1, 1, 4, 4), 2, divisor_override=0)


@settings(max_examples=25, deadline=None)
@given(h=st.integers(1, 7), w=st.integers(1, 7), k=st.integers(1, 3), s=st.integers(1, 3), p=st.integers(0, 1),
       d=st.integers(1, 2), ceil_mode=st.booleans(), count_include_pad=st.booleans())
def test_pool_random_geometries(h, w, k, s, p, d, ceil_mode, count_include_pad):
    if p > (d * (k - 1) + 1) // 2 or out_size(h, k, s, p, d, ceil_mode) < 1 or out_size(w, k, s, p, d, ceil_mode) < 1:
        return
    x = rnd(2, 2, h, w, seed=h * 7 + w)
    vals, idx = ref_max_pool2d(x.numpy(), (k, k), (s, s), (p, p), (d, d), ceil_mode)
    got, ind = F.max_pool2d(x, k, s, p, d, ceil_mode=ceil_mode, return_indices=True)
    assert_close(got, vals)
    assert ind.tolist() == idx.tolist()
    if p <= k // 2 and out_size(h, k, s, p, 1, ceil_mode) >= 1 and out_size(w, k, s, p, 1, ceil_mode) >= 1:
        assert_close(F.avg_pool2d(x, k, s, p, ceil_mode, count_include_pad),
                     ref_avg_pool2d(x.numpy(), (k, k), (s, s), (p, p), ceil_mode, count_include_pad))


def test_pooling_and_resampling_on_accelerator(accel):
    x = rnd(1, 2, 6, 5, seed=1)
    xa = x.to("accel:1").requires_grad_()
    ops = [lambda t: F.max_pool2d(t, 2, 1, 1), lambda t: F.avg_pool2d(t, 3, 2, 1, ceil_mode=True),
           lambda t: F.adaptive_avg_pool2d(t, (4, 3)), lambda t: F.adaptive_max_pool2d(t, 3),
           lambda t: F.interpolate(t, scale_factor=1.5, mode="bilinear"), lambda t: F.pixel_unshuffle(t[..., :4], 2)]
    for op in ops:
        out = op(xa)
        assert out.device == ember.device("accel:1")
        assert_close(out.cpu(), op(x))
        out.sum().backward()
        assert xa.grad.device == ember.device("accel:1")
        xa.grad = None


def test_max_pool_gradient_keeps_non_finite_values_in_place():
    x = ember.tensor([[[[1.0, 2.0], [0.0, -1.0]]]], requires_grad=True)
    y = F.max_pool2d(x, 2)
    y.backward(ember.tensor([[[[float("inf")]]]]))
    assert x.grad.tolist() == [[[[0.0, float("inf")], [0.0, 0.0]]]]


def test_max_pool_windows_without_finite_values_match_pytorch():
    x = ember.tensor([[[[-np.inf, -np.inf, 1.0]]]], requires_grad=True)
    v, i = F.max_pool2d(x, (1, 2), 1, (0, 1), return_indices=True)
    assert i.tolist() == [[[[0, 0, 2, 2]]]]  # from PyTorch
    v.sum().backward()
    assert x.grad.tolist() == [[[[2.0, 0.0, 2.0]]]]
    v, i = F.max_pool2d(ember.randn(1, 1, 1, 3), 2, 1, 1, 2, return_indices=True)
    assert v.tolist() == [[[[-np.inf] * 3]]] and i.tolist() == [[[[4, 3, 4]]]]  # windows entirely in padding
