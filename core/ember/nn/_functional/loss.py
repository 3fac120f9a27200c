"""Loss functions (the losses of PyTorch's ``torch.nn.functional``).

``cross_entropy`` with class-index targets is the hot path of classification training: one
fused node (stable log-sum-exp forward, ``softmax - target distribution`` backward done in a
couple of in-place array passes), which falls back to Ember ops when the backward itself is
being recorded (``create_graph=True``), so double backward works. ``binary_cross_entropy``
is fused too, for PyTorch's gradient formula at the clamped logs. The other losses are short
compositions of Ember ops (and of the stable ``logsigmoid``), whose gradients come for free.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ..._op_hooks import observe_namespace
from ..._tensor import Tensor, _make
from ...autograd.function import Op, device_mismatch
from ...autograd.grad_mode import STATE
from ...ops import elementwise as E
from ...ops._dispatch import as_array, record, save, xp_of
from ...ops.reduction import log_softmax
from .activation import logsigmoid
from .layers import pairwise_distance

__all__ = [
    "l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "kl_div", "cosine_embedding_loss", "margin_ranking_loss",
    "triplet_margin_loss", "poisson_nll_loss", "gaussian_nll_loss", "soft_margin_loss", "hinge_embedding_loss",
    "multilabel_soft_margin_loss",
]

_REDUCTIONS = ("none", "mean", "sum")


# ---------------------------------------------------------------------------------------
# Reductions
# ---------------------------------------------------------------------------------------
def legacy_reduction(size_average, reduce) -> str:
    """The ``reduction`` meant by PyTorch's deprecated ``size_average``/``reduce`` pair (with its warning)."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{ret}' instead.",
                  stacklevel=3)
    return ret


def _reduction(size_average, reduce, reduction: str, allowed=_REDUCTIONS) -> str:
    if size_average is not None or reduce is not None:
        return legacy_reduction(size_average, reduce)
    if reduction not in allowed:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _reciprocal(xp, denom):
    """``1 / denom`` as an array, NaN for 0 (a mean over nothing is NaN, as in PyTorch), no warning."""
    with np.errstate(divide="ignore"):
        return as_array(xp.where(denom == 0, np.nan, 1 / denom))


def _check_tensor(name: str, **tensors) -> None:
    for arg, t in tensors.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}(): argument '{arg}' must be Tensor, not {type(t).__name__}")


def _same_device(name: str, input: Tensor, *others) -> None:
    for t in others:
        if t is not None and t._device is not input._device:
            raise device_mismatch(name, input._device, t._device)


# ---------------------------------------------------------------------------------------
# Element-wise regression losses
# ---------------------------------------------------------------------------------------
def _elementwise_loss(name: str, fn, input: Tensor, target: Tensor, reduction: str, weight=None,
                      weighted_mean: bool = True) -> Tensor:
    """``fn(input - target)``, optionally weighted, reduced. Different shapes broadcast, with
    PyTorch's warning."""
    _check_tensor(name, input=input, target=target)
    if target.shape != input.shape:
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size "
                      f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
                      "Please ensure they have the same size.", stacklevel=3)
    loss = fn(input - target)
    if weight is None:
        return _reduce(loss, reduction)
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "mean" and weighted_mean:
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
             weight: Tensor | None = None) -> Tensor:
    """Mean squared error ``(input - target)^2`` (a weighted mean when ``weight`` is given)."""
    return _elementwise_loss("mse_loss", lambda d: d * d, input, target,
                             _reduction(size_average, reduce, reduction), weight)


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
            weight: Tensor | None = None) -> Tensor:
    """Mean absolute error ``|input - target|`` (a weighted mean when ``weight`` is given)."""
    return _elementwise_loss("l1_loss", lambda d: d.abs(), input, target,
                             _reduction(size_average, reduce, reduction), weight)


