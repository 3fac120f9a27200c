"""Functional forms of the basic layers: linear, bilinear, dropout, embedding, one_hot, and the
distances (cosine_similarity, pairwise_distance)."""
from __future__ import annotations

import warnings

import numpy as np

from ..._op_hooks import observe_namespace
from ... import _dtype as dt
from ..._tensor import Tensor, _make
from ...autograd.function import Op
from ...autograd.grad_mode import STATE
from ...ops import elementwise as E
from ...ops._dispatch import _SCALAR_TYPE_NAMES as _TORCH_NAMES, record, save, xp_of
from ...ops.reduction import vector_norm
from ...ops.shape import broadcast_shapes, broadcast_tensors

__all__ = ["linear", "bilinear"]


class Linear(Op):
    """``y = x W^T + b`` as one node: one BLAS call forward, two backward (a hot path)."""

    @staticmethod
    def backward(ctx, g):
        x, w, b = ctx.saved_tensors
        e = ctx.needs_input_grad
        gx = g.matmul(w) if e[0] else None
        gw = gb = None
        if e[1]:
            g2 = g.reshape(-1, g.shape[-1])
            gw = g2.mT.matmul(x.reshape(-1, x.shape[-1]))
        if b is not None and e[2]:
            gb = g.reshape(-1, g.shape[-1]).sum(0)
        return gx, gw, gb


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias`` over the last dimension of ``input``."""
    xd, wd = input._data, weight._data
    if xd.shape[-1:] != wd.shape[-1:]:
        rows, cols = _rows(xd)
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{cols} and "
                           f"{wd.shape[1]}x{wd.shape[0]})")
    if xd.dtype != wd.dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {input.dtype.name} and {weight.dtype.name}")
    dev = input._device
    if weight._device is not dev or (bias is not None and bias._device is not dev):
        from ...autograd.function import device_mismatch
        raise device_mismatch("linear", dev, weight._device if weight._device is not dev else bias._device)
    out = xd @ wd.T
    if bias is not None:
        out += bias._data
    if STATE.enabled and (input._rg or weight._rg or (bias is not None and bias._rg)):
        return record(Linear, out, dev, (input, weight, bias), (save(input), save(weight),
                                                                 save(bias) if bias is not None else None))
    return _make(out, dev)


def _rows(xd):
    n = 1
    for s in xd.shape[:-1]:
        n *= s
    return (n, xd.shape[-1])


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y_k = x1^T W_k x2 + b_k`` (composite: einsum carries the gradient)."""
    from ...ops.linalg import einsum
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear(): input batch dimensions do not match: got {tuple(input1.shape[:-1])} "
                           f"and {tuple(input2.shape[:-1])}")
    out = einsum("...i,kij,...j->...k", input1, weight, input2)
    return out + bias if bias is not None else out


# ---- dropout ---------------------------------------------------------------------------------
def _keep_mask(input: Tensor, p: float, shape) -> Tensor:
    """A constant tensor of 0 and 1/(1-p) (kept with probability 1-p), from the device's generator."""
    from ...ops.random import _draw
    npdt = input._data.dtype
    xp = input._device.xp
    u = _draw(None, input._device, lambda rng, xp: rng.random(size=shape, dtype=npdt if npdt.itemsize >= 4 else None))
    # One pass, in the input's dtype (a float64 temporary would cost more than the draw itself).
    return _make(xp.multiply(u >= p, npdt.type(1.0 / (1.0 - p)), dtype=npdt), input._device)


