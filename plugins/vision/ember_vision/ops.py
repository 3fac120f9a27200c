"""Box operations (``torchvision.ops``): areas, IoU, format conversion and non-maximum suppression.

Boxes are (N, 4) tensors in ``(x1, y1, x2, y2)`` format with ``0 <= x1 < x2`` and ``0 <= y1 < y2``.
Area and IoU are Ember tensor operations (differentiable, on any device); NMS returns int64 indices.

    >>> boxes = ember.tensor([[0., 0., 10., 10.], [1., 1., 11., 11.], [20., 20., 30., 30.]])
    >>> nms(boxes, ember.tensor([0.9, 0.8, 0.7]), iou_threshold=0.5)
    tensor([0, 2])
"""
from __future__ import annotations

import numpy as np

import ember
from ember import Tensor

__all__ = ["box_area", "box_iou", "generalized_box_iou", "box_convert", "clip_boxes_to_image", "remove_small_boxes",
           "nms", "batched_nms"]


def _upcast(t: Tensor) -> Tensor:
    """Avoid overflow in products: small floats to float32, small ints to int32."""
    if t.is_floating_point():
        return t if t.dtype in (ember.float32, ember.float64) else t.float()
    return t if t.dtype in (ember.int32, ember.int64) else t.int()


def _check_boxes(boxes, name: str = "boxes") -> None:
    if not isinstance(boxes, Tensor):
        raise TypeError(f"{name} should be a Tensor, got {type(boxes).__name__}")
    if boxes.ndim != 2 or boxes.shape[-1] != 4:
        raise ValueError(f"{name} should be a (N, 4) tensor in (x1, y1, x2, y2) format, got shape {tuple(boxes.shape)}")


def box_area(boxes: Tensor) -> Tensor:
    """Areas of (N, 4) boxes in (x1, y1, x2, y2) format, shape (N,)."""
    _check_boxes(boxes)
    boxes = _upcast(boxes)
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def _box_inter_union(boxes1: Tensor, boxes2: Tensor):
    area1, area2 = box_area(boxes1), box_area(boxes2)
    lt = ember.maximum(boxes1[:, None, :2], boxes2[:, :2])  # (N, M, 2)
    rb = ember.minimum(boxes1[:, None, 2:], boxes2[:, 2:])
    wh = _upcast(rb - lt).clamp(min=0)
    inter = wh[:, :, 0] * wh[:, :, 1]
    union = area1[:, None] + area2 - inter
    return inter, union


def box_iou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """Pairwise intersection-over-union, an (N, M) matrix, of (N, 4) and (M, 4) boxes."""
    _check_boxes(boxes1, "boxes1")
    _check_boxes(boxes2, "boxes2")
    inter, union = _box_inter_union(boxes1, boxes2)
    return inter / union


def generalized_box_iou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """Pairwise generalized IoU (Rezatofighi et al., 2019), in [-1, 1], an (N, M) matrix."""
    _check_boxes(boxes1, "boxes1")
    _check_boxes(boxes2, "boxes2")
    inter, union = _box_inter_union(boxes1, boxes2)
    iou = inter / union
    lti = ember.minimum(boxes1[:, None, :2], boxes2[:, :2])
    rbi = ember.maximum(boxes1[:, None, 2:], boxes2[:, 2:])
    whi = _upcast(rbi - lti).clamp(min=0)
    areai = whi[:, :, 0] * whi[:, :, 1]
    return iou - (areai - union) / areai


def box_convert(boxes: Tensor, in_fmt: str, out_fmt: str) -> Tensor:
    """Convert boxes between "xyxy", "xywh" (x, y, width, height) and "cxcywh" (centre, width, height)."""
    allowed = ("xyxy", "xywh", "cxcywh")
    if in_fmt not in allowed or out_fmt not in allowed:
        raise ValueError("Unsupported Bounding Box Conversions for given in_fmt and out_fmt")
    if in_fmt == out_fmt:
        return boxes.clone()
    a, b, c, d = boxes.unbind(-1)
    if in_fmt == "xywh":
        a, b, c, d = a, b, a + c, b + d
    elif in_fmt == "cxcywh":
        a, b, c, d = a - 0.5 * c, b - 0.5 * d, a + 0.5 * c, b + 0.5 * d
    if out_fmt == "xywh":
        a, b, c, d = a, b, c - a, d - b
    elif out_fmt == "cxcywh":
        a, b, c, d = (a + c) / 2, (b + d) / 2, c - a, d - b
    return ember.stack((a, b, c, d), dim=-1)