def _smooth_l1(d: Tensor, beta: float) -> Tensor:
    ad = d.abs()
    if beta == 0:
        return ad
    return E.where(ad < beta, d * d * (0.5 / beta), ad - 0.5 * beta)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - beta / 2`` (``d = input - target``)."""
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    return _elementwise_loss("smooth_l1_loss", lambda d: _smooth_l1(d, beta), input, target,
                             _reduction(size_average, reduce, reduction))


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """``0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - delta / 2)`` (= delta * smooth_l1 with beta=delta)."""
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")

    def fn(d):
        ad = d.abs()
        return E.where(ad < delta, d * d * 0.5, ad * delta - 0.5 * delta * delta)
    return _elementwise_loss("huber_loss", fn, input, target, _reduction(None, None, reduction), weight,
                             weighted_mean=False)


# ---------------------------------------------------------------------------------------
# Class-index targets (nll_loss, cross_entropy)
# ---------------------------------------------------------------------------------------
def _batched(input: Tensor, target: Tensor):
    """An unbatched ``(C,)`` input with a 0-d target as a batch of one; ``(input, target, unbatched)``."""
    if input.ndim == 0:
        raise RuntimeError("input tensor should be 1D or more (got a 0-d tensor)")
    if input.ndim == 1:
        if target.ndim != 0:
            raise RuntimeError(f"0D target tensor expected for a 1D input, got target of shape {list(target.shape)}")
        return input.reshape(1, input.shape[0]), target.reshape(1), True
    return input, target, False


def _class_targets(name: str, input: Tensor, target: Tensor, weight, ignore_index: int):
    """Check class-index ``target`` against an ``(N, C, d1, ...)`` input.

    Returns arrays ``idx`` (N, 1, d1, ...) of class indices (0 at ignored positions), ``valid``
    (N, d1, ...) bool and ``wt`` (N, d1, ...) the weight of each position's target (0 where ignored),
    in the input's dtype.
    """
    if target._data.dtype not in (np.int64, np.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte (int64 or uint8), but got {target.dtype}")
    n, c = input.shape[0], input.shape[1]
    if target.ndim != input.ndim - 1 and input.ndim == 2:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if target.ndim == 0 or target.shape[0] != n:
        raise ValueError(f"Expected input batch_size ({n}) to match target batch_size "
                         f"({target.shape[0] if target.ndim else 0}).")
    if tuple(target.shape) != (n,) + tuple(input.shape[2:]):
        raise RuntimeError(f"size mismatch (got input: {list(input.shape)}, target: {list(target.shape)})")
    _same_device(name, input, target, weight)
    xp = xp_of(input)
    t = target._data
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= c)) if t.dtype.kind == "i" else valid & (t >= c)
    if bad.any():
        raise IndexError(f"Target {int(t[bad].reshape(-1)[0])} is out of bounds.")
    idx = xp.where(valid, t, 0).astype(np.int64, copy=False)
    dtype = input._data.dtype
    if weight is None:
        wt = valid.astype(dtype)
    else:
        _check_weight(name, weight, c)
        wt = weight._data.astype(dtype, copy=False)[idx] * valid
    return idx.reshape(idx.shape[:1] + (1,) + idx.shape[1:]), valid, wt


def _check_weight(name: str, weight: Tensor, c: int) -> None:
    if weight.ndim != 1 or weight.shape[0] != c:
        raise RuntimeError(f"weight tensor should be defined either for all {c} classes or no classes but got "
                           f"weight tensor of shape: {list(weight.shape)}")
    if weight._rg and STATE.enabled:
        raise RuntimeError(f"{name} is not differentiable with respect to argument 'weight'. This input cannot "
                           "have requires_grad True.")


def _class_reduce(loss: Tensor, wt, reduction: str, unbatched: bool) -> Tensor:
    """Reduce per-position losses; ``mean`` divides by the total weight of the non-ignored targets."""
    if reduction == "none":
        return loss.reshape(()) if unbatched else loss
    total = loss.sum()
    if reduction == "sum":
        return total
    return total * _make(_reciprocal(xp_of(loss), wt.sum()), loss._device)


def _float_input(name: str, input: Tensor) -> None:
    if input._data.dtype.kind != "f":
        raise RuntimeError(f'"{name}" not implemented for \'{input.dtype}\' (expected a floating-point input)')


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class-index ``target`` under log-probabilities ``input``
    ``(N, C, d1, ...)`` or ``(C,)``: ``-weight[t] * input[n, t]``, with ``ignore_index`` skipped
    and ``mean`` dividing by the summed weights of the counted targets."""
    _check_tensor("nll_loss", input=input, target=target)
    reduction = _reduction(size_average, reduce, reduction)
    _float_input("nll_loss", input)
    x, t, unbatched = _batched(input, target)
    idx, _, wt = _class_targets("nll_loss", x, t, weight, ignore_index)
    picked = x.gather(1, _make(idx, x._device)).squeeze(1)
    loss = -picked * _make(wt, x._device)
    return _class_reduce(loss, wt, reduction, unbatched)


