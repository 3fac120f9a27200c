"""ember_vision.io (against Pillow), ember_vision.utils (against a loop-built NumPy grid) and
ember_vision.ops (against brute-force NumPy IoU and a per-pair greedy NMS)."""
import math

import numpy as np
import pytest

import ember

pytest.importorskip("PIL")
from PIL import Image  # noqa: E402

from ember_vision import io as vio  # noqa: E402
from ember_vision import ops  # noqa: E402
from ember_vision.utils import make_grid, save_image  # noqa: E402

RNG = np.random.default_rng(0)
RGB = RNG.integers(0, 256, (3, 13, 17), dtype=np.uint8)


def chw(pil):
    a = np.asarray(pil)
    return a[None] if a.ndim == 2 else a.transpose(2, 0, 1)


# ---------------------------------------------------------------------------------------
# io
# ---------------------------------------------------------------------------------------

class TestIO:
    def test_read_image_modes(self, tmp_path):
        path = tmp_path / "img.png"
        rgba = np.concatenate([RGB, RGB[:1] // 2])
        Image.fromarray(rgba.transpose(1, 2, 0), "RGBA").save(path)
        img = vio.read_image(str(path))
        assert img.dtype is ember.uint8 and np.array_equal(img.numpy(), rgba)
        pil = Image.open(path)
        for mode, pil_mode in [(vio.ImageReadMode.GRAY, "L"), (vio.ImageReadMode.RGB, "RGB"),
                               (vio.ImageReadMode.GRAY_ALPHA, "LA"), (vio.ImageReadMode.RGB_ALPHA, "RGBA")]:
            assert np.array_equal(vio.read_image(path, mode).numpy(), chw(pil.convert(pil_mode)))
        assert vio.ImageReadMode.RGBA is vio.ImageReadMode.RGB_ALPHA

    def test_palette_gray_and_16bit(self, tmp_path):
        p = tmp_path / "pal.png"
        Image.fromarray(RGB.transpose(1, 2, 0)).convert("P", palette=Image.Palette.ADAPTIVE).save(p)
        out = vio.read_image(p)
        assert out.shape == (3, 13, 17)  # the palette is expanded
        assert np.array_equal(out.numpy(), chw(Image.open(p).convert("RGB")))
        g = tmp_path / "gray.png"
        Image.fromarray(RGB[0]).save(g)
        assert np.array_equal(vio.read_image(g).numpy(), RGB[:1])
        assert np.array_equal(vio.read_image(g, vio.ImageReadMode.RGB).numpy(), np.repeat(RGB[:1], 3, 0))
        deep = tmp_path / "deep.png"
        v16 = (RNG.integers(0, 65536, (5, 6))).astype(np.uint16)
        Image.fromarray(v16).save(deep)
        out = vio.read_image(deep)
        assert out.dtype is ember.int32 and np.array_equal(out.numpy()[0], v16.astype(np.int32))

    def test_jpeg_and_png_roundtrips(self, tmp_path):
        t = ember.from_numpy(RGB)
        data = vio.encode_png(t)
        assert data.dtype is ember.uint8 and data.ndim == 1
        assert np.array_equal(vio.decode_image(data).numpy(), RGB)
        assert np.array_equal(vio.decode_png(data).numpy(), RGB)
        vio.write_png(t, tmp_path / "a.png", compression_level=9)
        assert np.array_equal(chw(Image.open(tmp_path / "a.png")), RGB)
        smooth = np.repeat(np.linspace(0, 255, 16, dtype=np.uint8)[None, None], 3, 0).repeat(16, 1)
        vio.write_jpeg(ember.from_numpy(smooth), tmp_path / "a.jpg", quality=95)
        back = vio.read_image(tmp_path / "a.jpg")
        assert back.shape == (3, 16, 16) and np.abs(back.numpy().astype(int) - smooth).max() <= 8
        enc = vio.encode_jpeg(ember.from_numpy(smooth), quality=95)
        assert np.array_equal(vio.decode_jpeg(enc).numpy(), back.numpy())
        assert len(vio.encode_jpeg([t, t])) == 2
        raw = vio.read_file(tmp_path / "a.png")
        vio.write_file(tmp_path / "b.png", raw)
        assert (tmp_path / "b.png").read_bytes() == (tmp_path / "a.png").read_bytes()

    def test_errors_name_the_file(self, tmp_path):
        missing = tmp_path / "nope.png"
        with pytest.raises(FileNotFoundError, match="nope.png"):
            vio.read_image(missing)
        bad = tmp_path / "broken.jpg"
        bad.write_bytes(b"this is not an image")
        with pytest.raises(RuntimeError, match="could not decode image file .*broken.jpg"):
            vio.read_image(bad)
        with pytest.raises(RuntimeError, match="could not decode image data"):
            vio.decode_image(ember.tensor([1, 2, 3], dtype=ember.uint8))
        with pytest.raises(ValueError, match="1-d uint8 tensor"):
            vio.decode_image(ember.zeros(3, 4))
        with pytest.raises(RuntimeError, match="dtype should be uint8"):
            vio.encode_png(ember.zeros(3, 4, 4))
        with pytest.raises(ValueError, match="number of channels should be 1 or 3 for JPEG"):
            vio.encode_jpeg(ember.zeros(4, 4, 4, dtype=ember.uint8))
        with pytest.raises(ValueError, match="Compression level should be between 0 and 9"):
            vio.encode_png(ember.from_numpy(RGB), compression_level=10)
        with pytest.raises(ValueError, match="between 1 and 100"):
            vio.encode_jpeg(ember.from_numpy(RGB), quality=0)


# ---------------------------------------------------------------------------------------
# utils
# ---------------------------------------------------------------------------------------

def ref_grid(batch, nrow, padding, pad_value):
    """The grid built cell by cell, as torchvision's loop does."""
    b, c, h, w = batch.shape
    if c == 1:
        batch = np.repeat(batch, 3, 1)
        c = 3
    xmaps = min(nrow, b)
    ymaps = math.ceil(b / xmaps)
    hp, wp = h + padding, w + padding
    grid = np.full((c, hp * ymaps + padding, wp * xmaps + padding), pad_value, dtype=batch.dtype)
    for k in range(b):
        y, x = divmod(k, xmaps)
        grid[:, y * hp + padding:y * hp + padding + h, x * wp + padding:x * wp + padding + w] = batch[k]
    return grid


class TestMakeGrid:
    @pytest.mark.parametrize("b,c,nrow,padding,pad_value", [(5, 3, 2, 2, 0.0), (7, 1, 3, 1, 0.5), (4, 3, 8, 0, 1.0),
                                                            (6, 3, 4, 3, 0.25)])
    def test_layout(self, b, c, nrow, padding, pad_value):
        batch = RNG.random((b, c, 4, 5)).astype(np.float32)
        out = make_grid(ember.from_numpy(batch), nrow=nrow, padding=padding, pad_value=pad_value)
        assert np.array_equal(out.numpy(), ref_grid(batch, nrow, padding, pad_value))

    def test_normalize_and_inputs(self):
        batch = (RNG.random((3, 3, 4, 4)) * 10 - 5).astype(np.float32)
        t = ember.from_numpy(batch)
        out = make_grid(t, normalize=True, padding=0).numpy()
        norm = (batch - batch.min()) / (batch.max() - batch.min())
        np.testing.assert_allclose(out, ref_grid(norm, 8, 0, 0.0), atol=1e-6)
        each = make_grid(t, normalize=True, scale_each=True, padding=0).numpy()
        lo, hi = batch.min(axis=(1, 2, 3), keepdims=True), batch.max(axis=(1, 2, 3), keepdims=True)
        np.testing.assert_allclose(each, ref_grid((batch - lo) / (hi - lo), 8, 0, 0.0), atol=1e-6)
        rng = make_grid(t, normalize=True, value_range=(-2.0, 2.0), padding=0).numpy()
        np.testing.assert_allclose(rng, ref_grid((batch.clip(-2, 2) + 2) / 4, 8, 0, 0.0), atol=1e-6)
        assert np.array_equal(t.numpy(), batch)  # the input is not modified
        listed = make_grid([t[0], t[1]], padding=1).numpy()
        assert np.array_equal(listed, ref_grid(batch[:2], 8, 1, 0.0))
        single = make_grid(t[0]).numpy()
        assert np.array_equal(single, batch[0])  # one image: returned as is
        assert make_grid(t[0, :1]).shape == (3, 4, 4)  # one grey image: 3 channels
        with pytest.raises(TypeError, match="tensor or list of tensors expected"):
            make_grid(batch)
        with pytest.raises(TypeError, match="value_range has to be a tuple"):
            make_grid(t, normalize=True, value_range=[0, 1])

    def test_save_image(self, tmp_path):
        batch = RNG.random((4, 3, 5, 6)).astype(np.float32)
        save_image(ember.from_numpy(batch), tmp_path / "grid.png", nrow=2, padding=1)
        expected = (ref_grid(batch, 2, 1, 0.0) * 255 + 0.5).clip(0, 255).astype(np.uint8)
        assert np.array_equal(chw(Image.open(tmp_path / "grid.png")), expected)


# ---------------------------------------------------------------------------------------
# ops
# ---------------------------------------------------------------------------------------

def random_boxes(n, seed):
    rng = np.random.default_rng(seed)
    xy = rng.random((n, 2)) * 50
    wh = rng.random((n, 2)) * 20 + 1
    return np.concatenate([xy, xy + wh], 1).astype(np.float32)


def ref_iou(a, b):
    out = np.zeros((len(a), len(b)))
    for i, p in enumerate(a):
        for j, q in enumerate(b):
            iw = max(0.0, min(p[2], q[2]) - max(p[0], q[0]))
            ih = max(0.0, min(p[3], q[3]) - max(p[1], q[1]))
            inter = iw * ih
            union = (p[2] - p[0]) * (p[3] - p[1]) + (q[2] - q[0]) * (q[3] - q[1]) - inter
            out[i, j] = inter / union
    return out


def ref_nms(boxes, scores, thr, classes=None):
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    iou = ref_iou(boxes, boxes)
    keep, dropped = [], set()
    for i in order:
        if i in dropped:
            continue
        keep.append(i)
        for j in order:
            if j not in dropped and j != i and iou[i, j] > thr and (classes is None or classes[i] == classes[j]):
                dropped.add(j)
    return keep


class TestOps:
    def test_area_and_iou(self):
        a, b = random_boxes(7, 1), random_boxes(5, 2)
        np.testing.assert_allclose(ops.box_area(ember.from_numpy(a)).numpy(), (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1]),
                                   rtol=1e-6)
        iou = ops.box_iou(ember.from_numpy(a), ember.from_numpy(b))
        assert iou.shape == (7, 5)
        np.testing.assert_allclose(iou.numpy(), ref_iou(a, b), atol=1e-6)
        ints = ops.box_iou(ember.tensor([[0, 0, 2, 2]]), ember.tensor([[1, 1, 3, 3]]))
        assert ints.is_floating_point() and abs(ints.item() - 1 / 7) < 1e-6
        g = ops.generalized_box_iou(ember.tensor([[0.0, 0.0, 1.0, 1.0]]), ember.tensor([[2.0, 0.0, 3.0, 1.0]]))
        assert abs(g.item() - (0.0 - (3.0 - 2.0) / 3.0)) < 1e-6
        with pytest.raises(ValueError, match="should be a \\(N, 4\\) tensor"):
            ops.box_iou(ember.zeros(3, 5), ember.zeros(2, 4))

    def test_iou_gradients(self):
        a = ember.tensor([[0.0, 0.0, 2.0, 2.5], [1.0, 0.5, 3.0, 2.0]], dtype=ember.float64, requires_grad=True)
        b = ember.tensor([[0.5, 0.2, 2.2, 1.9]], dtype=ember.float64, requires_grad=True)
        assert ember.autograd.gradcheck(ops.box_iou, (a, b))
        assert ember.autograd.gradcheck(ops.generalized_box_iou, (a, b))

    def test_box_convert_clip_remove(self):
        a = random_boxes(6, 3)
        t = ember.from_numpy(a)
        for fmt in ("xywh", "cxcywh"):
            np.testing.assert_allclose(ops.box_convert(ops.box_convert(t, "xyxy", fmt), fmt, "xyxy").numpy(), a,
                                       atol=1e-5)
        xywh = ops.box_convert(t, "xyxy", "xywh").numpy()
        np.testing.assert_allclose(xywh, np.concatenate([a[:, :2], a[:, 2:] - a[:, :2]], 1), atol=1e-5)
        clipped = ops.clip_boxes_to_image(t, (30, 40)).numpy()
        np.testing.assert_allclose(clipped, np.stack([a[:, 0].clip(0, 40), a[:, 1].clip(0, 30),
                                                      a[:, 2].clip(0, 40), a[:, 3].clip(0, 30)], 1))
        keep = ops.remove_small_boxes(t, 10.0).numpy()
        assert keep.tolist() == [i for i in range(6) if min(a[i, 2] - a[i, 0], a[i, 3] - a[i, 1]) >= 10]
        with pytest.raises(ValueError, match="Unsupported Bounding Box Conversions"):
            ops.box_convert(t, "xyxy", "yxyx")

    @pytest.mark.parametrize("thr", [0.0, 0.3, 0.7])
    def test_nms_vs_reference(self, thr):
        boxes = random_boxes(60, 4)
        scores = np.random.default_rng(5).random(60).astype(np.float32)
        keep = ops.nms(ember.from_numpy(boxes), ember.from_numpy(scores), thr)
        assert keep.dtype is ember.int64
        assert keep.tolist() == ref_nms(boxes, scores, thr)
        classes = np.random.default_rng(6).integers(0, 3, 60)
        kept = ops.batched_nms(ember.from_numpy(boxes), ember.from_numpy(scores), ember.from_numpy(classes), thr)
        assert kept.tolist() == ref_nms(boxes, scores, thr, classes)

    def test_nms_edge_cases_and_errors(self):
        empty = ops.nms(ember.zeros(0, 4), ember.zeros(0), 0.5)
        assert empty.shape == (0,) and empty.dtype is ember.int64
        # IoU exactly at the threshold is kept (suppression needs IoU > threshold)
        boxes = ember.tensor([[0.0, 0.0, 2.0, 1.0], [1.0, 0.0, 3.0, 1.0]])  # IoU 1/3
        assert ops.nms(boxes, ember.tensor([0.9, 0.8]), 1 / 3 + 1e-7).tolist() == [0, 1]
        assert ops.nms(boxes, ember.tensor([0.9, 0.8]), 0.3).tolist() == [0]
        with pytest.raises(RuntimeError, match="boxes should have 4 elements in dimension 1"):
            ops.nms(ember.zeros(3, 5), ember.zeros(3), 0.5)
        with pytest.raises(RuntimeError, match="same number of elements in dimension 0"):
            ops.nms(ember.zeros(3, 4), ember.zeros(2), 0.5)
        with pytest.raises(RuntimeError, match="scores should be a 1d tensor"):
            ops.nms(ember.zeros(3, 4), ember.zeros(3, 1), 0.5)