def clip_boxes_to_image(boxes: Tensor, size) -> Tensor:
    """Clip (..., 4) xyxy boxes to an image of ``size`` (height, width)."""
    height, width = size
    x = boxes[..., 0::2].clamp(min=0, max=width)
    y = boxes[..., 1::2].clamp(min=0, max=height)
    return ember.stack((x, y), dim=-1).reshape(boxes.shape)


def remove_small_boxes(boxes: Tensor, min_size: float) -> Tensor:
    """Indices (int64) of the boxes whose sides are both at least ``min_size``."""
    ws, hs = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    keep = (ws >= min_size) & (hs >= min_size)
    return ember.where(keep)[0]


def _check_nms_args(boxes, scores, idxs=None) -> None:
    if not isinstance(boxes, Tensor) or not isinstance(scores, Tensor):
        raise TypeError("boxes and scores should be Tensors")
    if boxes.ndim != 2:
        raise RuntimeError(f"boxes should be a 2d tensor, got {boxes.ndim}D")
    if boxes.shape[1] != 4:
        raise RuntimeError(f"boxes should have 4 elements in dimension 1, got {boxes.shape[1]}")
    if scores.ndim != 1:
        raise RuntimeError(f"scores should be a 1d tensor, got {scores.ndim}D")
    if boxes.shape[0] != scores.shape[0]:
        raise RuntimeError("boxes and scores should have same number of elements in dimension 0, got "
                           f"{boxes.shape[0]} and {scores.shape[0]}")
    if idxs is not None and (idxs.ndim != 1 or idxs.shape[0] != boxes.shape[0]):
        raise RuntimeError(f"idxs should be a 1d tensor with one entry per box ({boxes.shape[0]}), got shape "
                           f"{tuple(idxs.shape)}")
    if boxes.device != scores.device:
        raise RuntimeError(f"boxes and scores should be on the same device, got {boxes.device} and {scores.device}")


def _greedy_nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float, classes=None) -> np.ndarray:
    """Indices of the boxes kept by greedy NMS, by decreasing score.

    Each step keeps the best remaining box and drops the remaining boxes (of its class, when classes
    are given) whose IoU with it exceeds the threshold, in one vectorised comparison.
    """
    order = np.argsort(-scores, kind="stable")
    b = boxes[order]
    x1, y1, x2, y2 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    areas = (x2 - x1) * (y2 - y1)
    cls = None if classes is None else classes[order]
    keep = []
    rest = np.arange(len(order))
    while rest.size:
        i, rest = rest[0], rest[1:]
        keep.append(i)
        w = (np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest])).clip(min=0)
        h = (np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest])).clip(min=0)
        inter = w * h
        with np.errstate(divide="ignore", invalid="ignore"):
            suppressed = inter / (areas[i] + areas[rest] - inter) > iou_threshold
        if cls is not None:
            suppressed &= cls[rest] == cls[i]
        rest = rest[~suppressed]
    return order[np.asarray(keep, dtype=np.int64)]


def _kept(boxes: Tensor, keep: np.ndarray) -> Tensor:
    return ember.from_numpy(keep.astype(np.int64)).to(boxes.device)


def nms(boxes: Tensor, scores: Tensor, iou_threshold: float) -> Tensor:
    """Greedy non-maximum suppression: indices (int64) of the kept boxes, by decreasing score.

    A box is dropped when its IoU with a higher-scoring kept box is greater than ``iou_threshold``.
    """
    _check_nms_args(boxes, scores)
    b = np.asarray(boxes.detach().numpy(force=True))
    if not np.issubdtype(b.dtype, np.floating):
        b = b.astype(np.float32)
    s = np.asarray(scores.detach().numpy(force=True))
    return _kept(boxes, _greedy_nms(b, s, float(iou_threshold)))


def batched_nms(boxes: Tensor, scores: Tensor, idxs: Tensor, iou_threshold: float) -> Tensor:
    """NMS within each category ``idxs`` (boxes of different categories never suppress each other);
    indices (int64) of the kept boxes, by decreasing score."""
    _check_nms_args(boxes, scores, idxs)
    b = np.asarray(boxes.detach().numpy(force=True))
    if not np.issubdtype(b.dtype, np.floating):
        b = b.astype(np.float32)
    s = np.asarray(scores.detach().numpy(force=True))
    c = np.asarray(idxs.numpy(force=True))
    return _kept(boxes, _greedy_nms(b, s, float(iou_threshold), classes=c))