class CrossEntropy(Op):
    """Fused ``log_softmax`` + weighted, label-smoothed NLL over class indices.

    Each position's loss is ``-sum_c q_c log p_c`` with the target distribution
    ``q = (1 - eps) w_t onehot(t) + (eps / C) w`` (0 at ignored positions), so the gradient with
    respect to the logits is ``s (p sum(q) - q)`` where ``s`` is the incoming gradient (divided by
    the total weight for ``mean``).
    """

    @staticmethod
    def backward(ctx, g):
        x, p = ctx.saved_tensors
        s = g if ctx.reduction != "none" else g.reshape(ctx.pos_shape)
        if ctx.inv_denom is not None:
            s = s * _make(ctx.inv_denom, g._device)
        eps, c = ctx.eps, ctx.classes
        hard = ctx.wt * (1 - eps)                              # weight of the target class (N, d...)
        soft = None if not eps else ctx.valid * (eps / c)      # weight of every class, times w_c
        total = hard if soft is None else hard + soft * ctx.wsum
        expand = (slice(None), None)                           # (N, d...) -> (N, 1, d...)
        if STATE.enabled:
            # create_graph: the same formula in Ember ops (softmax recomputed as a graph op).
            q = (_make(_onehot(xp_of(x), ctx.idx, c, hard.dtype), x._device)
                 * _make(hard[expand], x._device))
            if soft is not None:
                q = q + _make(soft[expand] * ctx.wrow, x._device)
            grad = (x.reshape(ctx.shape).softmax(1) * _make(total[expand], x._device) - q) * s
            return grad.reshape(x.shape), None
        xp = xp_of(p)
        sd = s._data
        # The softmax inherits the memory layout of the logits (NumPy keeps a permuted input's
        # order), so force C order: the flat write below must land in ``grad`` itself, not a copy.
        grad = xp.ascontiguousarray(p._data * (total[expand] * sd))
        flat = _flat_index(xp, grad.shape, ctx.idx)
        grad.reshape(-1)[flat] -= (hard * sd.reshape(sd.shape[:1] + sd.shape[2:]) if sd.ndim else hard * sd)
        if soft is not None:
            grad -= (soft[expand] * sd) * ctx.wrow
        return _make(grad.reshape(x.shape), x._device), None


def _onehot(xp, idx, c: int, dtype):
    """(N, C, d...) one-hot array from (N, 1, d...) class indices."""
    classes = xp.arange(c).reshape((1, c) + (1,) * (idx.ndim - 2))
    return (classes == idx).astype(dtype)


def _flat_index(xp, shape, idx):
    """Flat (C-order) positions in an (N, C, d...) array of the elements picked by (N, 1, d...) indices."""
    n, c = shape[0], shape[1]
    inner = int(np.prod(shape[2:], dtype=np.int64))
    base = (xp.arange(n) * (c * inner)).reshape((n,) + (1,) * (len(shape) - 2)) + \
        xp.arange(inner).reshape(shape[2:])
    return base + idx[:, 0] * inner


