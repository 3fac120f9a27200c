"""Attention: ``scaled_dot_product_attention`` and ``multi_head_attention_forward``.

The core is one fused node, ``Attention``: scores ``q k^T * scale`` (batched matrix products over all
batch and head dimensions at once), the mask, a numerically stable softmax (row maximum subtracted),
optional dropout on the probabilities, and the product with ``v``. Its backward is the closed form
``dS = P * (dP - rowsum(dP * P))``; for double backward the probabilities are recomputed with Ember
ops so that the backward is itself differentiable.

Rows whose every key is masked out give zeros from ``scaled_dot_product_attention`` (as PyTorch's),
and NaN weights from ``multi_head_attention_forward`` with ``need_weights=True`` (as PyTorch's).
"""
from __future__ import annotations

import math

import numpy as np

from ..._op_hooks import observe_namespace
from ..._tensor import Tensor, _make
from ...autograd.function import Op
from ...autograd.grad_mode import STATE

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]


class Attention(Op):
    """``softmax(q k^T * scale + mask) v`` with the softmax rows optionally dropped out.

    ``mask``: None, a bool tensor (True = may attend) or a float tensor added to the scores; any
    shape broadcastable to the scores. Returns ``out`` or, with ``need_weights``, ``(out, weights)``.
    """

    @staticmethod
    def forward(ctx, xp, q, k, v, mask, dropout_p, scale, need_weights, empty_rows_nan):
        s = xp.matmul(q, xp.swapaxes(k, -1, -2))
        s *= scale
        bool_mask = mask is not None and mask.dtype == np.bool_
        if mask is not None:
            md = mask
            shape = np.broadcast_shapes(s.shape, md.shape)
            if shape != s.shape:
                s = xp.broadcast_to(s, shape).copy()
            if bool_mask:
                xp.copyto(s, -xp.inf, where=~md)
            else:
                s += md
        p = _softmax_(xp, s, mask is not None, empty_rows_nan)
        keep = None
        if dropout_p > 0:
            keep = _dropout_scale(ctx._device, p.shape, p.dtype, dropout_p)
            pd = p * keep
        else:
            pd = p
        out = xp.matmul(pd, v)
        if any(ctx.needs_input_grad):
            # p and the dropout scale through save_for_backward: freed by backward, and p (returned as the
            # weights without dropout) is checked against in-place changes
            ctx.save_for_backward(q, k, v, mask, p, keep)
            ctx.scale, ctx.bool_mask = scale, bool_mask
        return (out, pd) if need_weights else out

    @staticmethod
    def backward(ctx, g, g_weights=None):
        q, k, v, mask, p, keep = ctx.saved_tensors
        e, scale = ctx.needs_input_grad, ctx.scale
        if STATE.enabled:  # create_graph: probabilities as a function of q, k (and a float mask)
            p = _softmax_ops(q, k, mask, scale, ctx.bool_mask)
        else:
            p = _make(p._data, q._device)  # a constant (the saved output of this node carries a grad_fn)
        pd = p if keep is None else p * keep
        gv = pd.mT.matmul(g) if e[2] else None
        gpd = g.matmul(v.mT)
        if g_weights is not None:
            gpd = gpd + g_weights
        gp = gpd if keep is None else gpd * keep
        gs = p * (gp - (gp * p).sum(-1, keepdim=True))
        gq = gs.matmul(k) * scale if e[0] else None
        gk = gs.mT.matmul(q) * scale if e[1] else None
        gmask = gs if (mask is not None and not ctx.bool_mask and e[3]) else None
        return gq, gk, gv, gmask, None, None, None, None


def _softmax_(xp, s, masked: bool, empty_rows_nan: bool):
    """Softmax over the last axis of ``s`` in place (row maximum subtracted). Rows that are all
    ``-inf`` (everything masked) become 0, or NaN when ``empty_rows_nan``."""
    m = s.max(axis=-1, keepdims=True)
    dead = None
    if masked:
        dead = m == -xp.inf
        if dead.any():
            m[dead] = 0     # exp(-inf - 0) = 0: the row sums to 0
        else:
            dead = None
    s -= m
    xp.exp(s, out=s)
    denom = s.sum(axis=-1, keepdims=True)
    if dead is not None:
        denom[dead] = xp.nan if empty_rows_nan else 1
    s /= denom
    return s