def _check_p(p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _apply_mask(input: Tensor, mask: Tensor, inplace: bool) -> Tensor:
    if inplace:
        return input.mul_(mask)
    return input * mask


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1/(1-p)`` (training only)."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input.mul_(0) if inplace else input * 0
    return _apply_mask(input, _keep_mask(input, p, input._data.shape), inplace)


def _feature_dropout(input: Tensor, p: float, training: bool, inplace: bool, batched: bool) -> Tensor:
    """Zero whole channels: one draw per (N, C) entry of a batched input, per C of an unbatched one
    (PyTorch's feature dropout, the kernel behind dropout1d/2d/3d)."""
    _check_p(p)
    nd = input.dim()
    if nd + (not batched) < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input.mul_(0) if inplace else input * 0
    lead = 2 if batched else 1
    shape = input.shape[:lead] + (1,) * (nd - lead)
    return _apply_mask(input, _keep_mask(input, p, shape), inplace)


def _channel_note(name: str, spatial: int) -> str:
    return (f"Note that {name} exists to provide channel-wise dropout on inputs with {spatial} spatial "
            f"dimension{'s' if spatial > 1 else ''}, a channel dimension, and an optional batch dimension "
            f"(i.e. {spatial + 1}D or {spatial + 2}D inputs).")


def _deprecated_rank(name: str, spatial: int, nd: int) -> None:
    warnings.warn(f"{name}: Received a {nd}-D input to {name}, which is deprecated and will result in an error "
                  "in a future release. To retain the behavior and silence this warning, please use dropout "
                  f"instead. {_channel_note(name, spatial)}", stacklevel=3)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, L) or (C, L) inputs."""
    nd = input.dim()
    if nd not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {nd}D input. "
                           + _channel_note("dropout1d", 1))
    return _feature_dropout(input, p, training, inplace, batched=nd == 3)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, H, W) inputs.

    As in PyTorch, other ranks are accepted with a warning and read as batched (N, C, ...): a 3-D
    input is (N, C, L), a 2-D input (N, C) drops single elements.
    """
    nd = input.dim()
    if nd not in (3, 4):
        _deprecated_rank("dropout2d", 2, nd)
    if nd == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                      "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel dim. "
                      "This behavior will change in a future release to interpret the input as one without a "
                      "batch dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, "
                      "please switch to using dropout1d instead.", stacklevel=2)
    return _feature_dropout(input, p, training, inplace, batched=True)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) inputs (other ranks: a warning, and
    read as unbatched, as in PyTorch)."""
    nd = input.dim()
    if nd not in (4, 5):
        _deprecated_rank("dropout3d", 3, nd)
    return _feature_dropout(input, p, training, inplace, batched=nd == 5)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Dropout that keeps SELU's self-normalising mean and variance."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    alpha = -1.7580993408473766
    keep = _keep_mask(input, p, input._data.shape) * (1 - p)  # 0/1 mask
    a = ((1 - p) * (1 + p * alpha ** 2)) ** -0.5
    b = -a * alpha * p
    out = (input * keep + alpha * (1 - keep)) * a + b
    return input.copy_(out) if inplace else out


# ---- embedding -------------------------------------------------------------------------------
class Embedding(Op):
    """Row lookup; the weight gradient accumulates rows (repeated indices add up)."""

    @staticmethod
    def forward(ctx, xp, indices, weight, padding_idx, scale_grad_by_freq):
        ctx.save_for_backward(indices)
        ctx.num_weights, ctx.padding_idx, ctx.scale = weight.shape[0], padding_idx, scale_grad_by_freq
        return weight[indices]

    @staticmethod
    def backward(ctx, g):
        (indices,) = ctx.saved_tensors
        grad = EmbeddingWeightGrad.apply(g, indices, ctx.num_weights, ctx.padding_idx, ctx.scale)
        return None, grad, None, None


def _inverse_frequency(xp, flat, num_weights: int):
    """Per looked-up position, 1 / (how often its index occurs in the batch): scale_grad_by_freq."""
    return 1.0 / xp.bincount(flat, minlength=num_weights)[flat]


class EmbeddingWeightGrad(Op):
    """Scatter-add rows of ``g`` into a (num_weights, D) gradient (each row divided by its index's
    count in the batch with ``scale_grad_by_freq``); its own gradient is a lookup."""

    @staticmethod
    def forward(ctx, xp, gd, indices, num_weights, padding_idx, scale):
        ctx.save_for_backward(indices)
        ctx.padding_idx, ctx.num_weights, ctx.scale = padding_idx, num_weights, scale
        dim = gd.shape[-1]
        flat = indices.reshape(-1)
        rows = gd.reshape(-1, dim)
        if scale:
            rows = rows * _inverse_frequency(xp, flat, num_weights).astype(gd.dtype)[:, None]
        out = xp.zeros((num_weights, dim), dtype=gd.dtype)
        xp.add.at(out, flat, rows)
        if padding_idx is not None:
            out[padding_idx] = 0
        return out

    @staticmethod
    def backward(ctx, gg):
        (indices,) = ctx.saved_tensors
        if ctx.padding_idx is not None:
            gg = gg.clone()
            gg[ctx.padding_idx] = 0
        looked_up = embedding(indices, gg)
        if ctx.scale:
            d = indices._data
            inv = _inverse_frequency(xp_of(indices), d.reshape(-1), ctx.num_weights).reshape(d.shape + (1,))
            looked_up = looked_up * _make(inv.astype(gg._data.dtype), gg._device)
        return looked_up, None, None, None, None


def _normalize_padding_idx(padding_idx, num_embeddings: int):
    if padding_idx is None:
        return None
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise AssertionError("Padding_idx must be within num_embeddings")
    return padding_idx + num_embeddings if padding_idx < 0 else padding_idx


def _renorm_(weight: Tensor, indices: Tensor, max_norm: float, norm_type: float) -> None:
    # Rows looked up are rescaled in place to norm <= max_norm (PyTorch does this without grad).
    xp = weight._device.xp
    rows = xp.unique(indices._data.reshape(-1))
    w = weight._data
    norms = xp.linalg.norm(w[rows].astype(xp.float64), ord=norm_type, axis=1)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
    w[rows] = (w[rows] * scale[:, None]).astype(w.dtype)


def _check_indices(input: Tensor, num_embeddings: int) -> None:
    d = input._data
    if d.dtype.kind not in "iu":
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got {input.dtype} instead (while checking arguments for embedding)")
    if d.size and (int(d.max()) >= num_embeddings or int(d.min()) < 0):
        bad = int(d.max()) if int(d.max()) >= num_embeddings else int(d.min())
        raise IndexError(f"index {bad} is out of range for an embedding with {num_embeddings} rows")


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Look up rows of ``weight`` by the integer ``input`` (any shape); output ``input.shape + (D,)``.

    ``sparse=True`` gives the dense gradient (Ember has no sparse tensors): the same values, and
    ``optim.SparseAdam`` still updates only the rows that were looked up.
    """
    num = weight._data.shape[0]
    _check_indices(input, num)
    if max_norm is not None:
        _renorm_(weight, input, max_norm, norm_type)
    if scale_grad_by_freq and sparse and weight._rg:
        raise RuntimeError("embedding_backward: scale_grad_by_freq not supported with sparse gradients")
    # sparse=True: Ember has no sparse tensors, so the gradient is the equivalent dense one (the rows
    # not looked up are zero); optim.SparseAdam updates only the rows a lookup touched.
    return Embedding.apply(input, weight, _normalize_padding_idx(padding_idx, num), bool(scale_grad_by_freq))


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None, max_norm=None, norm_type=2,
                  scale_grad_by_freq=False, mode: str = "mean", sparse=False, per_sample_weights=None,
                  include_last_offset: bool = False, padding_idx: int | None = None) -> Tensor:
    """Sums, means or maxima of bags of embeddings: rows of a 2-D ``input``, or 1-D ``input`` split at ``offsets``."""
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"mode has to be one of sum, mean or max, got {mode!r}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights is only supported for mode='sum' (got mode='{mode}')")
    num = weight._data.shape[0]
    padding_idx = _normalize_padding_idx(padding_idx, num)
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None")
        bags, length = input.shape
        positions = input.reshape(-1)
        bag_ids = np.repeat(np.arange(bags), length)
    elif input.dim() == 1:
        if offsets is None or offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        off = offsets._host().astype(np.int64)
        if include_last_offset:
            off = off[:-1]
        bags = len(off)
        positions = input
        bag_ids = np.searchsorted(off, np.arange(input.shape[0]), side="right") - 1
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}")
    _check_indices(positions, num)
    rows = embedding(positions, weight, None, max_norm, norm_type)
    if padding_idx is not None:
        bag_ids = np.where(positions._host() == padding_idx, -1, bag_ids)
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.reshape(-1, 1)
    counts = np.bincount(bag_ids[bag_ids >= 0], minlength=bags)
    if mode == "max":
        return _bag_max(rows, bag_ids, counts, bags)
    out = SegmentSum.apply(rows, bag_ids, bags)
    if mode == "mean":
        out = out / rows.new_tensor(np.maximum(counts, 1)[:, None])
    return out


