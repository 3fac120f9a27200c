"""ember_vision.transforms: every transform against a plain reference (Pillow for the PIL path, NumPy
formulas for the tensor path), PIL/tensor consistency where torchvision guarantees it, batching,
reproducibility under ember.manual_seed, and torchvision's argument errors."""
import colorsys
import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ember

PIL = pytest.importorskip("PIL")
from PIL import Image  # noqa: E402

import ember_vision.transforms as T  # noqa: E402
import ember_vision.transforms.functional as F  # noqa: E402
from ember_vision.transforms import InterpolationMode as IM  # noqa: E402


# ---------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------

def _image(h=23, w=31, c=3, seed=0):
    """A smooth image with noise, uint8 (C, H, W)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([np.sin(xx / 5.0) * 100 + 120, np.cos(yy / 4.0) * 90 + 120, (3 * xx + 2 * yy) % 255], 0)[:c]
    return (base + rng.normal(0, 12, base.shape)).clip(0, 255).astype(np.uint8)


def _pil(arr):
    return Image.fromarray(arr[0] if arr.shape[0] == 1 else arr.transpose(1, 2, 0))


def _np(img):
    """(C, H, W) array of a PIL image or a tensor."""
    if isinstance(img, ember.Tensor):
        return img.numpy()
    a = np.asarray(img)
    return a[None] if a.ndim == 2 else a.transpose(2, 0, 1)


U8 = _image()
F32 = (U8 / 255.0).astype(np.float32)
BATCH_U8 = np.stack([_image(seed=1), _image(seed=2)])
BATCH_F32 = (BATCH_U8 / 255.0).astype(np.float32)


def tensor(a):
    return ember.from_numpy(np.ascontiguousarray(a))


# ---------------------------------------------------------------------------------------
# NumPy references (written from the definitions, independent of the implementation)
# ---------------------------------------------------------------------------------------

def ref_resize_bilinear(a, oh, ow):
    """PyTorch's bilinear, align_corners=False: source = (dst + 0.5) * in / out - 0.5, clamped at 0."""
    a = a.astype(np.float64)
    h, w = a.shape[-2:]

    def axis(n_in, n_out):
        src = np.maximum((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0)
        i0 = np.floor(src).astype(int)
        i1 = np.minimum(i0 + 1, n_in - 1)
        return i0, i1, src - i0

    y0, y1, ly = axis(h, oh)
    x0, x1, lx = axis(w, ow)
    ly, lx = ly[:, None], lx[None, :]
    top = a[..., y0[:, None], x0[None, :]] * (1 - lx) + a[..., y0[:, None], x1[None, :]] * lx
    bot = a[..., y1[:, None], x0[None, :]] * (1 - lx) + a[..., y1[:, None], x1[None, :]] * lx
    return top * (1 - ly) + bot * ly


def ref_resize_bicubic(a, oh, ow, A=-0.75):
    """PyTorch's bicubic (Keys, A=-0.75, half-pixel centres, border-clamped taps)."""
    a = a.astype(np.float64)

    def kernel(x):
        x = abs(x)
        if x <= 1:
            return ((A + 2) * x - (A + 3)) * x * x + 1
        if x < 2:
            return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A
        return 0.0

    def weights(n_in, n_out):
        m = np.zeros((n_out, n_in))
        for o in range(n_out):
            src = (o + 0.5) * n_in / n_out - 0.5
            i = math.floor(src)
            for k in range(-1, 3):
                m[o, min(max(i + k, 0), n_in - 1)] += kernel(src - (i + k))
        return m

    h, w = a.shape[-2:]
    return np.einsum("oh,...hw,pw->...op", weights(h, oh), a, weights(w, ow))


def ref_nearest(a, oh, ow):
    """PyTorch's "nearest": source index floor(dst * in / out)."""
    h, w = a.shape[-2:]
    yi = np.minimum(np.floor(np.arange(oh) * np.float32(h / oh)).astype(int), h - 1)
    xi = np.minimum(np.floor(np.arange(ow) * np.float32(w / ow)).astype(int), w - 1)
    return a[..., yi[:, None], xi[None, :]]


def ref_gray(a):
    return 0.2989 * a[..., 0, :, :] + 0.587 * a[..., 1, :, :] + 0.114 * a[..., 2, :, :]


def ref_blur(a, ksize, sigma):
    """Direct 2D correlation with the outer product of two normalised Gaussians, reflect padding."""
    def g(k, s):
        x = np.arange(k) - (k - 1) / 2
        p = np.exp(-0.5 * (x / s) ** 2)
        return p / p.sum()

    k2 = np.outer(g(ksize[1], sigma[1]), g(ksize[0], sigma[0]))
    py, px = ksize[1] // 2, ksize[0] // 2
    pad = [(0, 0)] * (a.ndim - 2) + [(py, py), (px, px)]
    p = np.pad(a.astype(np.float64), pad, mode="reflect")
    h, w = a.shape[-2:]
    out = np.zeros(a.shape, dtype=np.float64)
    for dy in range(ksize[1]):
        for dx in range(ksize[0]):
            out += k2[dy, dx] * p[..., dy:dy + h, dx:dx + w]
    return out


def assert_uint8_close(actual, expected, atol=1):
    diff = np.abs(np.asarray(actual).astype(np.int64) - np.round(np.asarray(expected)).astype(np.int64))
    assert diff.max() <= atol, diff.max()


# ---------------------------------------------------------------------------------------
# Conversions
# ---------------------------------------------------------------------------------------

class TestConversions:
    def test_to_tensor_pil_and_ndarray(self):
        t = F.to_tensor(_pil(U8))
        assert t.dtype is ember.float32 and t.shape == (3, 23, 31)
        np.testing.assert_allclose(t.numpy(), U8 / 255.0, rtol=1e-6)
        hwc = U8.transpose(1, 2, 0)
        np.testing.assert_allclose(T.ToTensor()(hwc).numpy(), U8 / 255.0, rtol=1e-6)
        # non-uint8 arrays keep their dtype
        d = np.random.default_rng(0).random((4, 5)).astype(np.float64)
        out = F.to_tensor(d)
        assert out.dtype is ember.float64 and np.array_equal(out.numpy()[0], d)
        # mode "1" becomes 0/1 floats, "F" stays float32
        assert np.array_equal(F.to_tensor(Image.fromarray(U8[0] > 128)).numpy()[0], (U8[0] > 128).astype(np.float32))
        f_img = Image.fromarray(F32[0], mode="F")
        assert F.to_tensor(f_img).dtype is ember.float32

    def test_to_tensor_follows_default_dtype(self):
        ember.set_default_dtype(ember.float64)
        assert F.to_tensor(_pil(U8)).dtype is ember.float64

    def test_pil_to_tensor(self):
        t = T.PILToTensor()(_pil(U8))
        assert t.dtype is ember.uint8 and np.array_equal(t.numpy(), U8)
        rgba = np.concatenate([U8, U8[:1]], 0)
        assert np.array_equal(F.pil_to_tensor(_pil(rgba)).numpy(), rgba)
        gray = F.pil_to_tensor(_pil(U8[:1]))
        assert gray.shape == (1, 23, 31)

    def test_to_pil_image_modes_and_roundtrip(self):
        assert np.array_equal(np.asarray(F.to_pil_image(tensor(U8))), U8.transpose(1, 2, 0))
        assert F.to_pil_image(tensor(U8)).mode == "RGB"
        assert F.to_pil_image(tensor(U8[:1])).mode == "L"
        assert F.to_pil_image(tensor(U8[0])).mode == "L"  # 2-d input
        assert F.to_pil_image(tensor(np.concatenate([U8, U8[:1]]))).mode == "RGBA"
        assert F.to_pil_image(tensor(U8[:2])).mode == "LA"
        # floats are scaled by 255 and truncated, unless mode "F"
        img = T.ToPILImage()(tensor(F32))
        assert np.array_equal(np.asarray(img), (F32 * 255).astype(np.uint8).transpose(1, 2, 0))
        f_img = F.to_pil_image(tensor(F32[:1]), mode="F")
        assert f_img.mode == "F" and np.array_equal(np.asarray(f_img), F32[0])
        i32 = np.arange(12, dtype=np.int32).reshape(1, 3, 4) * 1000
        assert F.to_pil_image(tensor(i32)).mode == "I" and np.array_equal(np.asarray(F.to_pil_image(tensor(i32))), i32[0])
        assert F.to_pil_image(tensor(U8), mode="HSV").mode == "HSV"
        # ndarray input is (H, W, C)
        assert np.array_equal(np.asarray(F.to_pil_image(U8.transpose(1, 2, 0))), U8.transpose(1, 2, 0))

    def test_to_pil_image_errors(self):
        with pytest.raises(TypeError, match="pic should be Tensor or ndarray"):
            F.to_pil_image([1, 2, 3])
        with pytest.raises(ValueError, match="pic should be 2/3 dimensional"):
            F.to_pil_image(tensor(BATCH_U8))
        with pytest.raises(ValueError, match="should not have > 4 channels"):
            F.to_pil_image(ember.zeros(5, 4, 4, dtype=ember.uint8))
        with pytest.raises(ValueError, match="Only modes"):
            F.to_pil_image(tensor(U8), mode="RGBA")
        with pytest.raises(ValueError, match="Incorrect mode"):
            F.to_pil_image(tensor(U8[:1]), mode="F")
        with pytest.raises(TypeError, match="pic should be PIL Image or ndarray"):
            F.to_tensor(tensor(U8))
        with pytest.raises(ValueError, match="2/3 dimensional"):
            F.to_tensor(BATCH_U8)
        with pytest.raises(TypeError, match="pic should be PIL Image"):
            F.pil_to_tensor(U8)

    def test_convert_image_dtype(self):
        u = tensor(U8)
        f = F.convert_image_dtype(u, ember.float32)
        np.testing.assert_allclose(f.numpy(), U8 / 255.0, rtol=1e-6)
        # float -> uint8: * (255 + 1 - 1e-3), truncated; 1.0 is the only value mapped to 255
        back = T.ConvertImageDtype(ember.uint8)(f)
        assert np.array_equal(back.numpy(), (f.numpy() * 255.999).astype(np.uint8))
        assert np.array_equal(back.numpy(), U8)
        # int -> int rescales by powers of two
        i16 = F.convert_image_dtype(u, ember.int16)
        assert np.array_equal(i16.numpy(), U8.astype(np.int16) * 128)
        assert np.array_equal(F.convert_image_dtype(i16, ember.uint8).numpy(), U8)
        assert F.convert_image_dtype(u, ember.uint8) is u
        with pytest.raises(RuntimeError, match="cannot be performed safely"):
            F.convert_image_dtype(f, ember.int32)
        with pytest.raises(TypeError, match="Tensor Image"):
            F.convert_image_dtype(U8, ember.float32)

    def test_to_dtype(self):
        u = tensor(U8)
        assert np.array_equal(T.ToDtype(ember.float32)(u).numpy(), U8.astype(np.float32))
        np.testing.assert_allclose(T.ToDtype(ember.float32, scale=True)(u).numpy(), U8 / 255.0, rtol=1e-6)
        pil = _pil(U8)
        assert T.ToDtype(ember.float32, scale=True)(pil) is pil


# ---------------------------------------------------------------------------------------
# Normalize, erase
# ---------------------------------------------------------------------------------------

class TestNormalize:
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]

    @pytest.mark.parametrize("arr", [F32, BATCH_F32, F32.astype(np.float64)])
    def test_formula(self, arr):
        out = T.Normalize(self.mean, self.std)(tensor(arr))
        m, s = np.array(self.mean)[:, None, None], np.array(self.std)[:, None, None]
        np.testing.assert_allclose(out.numpy(), (arr - m) / s, rtol=1e-5, atol=1e-6)
        assert out.dtype is ember.from_numpy(arr).dtype

    def test_inplace(self):
        t = tensor(F32.copy())
        out = F.normalize(t, self.mean, self.std, inplace=True)
        assert out is t and not np.array_equal(t.numpy(), F32)
        t2 = tensor(F32.copy())
        F.normalize(t2, self.mean, self.std)
        assert np.array_equal(t2.numpy(), F32)

    def test_errors(self):
        with pytest.raises(TypeError, match="should be a float tensor"):
            F.normalize(tensor(U8), self.mean, self.std)
        with pytest.raises(ValueError, match="Expected tensor to be a tensor image"):
            F.normalize(tensor(F32[0]), [0.5], [0.5])
        with pytest.raises(ValueError, match="std evaluated to zero"):
            F.normalize(tensor(F32), self.mean, [0.2, 0.0, 0.1])
        with pytest.raises(TypeError, match="img should be Tensor Image"):
            F.normalize(_pil(U8), self.mean, self.std)