def _cross_entropy_indices(input, target, weight, ignore_index, reduction, eps):
    x, t, unbatched = _batched(input, target)
    idx, valid, wt = _class_targets("cross_entropy", x, t, weight, ignore_index)
    xp = xp_of(x)
    d = x._data
    work = d.astype(np.float32) if d.itemsize < 4 else d   # half precision: log-sum-exp in float32
    if work is not d:
        wt = wt.astype(np.float32)
    c = d.shape[1]
    m = work.max(axis=1, keepdims=True) if work.size else xp.zeros(work.shape[:1] + (1,) + work.shape[2:], work.dtype)
    m = xp.where(xp.isfinite(m), m, 0)                      # rows of -inf/inf: no shift (NaN, as PyTorch)
    e = work - m
    xp.exp(e, out=e)
    se = e.sum(axis=1, keepdims=True)
    lse = xp.log(se)
    lse += m
    loss = lse - xp.take_along_axis(work, idx, axis=1)
    loss = loss[:, 0] * (wt * (1 - eps) if eps else wt)
    wrow = wsum = None
    if eps:
        # sum_c w_c (lse - x_c) at each counted position
        if weight is None:
            wrow, wsum = 1.0, float(c)
            smooth = lse[:, 0] * c - work.sum(axis=1)
        else:
            wrow = weight._data.astype(work.dtype).reshape((1, c) + (1,) * (d.ndim - 2))
            wsum = wrow.sum()
            smooth = lse[:, 0] * wsum - (work * wrow).sum(axis=1)
        loss += smooth * (valid * (eps / c))
    inv_denom = None
    if reduction == "sum":
        loss = as_array(loss.sum())
    elif reduction == "mean":
        inv_denom = _reciprocal(xp, wt.sum())
        loss = as_array(loss.sum() * inv_denom)
    elif unbatched:
        loss = loss.reshape(())
    loss = loss.astype(d.dtype, copy=False)
    if not (input._rg and STATE.enabled):
        return _make(loss, x._device)
    e /= se                                                 # the softmax, kept for backward
    res = record(CrossEntropy, loss, x._device, (input, target), (save(input), e))
    res.grad_fn.__dict__.update(reduction=reduction, pos_shape=x.shape[:1] + (1,) + x.shape[2:], shape=x.shape,
                                inv_denom=inv_denom, eps=eps, classes=c, idx=idx, valid=valid, wt=wt,
                                wrow=wrow, wsum=wsum)
    return res


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                  ignore_index: int = -100, reduce=None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Cross entropy between logits ``input`` ``(N, C, d1, ...)`` (or ``(C,)``) and ``target``:
    class indices ``(N, d1, ...)`` (int64), or class probabilities of the input's shape.

    ``weight`` rescales each class; ``ignore_index`` (class indices only) marks positions that
    count for nothing, and ``mean`` then divides by the summed weights of the counted targets;
    ``label_smoothing`` mixes the target with the uniform distribution.
    """
    _check_tensor("cross_entropy", input=input, target=target)
    reduction = _reduction(size_average, reduce, reduction)
    _float_input("cross_entropy", input)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if target.shape == input.shape and target.is_floating_point():
        return _cross_entropy_probs(input, target, weight, ignore_index, reduction, label_smoothing)
    return _cross_entropy_indices(input, target, weight, ignore_index, reduction, float(label_smoothing))


def _cross_entropy_probs(input, target, weight, ignore_index, reduction, eps):
    """Class-probability targets: ``-sum_c w_c q_c log_softmax(x)_c``, ``q`` the smoothed target."""
    if ignore_index != -100:
        raise RuntimeError("ignore_index is not supported for floating point target")
    _same_device("cross_entropy", input, target, weight)
    dim = 1 if input.ndim > 1 else 0
    c = input.shape[dim]
    q = target * (1 - eps) + eps / c if eps else target
    if weight is not None:
        _check_weight("cross_entropy", weight, c)
        q = q * weight.reshape((c,) + (1,) * (input.ndim - dim - 1))
    return _reduce(-(log_softmax(input, dim) * q).sum(dim), reduction)


# ---------------------------------------------------------------------------------------
# Binary cross entropy
# ---------------------------------------------------------------------------------------
class BinaryCrossEntropy(Op):
    """``-(y log x + (1 - y) log(1 - x))`` with both logs clamped to >= -100 (as PyTorch), and
    PyTorch's gradient ``(x - y) / max(x (1 - x), 1e-12)`` (finite at x = 0 and 1)."""

    @staticmethod
    def forward(ctx, xp, xd, y):
        with np.errstate(divide="ignore"):
            log_x = xp.maximum(xp.log(xd), -100)
            log_1mx = xp.maximum(xp.log(1 - xd), -100)
        ctx.save_for_backward(xd, y)
        return as_array(-(y * (log_x - log_1mx) + log_1mx))

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        e = ctx.needs_input_grad
        gx = gy = None
        if e[0]:
            gx = g * (x - y) / ((1 - x) * x).clamp_min(1e-12)
        if e[1]:
            with np.errstate(divide="ignore"):
                gy = g * ((1 - x).log().clamp_min(-100) - x.log().clamp_min(-100))
        return gx, gy


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """Binary cross entropy between probabilities ``input`` (in [0, 1]) and ``target``."""
    _check_tensor("binary_cross_entropy", input=input, target=target)
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input size "
                         f"({input.shape}) is deprecated. Please ensure they have the same size.")
    _float_input("binary_cross_entropy", input)
    _same_device("binary_cross_entropy", input, target, weight)
    xd = input._data
    if bool(((xd < 0) | (xd > 1)).any()):
        raise RuntimeError("all elements of input should be between 0 and 1")
    loss = BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average=None, reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """``binary_cross_entropy(sigmoid(input), target)`` computed stably from the logits;
    ``pos_weight`` scales the positive term (broadcast over the last, class, dimension)."""
    _check_tensor("binary_cross_entropy_with_logits", input=input, target=target)
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    _same_device("binary_cross_entropy_with_logits", input, target, weight, pos_weight)
    # -(pw y log s(x) + (1 - y) log s(-x)) with log s(-x) = log s(x) - x
    log_sig = logsigmoid(input)
    if pos_weight is None:
        loss = (1 - target) * input - log_sig
    else:
        loss = (1 - target) * input - ((pos_weight - 1) * target + 1) * log_sig
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