class SegmentSum(Op):
    """Sum rows into segments by id (id -1: row left out); the gradient gathers rows back."""

    @staticmethod
    def forward(ctx, xp, rd, seg_ids, segments):
        ctx.seg_ids = seg_ids
        keep = seg_ids >= 0
        out = xp.zeros((segments,) + rd.shape[1:], dtype=rd.dtype)
        xp.add.at(out, xp.asarray(seg_ids[keep]), rd[xp.asarray(keep)])
        return out

    @staticmethod
    def backward(ctx, g):
        return GatherSegments.apply(g, ctx.seg_ids), None, None


class GatherSegments(Op):
    """Row ``i`` of the result is row ``seg_ids[i]`` of ``g`` (zero where the id is -1)."""

    @staticmethod
    def forward(ctx, xp, g, seg_ids):
        ctx.seg_ids, ctx.segments = seg_ids, g.shape[0]
        ids = xp.asarray(seg_ids)
        out = g[xp.maximum(ids, 0)]
        out[ids < 0] = 0
        return out

    @staticmethod
    def backward(ctx, gg):
        return SegmentSum.apply(gg, ctx.seg_ids, ctx.segments), None


def _bag_max(rows: Tensor, bag_ids, counts, bags: int) -> Tensor:
    """Per-bag maximum: pad each bag to the longest with -inf rows, then reduce the padded axis."""
    from ...ops.creation import tensor as _tensor
    from ...ops.shape import cat
    dim = rows.shape[-1]
    kept = np.nonzero(bag_ids >= 0)[0]
    ids = bag_ids[kept]
    longest = max(int(counts.max()) if counts.size else 0, 1)
    # Bag ids are non-decreasing, so a row's slot in its bag is its distance from the bag's first row.
    slot = np.arange(len(ids)) - np.searchsorted(ids, ids, side="left")
    gather = np.full((bags, longest), len(bag_ids), dtype=np.int64)
    gather[ids, slot] = kept
    padded = cat([rows, _make(rows._device.xp.full((1, dim), -np.inf, rows._data.dtype), rows._device)])
    out = padded[_tensor(gather.reshape(-1), device=rows.device)].reshape(bags, longest, dim).amax(1)
    return out.masked_fill(_tensor((counts == 0)[:, None], device=rows.device), 0.0)