def test_erase():
    t = tensor(U8)
    out = F.erase(t, 2, 3, 5, 7, ember.tensor([[[0.0]], [[100.0]], [[255.0]]]))
    exp = U8.copy()
    exp[:, 2:7, 3:10] = np.array([0, 100, 255])[:, None, None]
    assert np.array_equal(out.numpy(), exp) and np.array_equal(t.numpy(), U8)
    F.erase(t, 0, 0, 2, 2, 0, inplace=True)
    assert (t.numpy()[:, :2, :2] == 0).all()
    with pytest.raises(TypeError, match="img should be Tensor Image"):
        F.erase(_pil(U8), 0, 0, 1, 1, 0)


# ---------------------------------------------------------------------------------------
# Resize
# ---------------------------------------------------------------------------------------

SIZES = [(11, 17), (40, 45), (23, 12)]


class TestResize:
    @pytest.mark.parametrize("size", SIZES)
    def test_bilinear_without_antialias_vs_numpy(self, size):
        for arr in (F32, BATCH_F32):
            out = F.resize(tensor(arr), list(size), antialias=False)
            np.testing.assert_allclose(out.numpy(), ref_resize_bilinear(arr, *size), atol=2e-6)
        out = F.resize(tensor(U8), list(size), antialias=False)
        assert out.dtype is ember.uint8
        assert_uint8_close(out.numpy(), ref_resize_bilinear(U8, *size), atol=1)

    @pytest.mark.parametrize("size", SIZES)
    def test_bicubic_without_antialias_vs_numpy(self, size):
        out = F.resize(tensor(F32), list(size), IM.BICUBIC, antialias=False)
        np.testing.assert_allclose(out.numpy(), ref_resize_bicubic(F32, *size), atol=3e-6)
        out = F.resize(tensor(BATCH_U8), list(size), IM.BICUBIC, antialias=False)
        assert_uint8_close(out.numpy(), ref_resize_bicubic(BATCH_U8, *size).clip(0, 255), atol=1)

    @pytest.mark.parametrize("size", SIZES)
    def test_nearest_vs_numpy_exact(self, size):
        for arr in (U8, BATCH_F32):
            assert np.array_equal(F.resize(tensor(arr), list(size), IM.NEAREST).numpy(), ref_nearest(arr, *size))

    @pytest.mark.parametrize("size", SIZES)
    def test_nearest_exact_equals_pil_nearest(self, size):
        # PIL's NEAREST samples pixel centres: that is "nearest-exact" for tensors
        out = F.resize(tensor(U8), list(size), IM.NEAREST_EXACT)
        assert np.array_equal(out.numpy(), _np(F.resize(_pil(U8), list(size), IM.NEAREST)))

    @pytest.mark.parametrize("mode", [IM.BILINEAR, IM.BICUBIC])
    @pytest.mark.parametrize("size", SIZES)
    def test_antialias_matches_pil(self, mode, size):
        # float: Pillow's "F" mode resamples in float with the same antialiasing filters
        for c in range(3):
            ref = np.asarray(Image.fromarray(F32[c], mode="F").resize(size[::-1], Image.Resampling(
                {IM.BILINEAR: 2, IM.BICUBIC: 3}[mode])))
            out = F.resize(tensor(F32[c:c + 1]), list(size), mode).numpy()[0]
            np.testing.assert_allclose(out, ref, atol=1e-5)
        # uint8: Pillow works in fixed point and rounds (and clips bicubic overshoot) between the two
        # passes; tensors stay float in between, as torchvision's do
        out = F.resize(tensor(U8), list(size), mode)
        pil_out = _np(F.resize(_pil(U8), list(size), mode))
        diff = np.abs(out.numpy().astype(int) - pil_out)
        assert (diff > 1).mean() < 0.02
        if mode == IM.BILINEAR:
            assert diff.max() <= 1

    @settings(max_examples=25, deadline=None)
    @given(h=st.integers(1, 9), w=st.integers(1, 9), oh=st.integers(1, 12), ow=st.integers(1, 12),
           lead=st.sampled_from([(), (2,), (2, 1)]))
    def test_shapes_vs_numpy(self, h, w, oh, ow, lead):
        arr = np.random.default_rng(h * 100 + w).random(lead + (2, h, w)).astype(np.float32)
        out = F.resize(tensor(arr), [oh, ow], antialias=False).numpy()
        assert out.shape == lead + (2, oh, ow)
        np.testing.assert_allclose(out, ref_resize_bilinear(arr, oh, ow), atol=2e-6)
        assert np.array_equal(F.resize(tensor(arr), [oh, ow], IM.NEAREST).numpy(), ref_nearest(arr, oh, ow))

    def test_int_size_keeps_aspect_and_max_size(self):
        t = tensor(U8)  # 23 x 31
        assert F.resize(t, 10).shape == (3, 10, 13)
        assert T.Resize([10])(t).shape == (3, 10, 13)
        # the longer edge would be 13 > max_size: it becomes 12, the shorter int(12 * 10 / 13) = 9
        assert F.resize(t, 10, max_size=12).shape == (3, 9, 12)
        assert F.resize(_pil(U8), 10, max_size=12).size == (12, 9)
        assert F.resize(t, [23, 31]) is t  # same size: returned unchanged
        assert F.resize(tensor(BATCH_U8), (5, 6)).shape == (2, 3, 5, 6)

    def test_batched_equals_unbatched(self):
        out = F.resize(tensor(BATCH_F32), [13, 40], IM.BICUBIC)
        for i in range(2):
            np.testing.assert_allclose(out.numpy()[i], F.resize(tensor(BATCH_F32[i]), [13, 40], IM.BICUBIC).numpy(),
                                       atol=1e-6)

    def test_errors(self):
        with pytest.raises(ValueError, match="max_size should only be passed"):
            F.resize(tensor(U8), [10, 12], max_size=20)
        with pytest.raises(ValueError, match="must be strictly greater"):
            F.resize(tensor(U8), 10, max_size=10)
        with pytest.raises(ValueError, match="Size must be an int or a 1 or 2 element"):
            F.resize(tensor(U8), [1, 2, 3])
        with pytest.raises(TypeError, match="Size should be int or sequence"):
            T.Resize(2.5)
        with pytest.raises(ValueError, match="it should have 1 or 2 values"):
            T.Resize([1, 2, 3])
        with pytest.raises(TypeError, match="Argument interpolation should be a InterpolationMode"):
            F.resize(tensor(U8), 10, interpolation="bilinear")
        with pytest.raises(ValueError, match="unsupported with Tensor input"):
            F.resize(tensor(U8), 10, interpolation=IM.LANCZOS)

    def test_pil_integer_interpolation_and_antialias_warning(self):
        img = F.resize(_pil(U8), [10, 12], interpolation=Image.Resampling.BICUBIC)
        assert img.size == (12, 10)
        with pytest.warns(UserWarning, match="Anti-alias option is always applied"):
            F.resize(_pil(U8), [10, 12], antialias=False)


