"""``Summary`` and ``Event`` protocol buffers for :class:`SummaryWriter`, built with the ``tensorboard``
package's own message classes (imported only once a writer exists)."""
from __future__ import annotations

import io
import math

import numpy as np
from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2


def _array(value) -> np.ndarray:
    """A NumPy array from an Ember tensor (any device), a NumPy array or a Python number."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def event(summary, step: int | None, walltime: float):
    return event_pb2.Event(summary=summary, step=0 if step is None else int(step), wall_time=walltime)


def session_start(step: int):
    """The event that tells TensorBoard to drop the previous run's events from ``step`` on."""
    return event_pb2.Event(step=int(step), session_log=event_pb2.SessionLog(status=event_pb2.SessionLog.START))


def _plugin(name: str):
    return summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=name))


def scalar(tag: str, value, new_style: bool = False, double_precision: bool = False):
    """A scalar value: ``simple_value`` (old style, PyTorch's default) or a 0-d tensor for the scalars plugin."""
    array = _array(value)
    if array.size != 1:
        raise ValueError(f"add_scalar expects a single value for {tag!r}, got an array of shape {array.shape}")
    v = float(array.reshape(()))
    if not new_style:
        return summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=v)])
    if double_precision:
        tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_DOUBLE, double_val=[v],
                                        tensor_shape=tensor_shape_pb2.TensorShapeProto())
    else:
        tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, float_val=[v],
                                        tensor_shape=tensor_shape_pb2.TensorShapeProto())
    return summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, tensor=tensor, metadata=_plugin("scalars"))])


def _tensorflow_bins() -> np.ndarray:
    """TensorFlow's default histogram edges: +-1e-12 growing by 10% up to 1e20, and 0."""
    positive = 1e-12 * 1.1 ** np.arange(math.ceil(math.log(1e32) / math.log(1.1)))
    return np.concatenate([-positive[::-1], [0.0], positive])


def histogram(tag: str, values, bins="tensorflow", max_bins: int | None = None):
    """A ``HistogramProto`` of ``values`` with empty buckets at either end left out."""
    array = _array(values).astype(np.float64).ravel()
    if array.size == 0:
        raise ValueError(f"add_histogram: {tag!r} has no values")
    edges = _tensorflow_bins() if isinstance(bins, str) and bins == "tensorflow" else bins
    counts, limits = np.histogram(array, bins=edges)
    if max_bins is not None and len(counts) > max_bins:   # merge neighbours down to at most max_bins buckets
        step = math.ceil(len(counts) / max_bins)
        counts = np.add.reduceat(counts, np.arange(0, len(counts), step))
        limits = np.append(limits[:-1:step], limits[-1])
    nonzero = np.flatnonzero(counts)
    first, last = (nonzero[0], nonzero[-1] + 1) if nonzero.size else (0, len(counts))
    histo = summary_pb2.HistogramProto(
        min=float(array.min()), max=float(array.max()), num=int(array.size), sum=float(array.sum()),
        sum_squares=float(np.dot(array, array)), bucket_limit=limits[first + 1:last + 1].tolist(),
        bucket=counts[first:last].astype(np.float64).tolist())
    return summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, histo=histo)])


def _to_hwc_uint8(array: np.ndarray, dataformats: str) -> np.ndarray:
    """An image array in ``dataformats`` (``CHW``, ``HWC``, ``HW``) as ``H x W x C`` bytes (C = 1, 3 or 4)."""
    fmt = dataformats.upper()
    if sorted(fmt) not in (sorted("CHW"), sorted("HW")) or array.ndim != len(fmt):
        raise ValueError(f"image of shape {array.shape} does not match dataformats {dataformats!r} "
                         "(expected 'CHW', 'HWC' or 'HW')")
    if "C" not in fmt:
        array, fmt = array[..., None], fmt + "C"
    array = array.transpose([fmt.index(c) for c in "HWC"])
    if array.shape[2] not in (1, 3, 4):
        raise ValueError(f"an image has 1, 3 or 4 channels, got {array.shape[2]}")
    if array.dtype != np.uint8:   # floats are in [0, 1], as PyTorch expects
        array = (np.clip(array.astype(np.float64), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return array


def _png(hwc: np.ndarray) -> bytes:
    try:
        from PIL import Image
    except ImportError as e:
        raise ModuleNotFoundError("SummaryWriter.add_image encodes PNG with Pillow: `pip install pillow`",
                                  name="PIL") from e
    buf = io.BytesIO()
    Image.fromarray(hwc[..., 0] if hwc.shape[2] == 1 else hwc).save(buf, format="PNG")
    return buf.getvalue()


def _image_summary(tag: str, hwc: np.ndarray):
    h, w, c = hwc.shape
    img = summary_pb2.Summary.Image(height=h, width=w, colorspace=c, encoded_image_string=_png(hwc))
    return summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, image=img)])


def image(tag: str, img, dataformats: str = "CHW"):
    return _image_summary(tag, _to_hwc_uint8(_array(img), dataformats))


def images(tag: str, batch, dataformats: str = "NCHW", ncols: int = 8):
    """A grid of the batch's images, ``ncols`` per row, blank cells at the end."""
    array = _array(batch)
    fmt = dataformats.upper()
    if fmt not in ("NCHW", "NHWC") or array.ndim != 4:
        raise ValueError(f"images of shape {array.shape} do not match dataformats {dataformats!r} "
                         "(expected 'NCHW' or 'NHWC')")
    if array.shape[0] == 0:
        raise ValueError("add_images needs at least one image")
    cells = [_to_hwc_uint8(a, fmt[1:]) for a in array]
    n, (h, w, c) = len(cells), cells[0].shape
    cols = min(ncols, n)
    rows = math.ceil(n / cols)
    grid = np.zeros((rows * h, cols * w, c), dtype=np.uint8)
    for i, cell in enumerate(cells):
        r, k = divmod(i, cols)
        grid[r * h:(r + 1) * h, k * w:(k + 1) * w] = cell
    return _image_summary(tag, grid)


def text(tag: str, text_string: str):
    """A string for the text plugin (shown as Markdown)."""
    tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, string_val=[str(text_string).encode("utf-8")],
                                    tensor_shape=tensor_shape_pb2.TensorShapeProto(
                                        dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=1)]))
    return summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag + "/text_summary", tensor=tensor,
                                                                metadata=_plugin("text"))])