def _softmax_ops(q, k, mask, scale, bool_mask):
    """The attention probabilities with Ember ops (differentiable), matching ``_softmax_``."""
    s = q.matmul(k.mT) * scale
    if mask is not None:
        s = s.masked_fill(mask.logical_not(), float("-inf")) if bool_mask else s + mask
        m = s.detach().amax(-1, keepdim=True)
        m = m.masked_fill(~m.isfinite(), 0.0)
        ex = (s - m).exp()
        denom = ex.sum(-1, keepdim=True)
        return ex / denom.masked_fill(denom == 0, 1.0)
    return s.softmax(-1)


def _dropout_scale(device, shape, npdt, p: float):
    """Array of 0 and 1/(1-p) (kept with probability 1-p), from ``device``'s generator."""
    from ...ops.random import _draw
    if p >= 1:
        return device.xp.zeros(shape, npdt)
    u = _draw(None, device, lambda rng, xp: rng.random(size=shape, dtype=npdt if npdt.itemsize >= 4 else None))
    keep = u >= p
    return keep.astype(npdt) * npdt.type(1.0 / (1.0 - p))


def _check_qkv(query: Tensor, key: Tensor, value: Tensor) -> None:
    if query.dim() < 2 or key.dim() < 2 or value.dim() < 2:
        raise RuntimeError("Expected query, key, and value to all be  at least 2 dimensional, but got query.dim: "
                           f"{query.dim()} key.dim: {key.dim()} and value.dim: {value.dim()} instead.")
    if not (query.dtype == key.dtype == value.dtype):
        raise RuntimeError("Expected query, key, and value to have the same dtype, but got query.dtype: "
                           f"{query.dtype} key.dtype: {key.dtype} and value.dtype: {value.dtype} instead.")
    if not query.is_floating_point():
        raise RuntimeError(f"scaled_dot_product_attention: expected floating-point inputs, got {query.dtype}")
    if query.shape[-1] != key.shape[-1]:
        raise RuntimeError(f"scaled_dot_product_attention: query and key must have the same embedding size, got "
                           f"{query.shape[-1]} and {key.shape[-1]}")
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"scaled_dot_product_attention: key and value must have the same sequence length, got "
                           f"{key.shape[-2]} and {value.shape[-2]}")


def _causal_keep(L: int, S: int, device) -> Tensor:
    """Bool (L, S): position i may attend to keys 0..i (top-left aligned, as PyTorch's is_causal)."""
    return _make(device.xp.asarray(np.tri(L, S, dtype=np.bool_)), device)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """``softmax(query key^T * scale + mask) value`` over the last two dims, batched over the rest.

    ``attn_mask``: bool (True = may attend) or float (added to the scores), broadcastable to
    ``(..., L, S)``; ``is_causal`` (instead of a mask) lets position i attend only to keys ``<= i``;
    ``scale`` defaults to ``1/sqrt(E)``; ``dropout_p`` drops attention probabilities (always, when
    > 0: pass ``dropout_p=0`` in evaluation). With ``enable_gqa`` key/value heads (dim -3) are shared
    by groups of query heads. Fully masked rows give zeros.
    """
    _check_qkv(query, key, value)
    if not 0.0 <= dropout_p <= 1.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    if enable_gqa and query.dim() >= 3 and key.shape[-3] != query.shape[-3]:
        if query.shape[-3] % key.shape[-3]:
            raise RuntimeError(f"enable_gqa: the number of query heads ({query.shape[-3]}) must be a multiple of "
                               f"the number of key/value heads ({key.shape[-3]})")
        rep = query.shape[-3] // key.shape[-3]
        key, value = key.repeat_interleave(rep, -3), value.repeat_interleave(rep, -3)
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")
    mask = _canonical_sdpa_mask(attn_mask, query)
    if is_causal:
        mask = _causal_keep(query.shape[-2], key.shape[-2], query._device)
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1])
    return Attention.apply(query, key, value, mask, float(dropout_p), float(scale), False, False)