# ---------------------------------------------------------------------------------------
# Crops, flips, padding
# ---------------------------------------------------------------------------------------

class TestCropFlipPad:
    def test_crop_and_center_crop_vs_slicing_and_pil(self):
        for arr in (U8, BATCH_F32):
            assert np.array_equal(F.crop(tensor(arr), 3, 4, 10, 12).numpy(), arr[..., 3:13, 4:16])
            assert np.array_equal(T.CenterCrop(8)(tensor(arr)).numpy(), arr[..., 8:16, 12:20])
            assert np.array_equal(F.center_crop(tensor(arr), [7, 10]).numpy(), arr[..., 8:15, 10:20])
        for args in [(3, 4, 10, 12), (-3, 25, 10, 12), (20, -5, 9, 40)]:
            assert np.array_equal(F.crop(tensor(U8), *args).numpy(), _np(F.crop(_pil(U8), *args)))
        for size in [8, [7, 10], [30, 35], [25, 20]]:
            assert np.array_equal(F.center_crop(tensor(U8), size).numpy(), _np(F.center_crop(_pil(U8), size)))
        # larger than the image: zero padded around the centre
        out = F.center_crop(tensor(U8), [27, 31]).numpy()
        assert np.array_equal(out[:, 2:25], U8) and (out[:, :2] == 0).all() and (out[:, 25:] == 0).all()

    def test_flips_vs_numpy_and_pil(self):
        for arr in (U8, BATCH_F32):
            assert np.array_equal(F.hflip(tensor(arr)).numpy(), arr[..., ::-1])
            assert np.array_equal(F.vflip(tensor(arr)).numpy(), arr[..., ::-1, :])
        assert np.array_equal(F.hflip(tensor(U8)).numpy(), _np(F.hflip(_pil(U8))))
        assert np.array_equal(F.vflip(tensor(U8)).numpy(), _np(F.vflip(_pil(U8))))
        assert np.array_equal(T.RandomHorizontalFlip(p=1.0)(tensor(U8)).numpy(), U8[..., ::-1])
        assert np.array_equal(T.RandomVerticalFlip(p=0.0)(tensor(U8)).numpy(), U8)

    @pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
    def test_pad_vs_numpy_and_pil(self, mode):
        padding = [3, 2, 5, 1]  # left, top, right, bottom
        np_mode = {"constant": "constant", "edge": "edge", "reflect": "reflect", "symmetric": "symmetric"}[mode]
        kw = {"constant_values": 7} if mode == "constant" else {}
        exp = np.pad(U8, ((0, 0), (2, 1), (3, 5)), mode=np_mode, **kw)
        assert np.array_equal(F.pad(tensor(U8), padding, 7, mode).numpy(), exp)
        assert np.array_equal(_np(F.pad(_pil(U8), padding, 7, mode)), exp)
        exp_b = np.pad(BATCH_F32, ((0, 0), (0, 0), (4, 4), (4, 4)), mode=np_mode, **kw)
        assert np.array_equal(T.Pad(4, 7, mode)(tensor(BATCH_F32)).numpy(), exp_b)

    def test_pad_forms_and_negative(self):
        t = tensor(U8)
        assert F.pad(t, 2).shape == (3, 27, 35)
        assert F.pad(t, [2, 3]).shape == (3, 29, 35)
        assert np.array_equal(F.pad(t, [-2, 1, 0, 0]).numpy(), np.pad(U8[..., 2:], ((0, 0), (1, 0), (0, 0))))
        exp = np.empty((3, 29, 37), dtype=np.uint8)
        exp[:] = np.array([1, 2, 3], dtype=np.uint8)[:, None, None]
        exp[:, 3:-3, 3:-3] = U8
        assert np.array_equal(_np(F.pad(_pil(U8), (3,), fill=(1, 2, 3))), exp)

    def test_pad_errors(self):
        with pytest.raises(ValueError, match="Padding mode should be either"):
            T.Pad(2, padding_mode="wrap")
        with pytest.raises(ValueError, match="Padding must be an int or a 1, 2, or 4"):
            F.pad(tensor(U8), [1, 2, 3])
        with pytest.raises(TypeError, match="Got inappropriate padding arg"):
            T.Pad("2")
        with pytest.raises(TypeError, match="Got inappropriate fill arg"):
            F.pad(tensor(U8), 2, fill=(1, 2, 3))
        with pytest.raises(RuntimeError, match="Padding size should be less than"):
            F.pad(tensor(U8[:, :3, :3]), 3, padding_mode="reflect")

    def test_five_and_ten_crop(self):
        tl, tr, bl, br, c = F.five_crop(tensor(U8), [10, 12])
        assert np.array_equal(tl.numpy(), U8[:, :10, :12]) and np.array_equal(br.numpy(), U8[:, -10:, -12:])
        assert np.array_equal(tr.numpy(), U8[:, :10, -12:]) and np.array_equal(bl.numpy(), U8[:, -10:, :12])
        assert np.array_equal(c.numpy(), F.center_crop(tensor(U8), [10, 12]).numpy())
        ten = T.TenCrop(10)(tensor(U8))
        assert len(ten) == 10 and np.array_equal(ten[5].numpy(), U8[:, :10, ::-1][:, :, :10])
        pil_five = T.FiveCrop(10)(_pil(U8))
        assert all(np.array_equal(_np(p), t.numpy()) for p, t in zip(pil_five, T.FiveCrop(10)(tensor(U8))))
        with pytest.raises(ValueError, match="is bigger than input size"):
            F.five_crop(tensor(U8), 30)