# ---------------------------------------------------------------------------------------
# Divergences and likelihoods
# ---------------------------------------------------------------------------------------
def _xlogx(t: Tensor) -> Tensor:
    """``t log t`` with ``0 log 0 = 0`` (the log only ever sees positive values: no -inf, no NaN gradient)."""
    return t * E.where(t > 0, t, 1.0).log()


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """KL divergence ``target * (log target - input)`` with ``input`` log-probabilities (and
    ``target`` too when ``log_target``). ``reduction="batchmean"`` divides the sum by the batch size."""
    _check_tensor("kl_div", input=input, target=target)
    reduction = _reduction(size_average, reduce, reduction, _REDUCTIONS + ("batchmean",))
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      stacklevel=2)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = _xlogx(target) - target * input
    if reduction == "batchmean":
        total = loss.sum()
        return total / input.shape[0] if input.ndim else total
    return _reduce(loss, reduction)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None, reduction: str = "mean") -> Tensor:
    """Poisson negative log-likelihood: ``exp(input) - target * input`` (``log_input``) or
    ``input - target * log(input + eps)``; ``full`` adds Stirling's term where ``target > 1``."""
    _check_tensor("poisson_nll_loss", input=input, target=target)
    reduction = _reduction(size_average, reduce, reduction)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        big = target > 1
        t = E.where(big, target, 1.0)   # Stirling's term only where target > 1 (and log never sees 0)
        stirling = _xlogx(t) - t + 0.5 * (t * (2 * math.pi)).log()
        loss = loss + E.where(big, stirling, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """Gaussian negative log-likelihood ``(log var + (input - target)^2 / var) / 2`` (+ log(2 pi)/2
    when ``full``). ``var`` has the input's shape, or one dimension of size 1 (or one fewer
    dimension) for a shared variance; it is clamped to ``eps`` without affecting its gradient."""
    _check_tensor("gaussian_nll_loss", input=input, target=target)
    if not isinstance(var, Tensor):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        from ...ops.creation import full_like
        var = full_like(input, float(var))
    if var.shape != input.shape:
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (input.ndim == var.ndim and
                  sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in _REDUCTIONS:
        raise ValueError(reduction + " is not valid")
    if bool((var._data < 0).any()):
        raise ValueError("var has negative entry/entries")
    var = var + (var.clamp_min(eps) - var).detach()   # the clamped value, with var's own gradient
    d = input - target
    loss = (d * d / var + var.log()) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


# ---------------------------------------------------------------------------------------
# Margin and embedding losses
# ---------------------------------------------------------------------------------------
def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0, size_average=None,
                          reduce=None, reduction: str = "mean") -> Tensor:
    """``1 - cos(x1, x2)`` for ``target == 1``; ``max(0, cos(x1, x2) - margin)`` for ``target == -1``."""
    _check_tensor("cosine_embedding_loss", input1=input1, input2=input2, target=target)
    reduction = _reduction(size_average, reduce, reduction)
    if target.ndim == 0:
        if input1.ndim != 1 or input2.ndim != 1:
            raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs with sizes "
                               f"{list(input1.shape)} and {list(input2.shape)}.")
    elif target.ndim == 1:
        if input1.ndim != 2 or input2.ndim != 2:
            raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with sizes "
                               f"{list(input1.shape)} and {list(input2.shape)}.")
    else:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    dim = input1.ndim - 1
    dot = (input1 * input2).sum(dim)
    norms = (((input1 * input1).sum(dim) + 1e-12) * ((input2 * input2).sum(dim) + 1e-12)).sqrt()
    cos = dot / norms
    loss = E.where(target == 1, 1 - cos, 0.0) + E.where(target == -1, (cos - margin).clamp_min(0.0), 0.0)
    return _reduce(loss, reduction)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0, size_average=None,
                        reduce=None, reduction: str = "mean") -> Tensor:
    """``max(0, -target * (input1 - input2) + margin)``."""
    _check_tensor("margin_ranking_loss", input1=input1, input2=input2, target=target)
    reduction = _reduction(size_average, reduce, reduction)
    if not input1.ndim == input2.ndim == target.ndim:
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                           f"input1: {input1.shape}, input2: {input2.shape}, target: {target.shape} ")
    return _reduce((-target * (input1 - input2) + margin).clamp_min(0.0), reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, size_average=None, reduce=None,
                        reduction: str = "mean") -> Tensor:
    """``max(0, margin + d(a, p) - d(a, n))`` with ``d`` the pairwise ``p``-distance; ``swap`` uses
    ``min(d(a, n), d(p, n))`` as the negative distance."""
    _check_tensor("triplet_margin_loss", anchor=anchor, positive=positive, negative=negative)
    reduction = _reduction(size_average, reduce, reduction)
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {anchor.ndim}D, positive {positive.ndim}D, and "
                           f"negative {negative.ndim}D inputs")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = E.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce((d_pos - d_neg + margin).clamp_min(0.0), reduction)