# ---- one_hot ---------------------------------------------------------------------------------
def one_hot(input: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot encoding of the class indices ``input`` (int64, any shape): a new last dimension of
    ``num_classes`` (one more than the largest index when -1).

    >>> F.one_hot(ember.tensor([0, 2]), 3)   # tensor([[1, 0, 0], [0, 0, 1]])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"one_hot(): argument 'input' must be Tensor, not {type(input).__name__}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise TypeError(f"one_hot(): argument 'num_classes' must be int, not {type(num_classes).__name__}")
    d = input._data
    if d.dtype != np.int64:
        raise RuntimeError(f"one_hot is only applicable to index tensor of type LongTensor (got {input.dtype}).")
    xp = input._device.xp
    if d.size == 0:
        if num_classes <= 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        return _make(xp.zeros(d.shape + (int(num_classes),), np.int64), input._device)
    if int(d.min()) < 0:
        raise RuntimeError("Class values must be non-negative.")
    largest = int(d.max())
    if num_classes == -1:
        num_classes = largest + 1
    elif num_classes <= largest:
        raise RuntimeError(f"Class values must be smaller than num_classes (got class {largest} with "
                           f"num_classes={num_classes}).")
    return _make((d[..., None] == xp.arange(num_classes)).astype(np.int64), input._device)


# ---- distances ---------------------------------------------------------------------------------
def _clamp_min_keep_grad(norm: Tensor, eps: float) -> Tensor:
    """``max(norm, eps)`` whose gradient is the gradient of ``norm`` everywhere: PyTorch clamps the
    norms of cosine_similarity in place without recording it."""
    detached = norm.detach()
    small = detached < eps
    return E.where(small, (norm - detached) + eps, norm) if bool(small._data.any()) else norm


def _check_pair(name: str, x1, x2) -> None:
    for arg, x in (("x1", x1), ("x2", x2)):
        if not isinstance(x, Tensor):
            raise TypeError(f"{name}(): argument '{arg}' must be Tensor, not {type(x).__name__}")
    broadcast_shapes(x1.shape, x2.shape)   # a RuntimeError naming the shapes when they don't broadcast


def _float_operands(x1: Tensor, x2: Tensor):
    """Integer and bool inputs converted to the pair's floating-point result dtype. Floating-point
    inputs keep their own dtype (PyTorch normalises each in its own precision before they meet)."""
    r = dt.result_type(x1, x2)
    if not r.is_floating_point:
        raise RuntimeError(f"expected common dtype to be floating point, yet common dtype is {_TORCH_NAMES[r.name]}")
    return (x1 if x1.is_floating_point() else x1.to(r)), (x2 if x2.is_floating_point() else x2.to(r))


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Cosine of the angle between ``x1`` and ``x2`` along ``dim`` (broadcast together).

    As in PyTorch, each input is divided by its own norm clamped to at least ``eps`` (so a zero vector
    gives 0, and large inputs cannot overflow), and the clamp does not change the gradient.

    >>> F.cosine_similarity(ember.tensor([[1., 0.]]), ember.tensor([[1., 1.]]))   # tensor([0.7071])
    """
    _check_pair("cosine_similarity", x1, x2)
    if eps < 0:
        raise RuntimeError(f"eps must be non-negative, got: {eps}")
    x1, x2 = broadcast_tensors(*_float_operands(x1, x2))
    n1 = _clamp_min_keep_grad(vector_norm(x1, 2, dim, keepdim=True), eps)
    n2 = _clamp_min_keep_grad(vector_norm(x2, 2, dim, keepdim=True), eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """The ``p``-norm of ``x1 - x2 + eps`` over the last dimension (inputs broadcast together).

    >>> F.pairwise_distance(ember.tensor([[0., 0.]]), ember.tensor([[3., 4.]]), eps=0)   # tensor([5.])
    """
    _check_pair("pairwise_distance", x1, x2)
    if isinstance(p, (bool, str)) or not isinstance(p, (int, float, np.number)):
        raise TypeError(f"pairwise_distance(): argument 'p' must be float, not {type(p).__name__}")
    diff = x1 - x2 + eps
    if not diff.is_floating_point():
        diff = diff.to(dt.get_default_dtype())   # integer inputs with an integer eps
    return vector_norm(diff, p, -1, keepdim)


__all__ += ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "embedding", "embedding_bag",
            "one_hot", "cosine_similarity", "pairwise_distance"]


# Published for op observers (graph capture, the profiler): see ember._op_hooks.
observe_namespace(globals(), __all__)