# ---------------------------------------------------------------------------------------
# Rotation, affine, perspective
# ---------------------------------------------------------------------------------------

class TestGeometric:
    def test_rotate_90_is_rot90(self):
        sq = _image(17, 17)
        for k, angle in [(1, 90.0), (2, 180.0), (3, 270.0)]:
            for arr in (sq, sq / 255.0):
                out = F.rotate(tensor(arr), angle)
                assert np.array_equal(out.numpy(), np.rot90(arr, k, axes=(1, 2)))
            out = F.rotate(tensor(sq), angle, IM.BILINEAR)
            assert np.array_equal(out.numpy(), np.rot90(sq, k, axes=(1, 2)))

    def test_rotate_expand_and_pil_consistency(self):
        for angle in [30.0, -45.5, 120.0]:
            for expand in (False, True):
                out = F.rotate(tensor(U8), angle, expand=expand)
                pil_out = _np(F.rotate(_pil(U8), angle, expand=expand))
                assert out.shape[1:] == pil_out.shape[1:]
                # nearest: the same pixels up to ties at exact half coordinates
                assert (out.numpy() != pil_out).any(axis=0).mean() < 0.03

    def test_rotate_center_and_fill(self):
        # a quarter turn about the top-left pixel centre moves everything off the image: all fill
        out = F.rotate(tensor(F32), 90.0, center=[0, 0], fill=[0.25, 0.5, 0.75]).numpy()
        assert np.allclose(out[:, 1:, 1:], np.array([0.25, 0.5, 0.75])[:, None, None])
        out = T.RandomRotation((90, 90), fill=3)(tensor(U8)).numpy()
        pil_out = _np(T.RandomRotation((90, 90), fill=3)(_pil(U8)))
        assert np.array_equal(out, pil_out)

    def test_affine_translation_is_a_shift(self):
        out = F.affine(tensor(U8), angle=0.0, translate=[3, -2], scale=1.0, shear=[0.0, 0.0]).numpy()
        exp = np.zeros_like(U8)
        exp[:, :-2, 3:] = U8[:, 2:, :-3]
        assert np.array_equal(out, exp)
        assert np.array_equal(_np(F.affine(_pil(U8), 0.0, [3, -2], 1.0, [0.0, 0.0])), exp)

    def test_affine_matches_inverse_mapped_bilinear_reference(self):
        # reference: for every output pixel, the inverse affine map gives a source point, sampled bilinearly
        angle, translate, scale, shear = 17.0, [2, -1], 1.1, [8.0, -4.0]
        out = F.affine(tensor(F32), angle, translate, scale, shear, IM.BILINEAR).numpy()
        h, w = F32.shape[1:]
        m = F._get_inverse_affine_matrix([0.0, 0.0], angle, [2.0, -1.0], scale, shear)
        ys, xs = np.mgrid[0:h, 0:w]
        xc, yc = xs + 0.5 - w / 2, ys + 0.5 - h / 2
        sx = m[0] * xc + m[1] * yc + m[2] + w / 2 - 0.5
        sy = m[3] * xc + m[4] * yc + m[5] + h / 2 - 0.5
        ref = np.zeros_like(F32, dtype=np.float64)
        x0, y0 = np.floor(sx).astype(int), np.floor(sy).astype(int)
        for dy in (0, 1):
            for dx in (0, 1):
                xi, yi = x0 + dx, y0 + dy
                wgt = (1 - np.abs(sx - xi)) * (1 - np.abs(sy - yi))
                ok = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
                ref += np.where(ok, F32[:, yi.clip(0, h - 1), xi.clip(0, w - 1)] * wgt, 0)
        np.testing.assert_allclose(out, ref, atol=1e-5)

    def test_affine_pil_consistency_and_batch(self):
        args = (20.0, [3, 5], 0.9, [10.0, 5.0])
        out = F.affine(tensor(U8), *args)
        pil_out = _np(F.affine(_pil(U8), *args))
        assert (out.numpy() != pil_out).any(axis=0).mean() < 0.03
        batch = F.affine(tensor(BATCH_U8), *args, interpolation=IM.BILINEAR).numpy()
        for i in range(2):
            assert np.array_equal(batch[i], F.affine(tensor(BATCH_U8[i]), *args, interpolation=IM.BILINEAR).numpy())

    def test_perspective(self):
        h, w = U8.shape[1:]
        corners = [[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]]
        assert np.array_equal(F.perspective(tensor(U8), corners, corners).numpy(), U8)
        end = [[2, 1], [w - 3, 2], [w - 2, h - 3], [1, h - 2]]
        out = F.perspective(tensor(U8), corners, end, IM.NEAREST).numpy()
        pil_out = _np(F.perspective(_pil(U8), corners, end, IM.NEAREST))
        assert (out != pil_out).any(axis=0).mean() < 0.03

    def test_argument_errors(self):
        with pytest.raises(TypeError, match="Argument angle should be int or float"):
            F.rotate(tensor(U8), "90")
        with pytest.raises(ValueError, match="unsupported with Tensor input"):
            F.rotate(tensor(U8), 10.0, IM.BICUBIC)
        with pytest.raises(ValueError, match="Argument translate should be a sequence of length 2"):
            F.affine(tensor(U8), 0.0, [1], 1.0, 0.0)
        with pytest.raises(ValueError, match="Argument scale should be positive"):
            F.affine(tensor(U8), 0.0, [0, 0], 0.0, 0.0)
        with pytest.raises(ValueError, match="cannot broadcast to match the number of channels"):
            F.rotate(tensor(U8), 10.0, fill=[1, 2])
        with pytest.raises(ValueError, match="If degrees is a single number, it must be positive"):
            T.RandomRotation(-3)
        with pytest.raises(ValueError, match="degrees should be a sequence of length 2"):
            T.RandomAffine([1, 2, 3])
        with pytest.raises(ValueError, match="translation values should be between 0 and 1"):
            T.RandomAffine(0, translate=(0.5, 1.5))
        with pytest.raises(ValueError, match="scale values should be positive"):
            T.RandomAffine(0, scale=(0.0, 1.0))
        with pytest.raises(ValueError, match="shear should be a sequence of length 2 or 4"):
            T.RandomAffine(0, shear=[1, 2, 3])
        with pytest.raises(TypeError, match="Fill should be either a sequence or a number"):
            T.RandomRotation(10, fill={"r": 1})


