"""3-D convolution and pooling, F.pad's non-constant modes and uint8 interpolation, against PyTorch.

Reference data: tests/core/data/conv3d_reference.npz, made by make_conv3d_reference.py (its
docstring says how to re-run it). Forward values and the gradients of input, weight and bias are
compared in float64 and float32 (with both convolution lowerings); gradcheck/gradgradcheck run in
float64 on small shapes; the modules' state_dict keys, shapes and reprs match PyTorch's.
"""
import json
import os

import numpy as np
import pytest

import ember
from ember import nn
from ember.autograd import gradcheck, gradgradcheck
from ember.nn import functional as F
from ember.nn._functional import conv as conv_impl
from ember.testing import assert_close

_Z = np.load(os.path.join(os.path.dirname(__file__), "data", "conv3d_reference.npz"))
META = json.loads(bytes(_Z["meta"]).decode())


def ref(key: str) -> np.ndarray:
    """A reference array by key (arrays of one dtype are packed into one pool in the file)."""
    dtype, offset, shape = META["index"][key]
    return _Z[f"pool_{dtype}"][offset:offset + int(np.prod(shape, dtype=np.int64))].reshape(shape)


def cases(group: str):
    return [pytest.param(c, id=f"{group}{i}") for i, c in enumerate(META[group])]


def rnd(*shape, seed=0, grad=False):
    return ember.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=grad)


@pytest.fixture(params=["channels_first", "channels_last"])
def lowering(request, monkeypatch):
    """Run a test with both lowerings of the convolution (chosen per layer by channel count)."""
    monkeypatch.setattr(conv_impl, "_CHANNELS_LAST_MIN", 10 ** 9 if request.param == "channels_first" else 0)
    return request.param


DTYPES = [pytest.param(ember.float64, id="float64"), pytest.param(ember.float32, id="float32")]


def tols(dtype):
    return dict(rtol=1e-10, atol=1e-10) if dtype is ember.float64 else dict(rtol=2e-5, atol=2e-5)


def inputs(case, dtype, names=("x", "w", "b")):
    """The case's stored arrays as leaf tensors of ``dtype`` that require grad (None where absent)."""
    keys = case["keys"]
    return [ember.tensor(ref(keys[n]), dtype=dtype, requires_grad=True) if n in keys else None for n in names]


def check_grads(y, leaves, case, dtype, names=("gx", "gw", "gb")):
    y.backward(ember.tensor(ref(case["keys"]["g"]), dtype=dtype))
    for leaf, name in zip(leaves, names):
        if leaf is not None:
            assert leaf.grad.dtype is dtype
            assert_close(leaf.grad, ref(case["keys"][name]), **tols(dtype), msg=name)