def _canonical_sdpa_mask(attn_mask, query):
    if attn_mask is None:
        return None
    if attn_mask.dtype.is_floating_point:
        return attn_mask if attn_mask.dtype == query.dtype else attn_mask.to(query.dtype)
    if attn_mask.dtype.name != "bool":
        raise RuntimeError("Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                           f"attn_mask.dtype: {attn_mask.dtype} and  query.dtype: {query.dtype} instead.")
    return attn_mask


# ---- multi-head attention --------------------------------------------------------------------
def _additive(mask: Tensor | None, dtype) -> Tensor | None:
    """A bool mask (True = masked out, MultiheadAttention's convention) as 0 / -inf; float kept."""
    if mask is None:
        return None
    if mask.dtype.name == "bool":
        md = mask._data
        return _make(mask._device.xp.where(md, -np.inf, 0.0).astype(dtype.np), mask._device)
    if not mask.dtype.is_floating_point:
        raise AssertionError("only bool and floating types of attn_mask are supported")
    return mask.to(dtype)


def multi_head_attention_forward(query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int, num_heads: int,
                                 in_proj_weight: Tensor | None, in_proj_bias: Tensor | None, bias_k: Tensor | None,
                                 bias_v: Tensor | None, add_zero_attn: bool, dropout_p: float,
                                 out_proj_weight: Tensor, out_proj_bias: Tensor | None, training: bool = True,
                                 key_padding_mask: Tensor | None = None, need_weights: bool = True,
                                 attn_mask: Tensor | None = None, use_separate_proj_weight: bool = False,
                                 q_proj_weight: Tensor | None = None, k_proj_weight: Tensor | None = None,
                                 v_proj_weight: Tensor | None = None, static_k: Tensor | None = None,
                                 static_v: Tensor | None = None, average_attn_weights: bool = True,
                                 is_causal: bool = False):
    """PyTorch's functional multi-head attention on sequence-first inputs ``(L, N, E)`` (or unbatched
    ``(L, E)``). Returns ``(attn_output, attn_weights or None)``. Masks use MultiheadAttention's
    convention: bool True = *not* allowed; float = added to the scores."""
    return mha_forward(query, key, value, num_heads, in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                       dropout_p if training else 0.0, out_proj_weight, out_proj_bias, key_padding_mask,
                       need_weights, attn_mask, (q_proj_weight, k_proj_weight, v_proj_weight)
                       if use_separate_proj_weight else None, average_attn_weights, is_causal, batch_first=False,
                       embed_dim_to_check=embed_dim_to_check, static_kv=(static_k, static_v))


def mha_forward(query, key, value, num_heads, in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn, dropout_p,
                out_proj_weight, out_proj_bias, key_padding_mask, need_weights, attn_mask, separate_weights,
                average_attn_weights, is_causal, batch_first, embed_dim_to_check=None, static_kv=(None, None)):
    """Multi-head attention on ``(N, L, E)`` inputs when ``batch_first`` (``(L, N, E)`` otherwise, or
    unbatched ``(L, E)``); all heads in one batched product, no per-head loops."""
    from ...ops.shape import cat
    from .layers import linear
    batched = _check_mha_shapes(query, key, value, key_padding_mask, num_heads, embed_dim_to_check)
    self_attention = query is key and key is value  # before the layout changes below make new tensors
    if not batched:
        query, key, value = query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    elif not batch_first:
        query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
    n, L, E = query.shape
    h = num_heads
    hd = E // h
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")

    # Projections: one product for self-attention, else per input.
    if separate_weights is None:
        w, b = in_proj_weight, in_proj_bias
        if self_attention:
            qkv = linear(query, w, b).reshape(n, L, 3, h, hd).permute(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            k_seq = v_seq = None
        else:
            bq, bk, bv = (None, None, None) if b is None else (b[:E], b[E:2 * E], b[2 * E:])
            q = linear(query, w[:E], bq)
            k_seq, v_seq = linear(key, w[E:2 * E], bk), linear(value, w[2 * E:], bv)
    else:
        wq, wk, wv = separate_weights
        b = in_proj_bias
        bq, bk, bv = (None, None, None) if b is None else (b[:E], b[E:2 * E], b[2 * E:])
        q, k_seq, v_seq = linear(query, wq, bq), linear(key, wk, bk), linear(value, wv, bv)
    if k_seq is not None:
        q = q.reshape(n, L, h, hd).transpose(1, 2)
    S = key.shape[1]
    if key_padding_mask is not None:
        if key_padding_mask.shape[0] != n:
            raise AssertionError(f"Expected key_padded_mask.shape[0] to be {n}, but got {key_padding_mask.shape[0]}")
        if key_padding_mask.shape[1] != S:
            raise AssertionError(f"Expected key_padded_mask.shape[1] to be {S}, but got {key_padding_mask.shape[1]}")

    attn_mask = _mha_attn_mask(attn_mask, n, h, L, S, query.dtype)
    kpm = _additive(key_padding_mask, query.dtype) if key_padding_mask is not None else None
    if bias_k is not None and bias_v is not None:
        if k_seq is None:  # self-attention fast path taken: rebuild the sequences for the bias rows
            k_seq = k.transpose(1, 2).reshape(n, -1, E)
            v_seq = v.transpose(1, 2).reshape(n, -1, E)
        k_seq = cat([k_seq, bias_k.reshape(1, 1, E).expand(n, 1, E)], 1)
        v_seq = cat([v_seq, bias_v.reshape(1, 1, E).expand(n, 1, E)], 1)
        attn_mask = _pad_last(attn_mask)
        kpm = _pad_last(kpm)
    if k_seq is not None:
        k = k_seq.reshape(n, -1, h, hd).transpose(1, 2)
        v = v_seq.reshape(n, -1, h, hd).transpose(1, 2)
    static_k, static_v = static_kv
    if static_k is not None:
        k = static_k.reshape(n, h, -1, hd)
    if static_v is not None:
        v = static_v.reshape(n, h, -1, hd)
    if add_zero_attn:
        zeros = k.new_zeros((n, h, 1, hd))
        k, v = cat([k, zeros], 2), cat([v, v.new_zeros((n, h, 1, hd))], 2)
        attn_mask = _pad_last(attn_mask)
        kpm = _pad_last(kpm)
    mask = attn_mask
    if kpm is not None:
        kpm = kpm.reshape(n, 1, 1, -1)
        mask = kpm if mask is None else mask + kpm
    res = Attention.apply(q, k, v, mask, float(dropout_p), 1.0 / math.sqrt(hd), need_weights, need_weights)
    out, weights = res if need_weights else (res, None)
    out = linear(out.transpose(1, 2).reshape(n, L, E), out_proj_weight, out_proj_bias)
    if weights is not None and average_attn_weights:
        weights = weights.mean(1)
    if not batched:
        out = out.squeeze(0)
        weights = weights.squeeze(0) if weights is not None else None
    elif not batch_first:
        out = out.transpose(0, 1)
    return out, weights


def _pad_last(mask):
    """Append one zero column (a key that is never masked) to an additive mask."""
    if mask is None:
        return None
    from ...ops.shape import cat
    return cat([mask, mask.new_zeros(tuple(mask.shape[:-1]) + (1,))], -1)


def _mha_attn_mask(attn_mask, n, h, L, S, dtype):
    """``attn_mask`` ((L, S) or (N*h, L, S)) as an additive float mask broadcastable to (N, h, L, S)."""
    if attn_mask is None:
        return None
    if attn_mask.dim() == 2:
        if tuple(attn_mask.shape) != (L, S):
            raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but should be {(L, S)}.")
    elif attn_mask.dim() == 3:
        if tuple(attn_mask.shape) != (n * h, L, S):
            raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but should be {(n * h, L, S)}.")
        attn_mask = attn_mask.reshape(n, h, L, S)
    else:
        raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")
    return _additive(attn_mask, dtype)


def _check_mha_shapes(query, key, value, key_padding_mask, num_heads, embed_dim_to_check) -> bool:
    if query.dim() not in (2, 3):
        raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received {query.dim()}-D "
                             "query tensor")
    batched = query.dim() == 3
    if key.dim() != query.dim() or value.dim() != query.dim():
        raise AssertionError(f"For {'batched (3-D)' if batched else 'unbatched (2-D)'} `query`, expected `key` and "
                             f"`value` to be {query.dim()}-D but found {key.dim()}-D and {value.dim()}-D tensors "
                             "respectively")
    if key.shape[:-1] != value.shape[:-1]:
        raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")
    E = query.shape[-1]
    if embed_dim_to_check is not None and E != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {E}")
    if E % num_heads:
        raise AssertionError(f"embed_dim {E} not divisible by num_heads {num_heads}")
    if key_padding_mask is not None:
        if batched:
            # key is (S, N, E) or (N, S, E); the caller has not transposed yet, so check both sizes later
            if key_padding_mask.dim() != 2:
                raise AssertionError(f"For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D "
                                     f"but found {key_padding_mask.dim()}-D tensor instead")
        elif key_padding_mask.dim() != 1:
            raise AssertionError(f"For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D "
                                 f"but found {key_padding_mask.dim()}-D tensor instead")
    return batched


# Published for op observers (graph capture, the profiler): see ember._op_hooks.
observe_namespace(globals(), __all__)