# ---------------------------------------------------------------------------------------
# Colour
# ---------------------------------------------------------------------------------------

class TestColor:
    @pytest.mark.parametrize("factor", [0.0, 0.4, 1.6])
    def test_brightness_contrast_saturation_formulas(self, factor):
        for arr in (F32, BATCH_F32, U8):
            bound = 255 if arr.dtype == np.uint8 else 1
            a = arr.astype(np.float64)
            gray = ref_gray(a)[..., None, :, :]
            if arr.dtype == np.uint8:
                gray = np.trunc(gray)  # torchvision truncates the grey image to uint8 first
            mean = gray.mean(axis=(-3, -2, -1), keepdims=True)
            cases = [(F.adjust_brightness, factor * a), (F.adjust_contrast, factor * a + (1 - factor) * mean),
                     (F.adjust_saturation, factor * a + (1 - factor) * gray)]
            for fn, exp in cases:
                exp = exp.clip(0, bound)
                out = fn(tensor(arr), factor).numpy()
                if arr.dtype == np.uint8:  # truncated back to uint8, as torchvision
                    assert np.abs(out.astype(int) - np.trunc(exp + 1e-4).astype(int)).max() <= 1
                else:
                    np.testing.assert_allclose(out, exp, atol=2e-6)

    @pytest.mark.parametrize("factor", [0.3, 1.7])
    def test_color_adjustments_close_to_pil(self, factor):
        for fn in (F.adjust_brightness, F.adjust_contrast, F.adjust_saturation, F.adjust_sharpness):
            assert_uint8_close(fn(tensor(U8), factor).numpy(), _np(fn(_pil(U8), factor)), atol=1)

    @pytest.mark.parametrize("hue", [-0.5, -0.2, 0.0, 0.3])
    def test_hue_vs_colorsys(self, hue):
        arr = F32[:, :6, :7].astype(np.float64)
        exp = np.empty_like(arr)
        for y in range(arr.shape[1]):
            for x in range(arr.shape[2]):
                hh, s, v = colorsys.rgb_to_hsv(*arr[:, y, x])
                exp[:, y, x] = colorsys.hsv_to_rgb((hh + hue) % 1.0, s, v)
        out = F.adjust_hue(tensor(F32[:, :6, :7]), hue).numpy()
        np.testing.assert_allclose(out, exp, atol=1e-5)
        # uint8 goes through float and back; Pillow rotates hue in 8-bit HSV, so only close
        assert_uint8_close(F.adjust_hue(tensor(U8), hue).numpy(), _np(F.adjust_hue(_pil(U8), hue)), atol=16)

    def test_grayscale(self):
        out = T.Grayscale()(tensor(F32))
        np.testing.assert_allclose(out.numpy()[0], ref_gray(F32.astype(np.float64)), atol=1e-6)
        out3 = T.Grayscale(3)(tensor(BATCH_U8)).numpy()
        assert out3.shape == (2, 3, 23, 31) and (out3 == out3[:, :1]).all()
        assert np.array_equal(out3[:, 0], np.trunc(ref_gray(BATCH_U8.astype(np.float32))).astype(np.uint8))
        # PIL: ITU-R 601-2 luma (0.299, 0.587, 0.114)
        pil_gray = np.asarray(F.rgb_to_grayscale(_pil(U8))).astype(float)
        ref = 0.299 * U8[0] + 0.587 * U8[1] + 0.114 * U8[2]
        assert np.abs(pil_gray - ref).max() <= 1
        assert F.rgb_to_grayscale(_pil(U8), 3).mode == "RGB"
        assert T.RandomGrayscale(p=1.0)(tensor(U8)).shape == (3, 23, 31)
        with pytest.raises(TypeError, match="permitted channel values are \\[1, 3\\]"):
            F.rgb_to_grayscale(ember.zeros(4, 5, 5))
        with pytest.raises(ValueError, match="num_output_channels should be either 1 or 3"):
            F.rgb_to_grayscale(tensor(U8), 2)

    def test_invert_posterize_solarize_equal_pil(self):
        for fn, args in [(F.invert, ()), (F.posterize, (3,)), (F.solarize, (100,)), (F.equalize, ()),
                         (F.autocontrast, ())]:
            out = fn(tensor(U8), *args).numpy()
            diff = np.abs(out.astype(int) - _np(fn(_pil(U8), *args)))
            assert diff.max() <= (1 if fn is F.autocontrast else 0), fn.__name__
        np.testing.assert_allclose(F.invert(tensor(F32)).numpy(), 1 - F32)
        np.testing.assert_allclose(F.solarize(tensor(F32), 0.5).numpy(), np.where(F32 >= 0.5, 1 - F32, F32))
        # batched uint8: the same as one image at a time
        eq = F.equalize(tensor(BATCH_U8)).numpy()
        assert all(np.array_equal(eq[i], F.equalize(tensor(BATCH_U8[i])).numpy()) for i in range(2))
        flat = np.full((1, 4, 4), 9, dtype=np.uint8)  # nothing to stretch or equalize
        assert np.array_equal(F.autocontrast(tensor(flat)).numpy(), flat)
        assert np.array_equal(F.equalize(tensor(flat)).numpy(), flat)

    def test_autocontrast_formula(self):
        out = F.autocontrast(tensor(BATCH_F32)).numpy()
        lo = BATCH_F32.min(axis=(-2, -1), keepdims=True)
        hi = BATCH_F32.max(axis=(-2, -1), keepdims=True)
        np.testing.assert_allclose(out, (BATCH_F32 - lo) / (hi - lo), atol=1e-6)

    def test_gamma(self):
        np.testing.assert_allclose(F.adjust_gamma(tensor(F32), 0.5, 1.2).numpy(), np.clip(1.2 * F32 ** 0.5, 0, 1),
                                   rtol=1e-6)
        assert_uint8_close(F.adjust_gamma(tensor(U8), 0.7).numpy(), _np(F.adjust_gamma(_pil(U8), 0.7)), atol=1)

    def test_errors(self):
        with pytest.raises(ValueError, match="brightness_factor \\(-1\\) is not non-negative"):
            F.adjust_brightness(tensor(U8), -1)
        with pytest.raises(ValueError, match="is not in \\[-0.5, 0.5\\]"):
            F.adjust_hue(tensor(U8), 0.7)
        with pytest.raises(TypeError, match="Only ember.uint8 image tensors are supported"):
            F.posterize(tensor(F32), 3)
        with pytest.raises(ValueError, match="bits should be between 0 and 8"):
            F.posterize(tensor(U8), 9)
        with pytest.raises(TypeError, match="Threshold should be less than bound of img"):
            F.solarize(tensor(F32), 2.0)
        with pytest.raises(ValueError, match="If brightness is a single number, it must be non negative"):
            T.ColorJitter(brightness=-0.1)
        with pytest.raises(ValueError, match="hue values should be between"):
            T.ColorJitter(hue=0.6)
        with pytest.raises(TypeError, match="contrast should be a single number or a list/tuple with length 2"):
            T.ColorJitter(contrast=[1, 2, 3])