# ---- convolutions against PyTorch --------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", cases("conv3d"))
def test_conv3d_matches_pytorch(lowering, case, dtype):
    x, w, b = inputs(case, dtype)
    y = F.conv3d(x, w, b, **case["kwargs"])
    assert y.dtype is dtype and y.is_contiguous()
    assert_close(y, ref(case["keys"]["y"]), **tols(dtype))
    check_grads(y, (x, w, b), case, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", cases("conv_transpose3d"))
def test_conv_transpose3d_matches_pytorch(lowering, case, dtype):
    x, w, b = inputs(case, dtype)
    y = F.conv_transpose3d(x, w, b, **case["kwargs"])
    assert y.dtype is dtype
    assert_close(y, ref(case["keys"]["y"]), **tols(dtype))
    check_grads(y, (x, w, b), case, dtype)


@pytest.mark.parametrize("kw", [dict(), dict(stride=(2, 1, 1), padding=(1, 0, 1), dilation=(1, 1, 2)),
                                dict(groups=2, padding="same")])
def test_conv3d_gradcheck_and_gradgradcheck(lowering, kw):
    x = rnd(1, 2, 3, 3, 4, seed=1, grad=True)
    w = rnd(2, 2 // kw.get("groups", 1), 2, 1, 2, seed=2, grad=True)
    b = rnd(2, seed=3, grad=True)

    def f(x, w, b):
        return F.conv3d(x, w, b, **kw)
    assert gradcheck(f, (x, w, b))
    assert gradgradcheck(f, (x, w, b))


@pytest.mark.parametrize("kw", [dict(stride=2, output_padding=(1, 0, 1)), dict(padding=1), dict(groups=2, dilation=2)])
def test_conv_transpose3d_gradcheck_and_gradgradcheck(lowering, kw):
    x, w = rnd(1, 2, 2, 2, 3, seed=1, grad=True), rnd(2, 2 // kw.get("groups", 1), 2, 2, 2, seed=2, grad=True)
    b = rnd(2, seed=3, grad=True)  # out channels: 2 // groups per group, times groups

    def f(x, w, b):
        return F.conv_transpose3d(x, w, b, **kw)
    assert gradcheck(f, (x, w, b))
    assert gradgradcheck(f, (x, w, b))


def test_conv3d_equals_sum_of_conv2d_slices():
    """A (kd, kh, kw) kernel is kd 2-D kernels applied to consecutive depth slices."""
    x, w, b = rnd(2, 3, 5, 4, 6, seed=1), rnd(4, 3, 2, 3, 3, seed=2), rnd(4, seed=3)
    y = F.conv3d(x, w, b, padding=(0, 1, 1))
    for d in range(y.shape[2]):
        expected = sum(F.conv2d(x[:, :, d + i], w[:, :, i], padding=1) for i in range(2)) + b.reshape(1, -1, 1, 1)
        assert_close(y[:, :, d], expected, rtol=1e-12, atol=1e-12)


def test_conv3d_empty_batch_and_unbatched_shapes():
    w = rnd(4, 2, 2, 2, 2, seed=1, grad=True)
    x = ember.zeros(0, 2, 3, 3, 3, dtype=ember.float64, requires_grad=True)
    y = F.conv3d(x, w)
    assert y.shape == (0, 4, 2, 2, 2)
    y.sum().backward()
    assert x.grad.shape == x.shape and float(w.grad.abs().sum()) == 0.0
    assert F.conv3d(rnd(2, 3, 3, 3), w).shape == (4, 2, 2, 2)
    assert F.conv_transpose3d(rnd(4, 2, 2, 2), w, stride=2).shape == (2, 4, 4, 4)


# ---- modules -----------------------------------------------------------------------------------
MODULES = {  # the reference script's layers, by the constructor text it records them under
    "Conv3d(4, 6, (2, 3, 1), groups=2, padding=1, padding_mode='circular')":
        lambda: nn.Conv3d(4, 6, (2, 3, 1), groups=2, padding=1, padding_mode="circular"),
    "Conv3d(2, 3, 3, bias=False)": lambda: nn.Conv3d(2, 3, 3, bias=False),
    "ConvTranspose3d(4, 6, 3, groups=2, stride=2)": lambda: nn.ConvTranspose3d(4, 6, 3, groups=2, stride=2),
    "BatchNorm3d(5)": lambda: nn.BatchNorm3d(5),
}


@pytest.mark.parametrize("name", sorted(META["modules"]))
def test_modules_state_dict_and_repr_match_pytorch(name):
    m = MODULES[name]()
    assert {k: list(v.shape) for k, v in m.state_dict().items()} == META["modules"][name]
    assert list(m.state_dict()) == list(META["modules"][name])
    if name.startswith("Conv"):
        assert repr(m) == META["module_reprs"][name]


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_conv3d_module_padding_modes(mode):
    m = nn.Conv3d(2, 3, (3, 2, 3), padding=(1, 1, 2), padding_mode=mode, dtype=ember.float64)
    x = rnd(2, 2, 4, 3, 5, seed=4)
    pads = (2, 2, 1, 1, 1, 1)
    expected = F.conv3d(x if mode == "zeros" else F.pad(x, pads, mode=mode), m.weight, m.bias,
                        padding=(1, 1, 2) if mode == "zeros" else 0)
    assert_close(m(x), expected, rtol=1e-12, atol=1e-12)
    same = nn.Conv3d(2, 3, (2, 3, 3), padding="same", padding_mode=mode, dtype=ember.float64)
    assert same(x).shape == (2, 3, 4, 3, 5)


def test_conv3d_module_init_and_conv_transpose3d_output_size():
    ember.manual_seed(0)
    m = nn.Conv3d(4, 6, (2, 3, 1), groups=2)
    fan_in = 2 * 2 * 3 * 1
    assert float(m.weight.abs().max()) <= 1 / np.sqrt(fan_in) + 1e-7
    assert float(m.bias.abs().max()) <= 1 / np.sqrt(fan_in) + 1e-7
    up = nn.ConvTranspose3d(4, 2, 3, stride=2, padding=1)
    x = rnd(1, 4, 3, 4, 5).float()
    assert up(x).shape == (1, 2, 5, 7, 9)
    assert up(x, output_size=(6, 8, 10)).shape == (1, 2, 6, 8, 10)
    with pytest.raises(ValueError):
        up(x, output_size=(7, 8, 10))
    with pytest.raises(ValueError):
        nn.ConvTranspose3d(4, 2, 3, padding_mode="reflect")
    with pytest.raises(ValueError):
        nn.Conv3d(3, 2, 3, groups=2)
    with pytest.raises(ValueError):
        nn.Conv3d(2, 2, 3, stride=2, padding="same")


def test_batch_norm3d_matches_pytorch():
    case = META["batch_norm3d"][0]
    k = case["keys"]
    bn = nn.BatchNorm3d(4, momentum=case["kwargs"]["momentum"], dtype=ember.float64)
    with ember.no_grad():
        bn.weight.copy_(ember.tensor(ref(k["weight"]), dtype=ember.float64))
        bn.bias.copy_(ember.tensor(ref(k["bias"]), dtype=ember.float64))
    x = ember.tensor(ref(k["x"]), dtype=ember.float64, requires_grad=True)
    y = bn(x)
    assert_close(y, ref(k["y"]), rtol=1e-10, atol=1e-10)
    y.backward(ember.tensor(ref(k["g"]), dtype=ember.float64))
    for got, name in [(x.grad, "gx"), (bn.weight.grad, "gw"), (bn.bias.grad, "gb"), (bn.running_mean, "running_mean"),
                      (bn.running_var, "running_var")]:
        assert_close(got, ref(k[name]), rtol=1e-10, atol=1e-10, msg=name)
    bn.eval()
    assert_close(bn(ember.tensor(ref(k["x"]), dtype=ember.float64)), ref(k["y_eval"]), rtol=1e-10, atol=1e-10)


# ---- pooling against PyTorch -------------------------------------------------------------------
POOLS = {
    "max_pool3d": lambda x, **kw: F.max_pool3d(x, return_indices=True, **kw),
    "avg_pool3d": F.avg_pool3d,
    "adaptive_avg_pool3d": F.adaptive_avg_pool3d,
    "adaptive_max_pool3d": lambda x, **kw: F.adaptive_max_pool3d(x, return_indices=True, **kw),
    "lp_pool3d": F.lp_pool3d,
}
POOL_CASES = [pytest.param(group, c, id=f"{group}{i}") for group in POOLS for i, c in enumerate(META[group])]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("group,case", POOL_CASES)
def test_pools_match_pytorch(group, case, dtype):
    (x,) = inputs(case, dtype, ("x",))
    res = POOLS[group](x, **case["kwargs"])
    y, idx = res if isinstance(res, tuple) else (res, None)
    assert y.dtype is dtype
    assert_close(y, ref(case["keys"]["y"]), **tols(dtype))
    if idx is not None:
        assert idx.dtype is ember.int64
        assert np.array_equal(idx.numpy(), ref(case["keys"]["idx"]))
    check_grads(y, (x,), case, dtype, ("gx",))


@pytest.mark.parametrize("fn,kw", [
    (F.max_pool3d, dict(kernel_size=2, stride=1, padding=1)),
    (F.max_pool3d, dict(kernel_size=(2, 1, 2), stride=(1, 2, 1), dilation=(1, 1, 2), ceil_mode=True)),
    (F.avg_pool3d, dict(kernel_size=2, stride=1, padding=1, count_include_pad=False)),
    (F.avg_pool3d, dict(kernel_size=(3, 2, 2), stride=2, padding=1, ceil_mode=True, divisor_override=3)),
    (F.adaptive_avg_pool3d, dict(output_size=(2, 3, 2))),
    (F.adaptive_max_pool3d, dict(output_size=(2, 1, 3))),
    (F.lp_pool3d, dict(norm_type=3.0, kernel_size=2, stride=1)),
])
def test_pool3d_gradcheck_and_gradgradcheck(fn, kw):
    x = rnd(1, 2, 3, 3, 4, seed=5)
    x = (x.abs() + 0.5 if fn is F.lp_pool3d else x).requires_grad_()  # a real root of the power sums
    assert gradcheck(lambda x: fn(x, **kw), (x,))
    if fn is not F.lp_pool3d:
        assert gradgradcheck(lambda x: fn(x, **kw), (x,))


def test_max_pool3d_indices_round_trip_through_max_unpool3d():
    x = rnd(2, 3, 4, 6, 4, seed=6)
    y, idx = F.max_pool3d(x, 2, return_indices=True)
    restored = F.max_unpool3d(y, idx, 2)
    assert restored.shape == x.shape
    kept = restored.numpy() != 0
    assert np.array_equal(restored.numpy()[kept], x.numpy()[kept]) and kept.sum() == y.numel()
    assert_close(F.max_pool3d(restored, 2), y, rtol=0, atol=0)
    assert nn.MaxUnpool3d(2)(y, idx).shape == x.shape


def test_pool3d_modules_integers_and_empty_batch():
    x = rnd(2, 3, 4, 6, 6, seed=7)
    assert_close(nn.MaxPool3d(2)(x), F.max_pool3d(x, 2), rtol=0, atol=0)
    y, idx = nn.MaxPool3d(3, stride=2, padding=1, return_indices=True)(x)
    assert y.shape == idx.shape == (2, 3, 2, 3, 3)
    assert_close(nn.AvgPool3d((2, 3, 3), stride=1, padding=(1, 0, 1))(x),
                 F.avg_pool3d(x, (2, 3, 3), 1, (1, 0, 1)), rtol=0, atol=0)
    assert nn.AdaptiveAvgPool3d((1, 2, None))(x).shape == (2, 3, 1, 2, 6)
    assert nn.AdaptiveMaxPool3d(2, return_indices=True)(x)[1].shape == (2, 3, 2, 2, 2)
    assert nn.LPPool3d(2, 2)(x).shape == (2, 3, 2, 3, 3)
    # Integer input: max keeps the dtype; average divides with truncation, as PyTorch.
    xi = ember.tensor(np.arange(2 * 4 * 4 * 4).reshape(1, 2, 4, 4, 4) - 40)
    assert F.max_pool3d(xi, 2).dtype is ember.int64
    expected = np.trunc(F.avg_pool3d(xi.double(), 2).numpy()).astype(np.int64)
    assert np.array_equal(F.avg_pool3d(xi, 2).numpy(), expected)
    with pytest.raises(NotImplementedError):
        F.adaptive_avg_pool3d(xi, 2)
    assert F.max_pool3d(ember.zeros(0, 2, 4, 4, 4), 2).shape == (0, 2, 2, 2, 2)
    assert F.avg_pool3d(ember.zeros(0, 2, 4, 4, 4), 2).shape == (0, 2, 2, 2, 2)


def test_interpolate_area_and_trilinear_on_5d():
    x = rnd(1, 2, 5, 6, 7, seed=8)
    assert_close(F.interpolate(x, size=(2, 3, 3), mode="area"), F.adaptive_avg_pool3d(x, (2, 3, 3)),
                 rtol=1e-12, atol=1e-12)
    y = F.interpolate(x, scale_factor=2, mode="trilinear", align_corners=True)
    assert y.shape == (1, 2, 10, 12, 14)
    corners = (slice(None), slice(None), [0, -1])  # align_corners maps the corner voxels onto each other
    assert_close(y[corners][:, :, :, [0, -1]][..., [0, -1]], x[corners][:, :, :, [0, -1]][..., [0, -1]],
                 rtol=1e-12, atol=1e-12)


# ---- errors (PyTorch's exception types) --------------------------------------------------------
def test_3d_errors_have_pytorch_types():
    x, w = rnd(2, 4, 5, 6, 7), rnd(3, 4, 2, 2, 2)
    for call in [lambda: F.conv3d(x[0, 0], w),  # 3-D input
                 lambda: F.conv3d(x, rnd(3, 3, 2, 2, 2)),  # channel mismatch
                 lambda: F.conv3d(x, rnd(3, 4, 6, 2, 2)),  # kernel larger than the input
                 lambda: F.conv3d(x, w, stride=(1, 2)),  # wrong length
                 lambda: F.conv3d(x, w, stride=2, padding="same"),
                 lambda: F.conv3d(x, rnd(3, 2, 2, 2, 2), groups=2),
                 lambda: F.conv3d(x, w, rnd(4)),
                 lambda: F.conv3d(x, w.float()),
                 lambda: F.conv_transpose3d(x, rnd(4, 3, 2, 2, 2), stride=2, output_padding=2),
                 lambda: F.conv_transpose3d(x, rnd(3, 3, 2, 2, 2)),
                 lambda: F.max_pool3d(x[0, 0], 2),
                 lambda: F.max_pool3d(x, (2, 2)),
                 lambda: F.max_pool3d(x, 2, padding=2),
                 lambda: F.max_pool3d(x, 6),
                 lambda: F.max_pool3d(x, 2, stride=0),
                 lambda: F.avg_pool3d(x, 6),
                 lambda: F.avg_pool3d(x, 2, divisor_override=0),
                 lambda: F.adaptive_avg_pool3d(x[0, 0], 2),
                 lambda: F.adaptive_max_pool3d(x[0, 0], 2),
                 lambda: F.adaptive_avg_pool3d(x, (2, 2)),  # wrong number of output sizes
                 lambda: F.adaptive_max_pool3d(x, (2, 2, 2, 2)),
                 lambda: F.adaptive_avg_pool3d(x, (2, -1, 2)),
                 lambda: F.pad(x[:, :, :1], (0, 0, 0, 0, 1, 1), mode="reflect")]:  # reflect a depth of 1
        with pytest.raises(RuntimeError):
            call()
    with pytest.raises(RuntimeError, match="output padding must be smaller than either stride or dilation, but got "
                                           "output_padding_depth: 0 output_padding_height: 1"):
        F.conv_transpose3d(x, rnd(4, 3, 2, 2, 2), stride=(2, 1, 1), output_padding=(0, 1, 0))
    with pytest.raises(NotImplementedError):
        F.interpolate(ember.zeros(1, 1, 2, 3, 4, dtype=ember.uint8), scale_factor=2, mode="trilinear")
    with pytest.raises(NotImplementedError):
        F.interpolate(ember.zeros(1, 1, 3, dtype=ember.uint8), scale_factor=2, mode="linear")
    with pytest.raises(NotImplementedError):
        F.interpolate(ember.zeros(1, 1, 3, 4, dtype=ember.int32), scale_factor=2, mode="bilinear")


# ---- F.pad: circular / reflect / replicate against PyTorch -------------------------------------
@pytest.mark.parametrize("case", cases("pad"))
def test_pad_modes_match_pytorch(case):
    keys = case["keys"]
    x = ember.tensor(ref(keys["x"]).astype(np.float64), requires_grad=True)
    if "error" in case:
        assert case["error"] == "RuntimeError"
        with pytest.raises(RuntimeError) as info:
            F.pad(x, case["pad"], mode=case["mode"])
        # PyTorch's own wording where it has one; where PyTorch fails inside a copy of overlapping
        # memory (circular wrap larger than the cropped input), Ember says why.
        if "memory location" in case["message"]:
            assert "wrapping around more than once" in str(info.value)
        else:
            assert str(info.value) == case["message"]
        return
    y = F.pad(x, case["pad"], mode=case["mode"])
    assert y.dtype is ember.float64
    assert np.array_equal(y.detach().numpy(), ref(keys["y"]))
    y.backward(ember.tensor(ref(keys["g"]).astype(np.float64)))
    assert np.array_equal(x.grad.numpy(), ref(keys["gx"]))


@pytest.mark.parametrize("mode", ["circular", "reflect", "replicate"])
@pytest.mark.parametrize("shape,amounts", [((1, 2, 5), (2, -1)), ((2, 3, 4), (1, 2, -1, 1)),
                                           ((1, 1, 3, 3, 4), (1, 0, -1, 2, 1, 1))])
def test_pad_modes_gradcheck_and_gradgradcheck(mode, shape, amounts):
    x = rnd(*shape, seed=9, grad=True)
    assert gradcheck(lambda x: F.pad(x, amounts, mode=mode), (x,))
    assert gradgradcheck(lambda x: F.pad(x, amounts, mode=mode), (x,))


def test_pad3d_modules():
    x = rnd(1, 2, 3, 4, 5, seed=10)
    assert_close(nn.CircularPad3d((1, 2, 0, 1, 2, 0))(x), F.pad(x, (1, 2, 0, 1, 2, 0), mode="circular"), rtol=0, atol=0)
    assert_close(nn.ReflectionPad3d(1)(x), F.pad(x, (1,) * 6, mode="reflect"), rtol=0, atol=0)
    assert_close(nn.ReplicationPad3d(2)(x), F.pad(x, (2,) * 6, mode="replicate"), rtol=0, atol=0)
    assert_close(nn.ConstantPad3d(1, 2.5)(x), F.pad(x, (1,) * 6, value=2.5), rtol=0, atol=0)
    assert nn.ZeroPad3d((1, 0, 0, 0, 0, 2))(x).shape == (1, 2, 5, 4, 6)


# ---- F.interpolate on uint8 against PyTorch ----------------------------------------------------
@pytest.mark.parametrize("case", cases("interp_u8"))
def test_interpolate_uint8_matches_pytorch_exactly(case):
    image = ember.tensor(ref(case["keys"]["image"]))
    y = F.interpolate(image, size=case["size"], scale_factor=case["scale_factor"], mode=case["mode"],
                      align_corners=case["align_corners"])
    assert y.dtype is ember.uint8
    expected = ref(case["keys"]["y"])
    assert y.shape == expected.shape
    assert np.array_equal(y.numpy(), expected), f"{int((y.numpy() != expected).sum())} values differ"


def test_interpolate_uint8_from_a_view_and_module():
    image = ember.tensor(ref(META["interp_u8"][0]["keys"]["image"]))
    permuted = image.permute(0, 1, 3, 2).contiguous().permute(0, 1, 3, 2)  # a non-contiguous uint8 view
    for mode in ("bilinear", "bicubic"):
        assert np.array_equal(F.interpolate(permuted, scale_factor=1.5, mode=mode).numpy(),
                              F.interpolate(image, scale_factor=1.5, mode=mode).numpy())
    up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
    assert up(image).dtype is ember.uint8
    assert F.interpolate(image, size=image.shape[2:], mode="bilinear") is not image