def soft_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """``log(1 + exp(-target * input))`` (computed stably)."""
    _check_tensor("soft_margin_loss", input=input, target=target)
    reduction = _reduction(size_average, reduce, reduction)
    return _reduce(-logsigmoid(target * input), reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average=None, reduce=None,
                         reduction: str = "mean") -> Tensor:
    """``input`` where ``target == 1``; ``max(0, margin - input)`` where ``target == -1``."""
    _check_tensor("hinge_embedding_loss", input=input, target=target)
    reduction = _reduction(size_average, reduce, reduction)
    loss = E.where(target != 1, (margin - input).clamp_min(0.0), 0.0) + E.where(target != -1, input, 0.0)
    return _reduce(loss, reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                                reduce=None, reduction: str = "mean") -> Tensor:
    """Per-class binary cross entropy on logits, averaged over the classes (the last dimension)."""
    _check_tensor("multilabel_soft_margin_loss", input=input, target=target)
    reduction = _reduction(size_average, reduce, reduction)
    # log s(-x) = log s(x) - x
    log_sig = logsigmoid(input)
    loss = (1 - target) * input - log_sig
    if weight is not None:
        loss = loss * weight
    dim = input.ndim - 1
    return _reduce(loss.sum(dim) / input.shape[dim], reduction)


# Published for op observers (graph capture, the profiler): see ember._op_hooks.
observe_namespace(globals(), __all__)