# ---------------------------------------------------------------------------------------
# Gaussian blur
# ---------------------------------------------------------------------------------------

class TestGaussianBlur:
    @pytest.mark.parametrize("ksize,sigma", [([3, 3], [0.8, 0.8]), ([5, 7], [1.5, 2.0]), ([1, 5], [1.0, 1.2])])
    def test_vs_direct_convolution(self, ksize, sigma):
        for arr in (F32, BATCH_F32):
            out = F.gaussian_blur(tensor(arr), ksize, sigma).numpy()
            np.testing.assert_allclose(out, ref_blur(arr, ksize, sigma), atol=2e-6)
        out = F.gaussian_blur(tensor(U8), ksize, sigma).numpy()
        assert_uint8_close(out, ref_blur(U8, ksize, sigma), atol=1)
        # PIL images are blurred by the same tensor code
        assert np.array_equal(_np(F.gaussian_blur(_pil(U8), ksize, sigma)), out)

    def test_default_sigma_and_transform(self):
        out = F.gaussian_blur(tensor(F32), 5).numpy()
        np.testing.assert_allclose(out, ref_blur(F32, [5, 5], [5 * 0.15 + 0.35] * 2), atol=2e-6)
        ember.manual_seed(3)
        out = T.GaussianBlur(3, sigma=(0.5, 1.5))(tensor(F32))
        ember.manual_seed(3)
        sigma = ember.empty(1).uniform_(0.5, 1.5).item()
        np.testing.assert_allclose(out.numpy(), ref_blur(F32, [3, 3], [sigma, sigma]), atol=2e-6)

    def test_errors(self):
        with pytest.raises(ValueError, match="kernel_size should have odd and positive integers"):
            F.gaussian_blur(tensor(U8), [4, 3])
        with pytest.raises(ValueError, match="sigma should have positive values"):
            F.gaussian_blur(tensor(U8), 3, [0.0, 1.0])
        with pytest.raises(ValueError, match="Kernel size value should be an odd and positive number"):
            T.GaussianBlur(4)
        with pytest.raises(ValueError, match="sigma values should be positive and of the form \\(min, max\\)"):
            T.GaussianBlur(3, sigma=(2.0, 1.0))


# ---------------------------------------------------------------------------------------
# Random transforms: parameters, reproducibility, the generator used
# ---------------------------------------------------------------------------------------

def _pipeline():
    return T.Compose([
        T.RandomResizedCrop(16, antialias=True),
        T.RandomHorizontalFlip(),
        T.RandomApply([T.ColorJitter(0.4, 0.4, 0.4, 0.1)], p=0.8),
        T.RandomGrayscale(p=0.2),
        T.RandomRotation(15, interpolation=IM.BILINEAR),
        T.RandomAffine(10, translate=(0.1, 0.1), scale=(0.9, 1.1), shear=5),
        T.GaussianBlur(3),
        T.RandomErasing(p=0.5),
    ])


class TestRandom:
    def test_reproducible_under_manual_seed_and_independent_of_python_random(self):
        pipe = _pipeline()
        outs = []
        for py_seed in (1, 2):
            random.seed(py_seed)
            np.random.seed(py_seed)
            ember.manual_seed(123)
            outs.append([pipe(tensor(F32)).numpy() for _ in range(3)])
        for a, b in zip(*outs):
            assert np.array_equal(a, b)
        assert not np.array_equal(outs[0][0], outs[0][1])  # successive draws differ
        ember.manual_seed(124)
        assert not np.array_equal(pipe(tensor(F32)).numpy(), outs[0][0])

    def test_pil_pipeline_reproducible(self):
        pipe = T.Compose([T.RandomResizedCrop(12), T.RandomHorizontalFlip(), T.ColorJitter(0.3, 0.3, 0.3, 0.05),
                          T.RandomRotation(20), T.TrivialAugmentWide(), T.ToTensor()])
        ember.manual_seed(7)
        a = pipe(_pil(U8))
        ember.manual_seed(7)
        assert np.array_equal(a.numpy(), pipe(_pil(U8)).numpy())

    def test_random_crop_params_and_padding(self):
        ember.manual_seed(0)
        i, j, h, w = T.RandomCrop.get_params(tensor(U8), (10, 12))
        assert 0 <= i <= 13 and 0 <= j <= 19 and (h, w) == (10, 12)
        ember.manual_seed(0)
        out = T.RandomCrop((10, 12))(tensor(U8))
        assert np.array_equal(out.numpy(), U8[:, i:i + 10, j:j + 12])
        assert T.RandomCrop(23 + 4, padding=2)(tensor(U8)).shape == (3, 27, 27)
        out = T.RandomCrop((30, 40), pad_if_needed=True, fill=5)(tensor(U8))
        assert out.shape == (3, 30, 40)
        assert T.RandomCrop((30, 40), pad_if_needed=True, padding_mode="reflect")(_pil(U8)).size == (40, 30)
        with pytest.raises(ValueError, match="Required crop size \\(30, 40\\) is larger than input image size"):
            T.RandomCrop((30, 40))(tensor(U8))
        with pytest.raises(ValueError, match="Please provide only two dimensions"):
            T.RandomCrop([1, 2, 3])

    def test_random_resized_crop(self):
        ember.manual_seed(5)
        for _ in range(20):
            i, j, h, w = T.RandomResizedCrop.get_params(tensor(U8), (0.08, 1.0), (3 / 4, 4 / 3))
            assert 0 <= i and i + h <= 23 and 0 <= j and j + w <= 31 and h > 0 and w > 0
        # impossible ratio: falls back to the largest centred crop of the closest ratio
        assert T.RandomResizedCrop.get_params(tensor(U8), (1.0, 1.0), (10.0, 10.0)) == (10, 0, 3, 31)
        ember.manual_seed(5)
        params = T.RandomResizedCrop.get_params(tensor(U8), (0.08, 1.0), (3 / 4, 4 / 3))
        ember.manual_seed(5)
        out = T.RandomResizedCrop([8, 9])(tensor(U8))
        assert np.array_equal(out.numpy(), F.resized_crop(tensor(U8), *params, [8, 9]).numpy())
        with pytest.raises(TypeError, match="Scale should be a sequence"):
            T.RandomResizedCrop(8, scale=0.5)
        with pytest.warns(UserWarning, match="Scale and ratio should be of kind \\(min, max\\)"):
            T.RandomResizedCrop(8, scale=(1.0, 0.5))

    def test_random_erasing(self):
        ember.manual_seed(11)
        out = T.RandomErasing(p=1.0, value=(0.1, 0.2, 0.3))(tensor(F32)).numpy()
        changed = (out != F32).any(axis=0)
        ys, xs = np.nonzero(changed)
        box = out[:, ys.min():ys.max() + 1, xs.min():xs.max() + 1]
        np.testing.assert_allclose(box, np.broadcast_to(np.array([0.1, 0.2, 0.3], np.float32)[:, None, None],
                                                        box.shape))
        noise = T.RandomErasing(p=1.0, value="random")(tensor(F32))
        assert noise.shape == F32.shape
        with pytest.raises(ValueError, match="If value is str, it should be 'random'"):
            T.RandomErasing(value="noise")
        with pytest.raises(ValueError, match="Scale should be between 0 and 1"):
            T.RandomErasing(scale=(0.1, 2.0))
        with pytest.raises(ValueError, match="Random erasing probability should be between 0 and 1"):
            T.RandomErasing(p=1.5)
        with pytest.raises(ValueError, match="it should have either a single value or 3"):
            T.RandomErasing(p=1.0, value=[1, 2])(tensor(F32))

    def test_color_jitter_uses_a_random_order(self):
        fn_idx, b, c, s, h = T.ColorJitter.get_params((0.5, 1.5), None, (0.0, 2.0), (-0.1, 0.1))
        assert sorted(fn_idx.tolist()) == [0, 1, 2, 3] and c is None
        assert 0.5 <= b <= 1.5 and 0 <= s <= 2 and -0.1 <= h <= 0.1
        assert T.ColorJitter().brightness is None and T.ColorJitter(hue=0.0).hue is None
        ember.manual_seed(2)
        out = T.ColorJitter(brightness=(0.5, 0.5))(tensor(F32))
        np.testing.assert_allclose(out.numpy(), F32 * 0.5, atol=1e-7)

    def test_containers(self):
        t = tensor(U8)
        flip = T.RandomHorizontalFlip(p=1.0)
        assert np.array_equal(T.RandomApply([flip], p=1.0)(t).numpy(), U8[..., ::-1])
        assert T.RandomApply([flip], p=0.0)(t) is t
        ember.manual_seed(0)
        picks = {T.RandomChoice([T.Lambda(lambda x: 1), T.Lambda(lambda x: 2)])(t) for _ in range(30)}
        assert picks == {1, 2}
        assert {T.RandomChoice([T.Lambda(lambda x: 1), T.Lambda(lambda x: 2)], p=[0, 1])(t) for _ in range(10)} == {2}
        order = T.RandomOrder([T.Lambda(lambda x: x + [1]), T.Lambda(lambda x: x + [2])])
        seen = {tuple(order([])) for _ in range(30)}
        assert seen == {(1, 2), (2, 1)}
        with pytest.raises(TypeError, match="Argument lambd should be callable"):
            T.Lambda(3)
        with pytest.raises(TypeError, match="Argument transforms should be a sequence"):
            T.RandomChoice(flip)
        assert "RandomHorizontalFlip(p=1.0)" in repr(T.Compose([flip]))

    def test_random_perspective_and_single_ops(self):
        ember.manual_seed(4)
        assert T.RandomPerspective(p=1.0)(tensor(U8)).shape == U8.shape
        assert T.RandomPerspective(p=1.0)(_pil(U8)).size == (31, 23)
        ops = [(T.RandomInvert, (), F.invert), (T.RandomPosterize, (2,), lambda x: F.posterize(x, 2)),
               (T.RandomSolarize, (128,), lambda x: F.solarize(x, 128)),
               (T.RandomAdjustSharpness, (2.0,), lambda x: F.adjust_sharpness(x, 2.0)),
               (T.RandomAutocontrast, (), F.autocontrast), (T.RandomEqualize, (), F.equalize)]
        for cls, args, fn in ops:
            assert np.array_equal(cls(*args, p=1.0)(tensor(U8)).numpy(), fn(tensor(U8)).numpy())
            assert np.array_equal(cls(*args, p=0.0)(tensor(U8)).numpy(), U8)

    @pytest.mark.parametrize("aug", [T.TrivialAugmentWide(), T.RandAugment()])
    def test_auto_augment(self, aug):
        ember.manual_seed(9)
        outs = [aug(tensor(BATCH_U8)) for _ in range(12)]
        assert all(o.shape == BATCH_U8.shape and o.dtype is ember.uint8 for o in outs)
        assert any(not np.array_equal(o.numpy(), BATCH_U8) for o in outs)
        ember.manual_seed(9)
        assert np.array_equal(aug(tensor(BATCH_U8)).numpy(), outs[0].numpy())
        assert aug(_pil(U8)).size == (31, 23)


class _Augmented(ember.utils.data.Dataset):
    def __init__(self):
        self.transform = T.Compose([T.RandomResizedCrop(12), T.RandomHorizontalFlip(), T.ToTensor()])

    def __len__(self):
        return 8

    def __getitem__(self, i):
        return self.transform(_pil(_image(seed=i)))


def test_dataloader_worker_seeding_makes_augmentation_reproducible():
    runs = []
    for _ in range(2):
        ember.manual_seed(2024)
        loader = ember.utils.data.DataLoader(_Augmented(), batch_size=4, num_workers=2)
        runs.append(np.concatenate([b.numpy() for b in loader]))
    assert np.array_equal(runs[0], runs[1])
    ember.manual_seed(2025)
    other = np.concatenate([b.numpy() for b in ember.utils.data.DataLoader(_Augmented(), batch_size=4,
                                                                            num_workers=2)])
    assert not np.array_equal(runs[0], other)


# ---------------------------------------------------------------------------------------
# Devices and registration
# ---------------------------------------------------------------------------------------

def test_transforms_keep_the_device(accel):
    t = tensor(F32).to("accel:1")
    for fn in (lambda x: F.resize(x, [10, 12]), lambda x: F.rotate(x, 20.0, IM.BILINEAR), F.hflip,
               lambda x: F.gaussian_blur(x, 3), lambda x: F.adjust_hue(x, 0.2), lambda x: F.pad(x, 2, 0, "reflect"),
               lambda x: F.normalize(x, [0.5] * 3, [0.2] * 3), lambda x: F.erase(x, 1, 1, 3, 3, ember.tensor(0.0))):
        out = fn(t)
        assert out.device == t.device
        np.testing.assert_allclose(out.cpu().numpy(), fn(tensor(F32)).numpy(), atol=1e-6)


def test_register_adds_every_transform_with_its_functional():
    from ember.plugins.registry import PluginRegistry, Registry

    from ember_vision.transforms import _registry

    reg = Registry("transforms")
    PluginRegistry(reg, "vision").add_all(_registry.TRANSFORMS)
    exported = {getattr(T, n) for n in T.__all__ if isinstance(getattr(T, n), type) and n != "InterpolationMode"}
    assert {e.obj for e in reg.entries()} == exported
    entry = reg.get("random_resized_crop")
    assert entry.canonical == "vision:random_resized_crop" and entry.obj is T.RandomResizedCrop
    assert entry.functional is F.resized_crop
    assert reg.get("pil_to_tensor").obj is T.PILToTensor and reg.get("to_pil_image").functional is F.to_pil_image
    assert reg.get("trivial_augment_wide").functional is None
    assert all(e.metadata["modality"] == "image" for e in reg.entries())
    assert all(e.functional is None or callable(e.functional) for e in reg.entries())
