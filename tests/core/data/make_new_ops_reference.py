"""Regenerate ``new_ops_reference.npz``: PyTorch's results for tests/core/test_new_ops.py.

Needs PyTorch (the tests never import it); run from the repository root with

    /work/refvenv/bin/python tests/core/data/make_new_ops_reference.py

The calls are written once, here, as functions of the library (``t`` is ``torch`` or ``ember``,
``F`` its ``nn.functional``), and the test loads this file by path to run the very same calls on
Ember (torch is imported only when the script runs). Every input is drawn here from NumPy with a
fixed seed and stored in the file, so the test feeds Ember exactly the same numbers.

File layout: ``meta`` (JSON as bytes) maps each case to the keys of its arrays; ``index`` maps a key
to ``[dtype, offset, shape]`` in the array ``pool_<dtype>`` (all arrays of a dtype are packed into
one, which keeps the file small). Per case:

- ``CASES``: inputs ``in<i>``, each output ``out<j>`` (values; its dtype is the key's dtype) and, for
  cases marked ``grad``, an upstream gradient ``g<j>`` for each floating-point output and the input
  gradients ``grad<i>`` (float64 inputs require grad) -- ``null`` in ``meta`` where PyTorch gives None;
- ``ERRORS``: the exception class PyTorch raises (or ``"no error"``).
"""
from __future__ import annotations

import json
import math
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "new_ops_reference.npz")
INF, NAN = math.inf, math.nan

CASES: dict = {}    # name -> (fn(t, F, *tensors), input generators, grad?)
ERRORS: dict = {}   # name -> fn(t, F): a call that must raise (filled below)


def case(name: str, *inputs, grad: bool = False):
    """Register ``fn(t, F, *tensors)`` under ``name``; ``inputs`` draw its arrays from an RNG."""
    def register(fn):
        assert name not in CASES, name
        CASES[name] = (fn, inputs, grad)
        return fn
    return register


# ---- input generators (used by this script only; the test reads the stored arrays) -----------
def normal(*shape, dtype=np.float64):
    return lambda r: r.standard_normal(shape).astype(dtype)


def with_specials(*shape, dtype=np.float32, specials=(0.0, -0.0, INF, -INF, NAN)):
    """Normal samples with some entries replaced by ``specials``."""
    def draw(r):
        a = r.standard_normal(shape).astype(dtype)
        flat = a.reshape(-1)
        where = r.choice(flat.size, size=min(len(specials) * 2, flat.size), replace=False)
        flat[where] = np.resize(np.asarray(specials, dtype=dtype), where.size)
        return a
    return draw


def ints(lo, hi, *shape, dtype=np.int64):
    return lambda r: r.integers(lo, hi, size=shape, endpoint=True).astype(dtype)


def small_floats(lo, hi, *shape, dtype=np.float64):
    """Integer-valued floats: many ties (amax/amin/cummax tie rules) and exact zeros (prod)."""
    return lambda r: r.integers(lo, hi, size=shape, endpoint=True).astype(dtype)


def const(value, dtype=None):
    return lambda r: np.asarray(value, dtype=dtype)


def full_range(dtype, *shape):
    info = np.iinfo(dtype)
    return lambda r: r.integers(info.min, info.max, size=shape, endpoint=True, dtype=dtype)


# =================================================================================================
# Element-wise: copysign, logaddexp, logaddexp2, shifts, the bitwise family
# =================================================================================================
@case("copysign/f32", with_specials(3, 4), with_specials(4, 3))
def _(t, F, x, y):
    return t.copysign(x, y.t())                 # other non-contiguous


@case("copysign/scalar", with_specials(5))
def _(t, F, x):
    return t.copysign(x, -0.0), x.copysign(2), t.copysign(x, -1)


@case("copysign/int_bool_half", ints(-5, 5, 4, dtype=np.int32), ints(0, 1, 4, dtype=np.bool_),
      normal(4, dtype=np.float16))
def _(t, F, i, b, h):
    return t.copysign(i, -1), t.copysign(i, i.flip(0)), t.copysign(b, b), t.copysign(i, h), t.copysign(b, -2.5)


@case("copysign/mixed", normal(2, 3, dtype=np.float32), const(-1.5, np.float64), normal(3, dtype=np.float64))
def _(t, F, x, s, y):
    return t.copysign(x, s), t.copysign(x, y), x.clone().copysign_(y)


@case("copysign/grad", small_floats(-2, 2, 4, 5), with_specials(4, 5, dtype=np.float64, specials=(0.0, -0.0)),
      grad=True)
def _(t, F, x, y):
    return t.copysign(x[:, ::2], y[:, ::2]), t.copysign(x, -1.0)


@case("logaddexp/f32", with_specials(3, 1), with_specials(4))
def _(t, F, a, b):
    return t.logaddexp(a, b), t.logaddexp2(a, b), a.logaddexp(b)


@case("logaddexp/half_mixed", normal(5, dtype=np.float16), normal(5, dtype=np.float32), normal(dtype=np.float64))
def _(t, F, h, f, d):
    return t.logaddexp(h, h.flip(0)), t.logaddexp2(h, f), t.logaddexp(f, d), t.logaddexp(h, d)


@case("logaddexp/grad", normal(3, 4), normal(4, 3), grad=True)
def _(t, F, a, b):
    return t.logaddexp(a, b.t()), t.logaddexp2(a * 3, b.t())


def _shift_cases(dtype):
    bits = np.dtype(dtype).itemsize * 8
    lo = 0 if np.dtype(dtype).kind == "u" else -3

    @case(f"shift/{np.dtype(dtype).name}", full_range(dtype, 24), ints(lo, bits + 3, 24, dtype=dtype))
    def _(t, F, a, s):
        return (a << s, a >> s, t.bitwise_left_shift(a, s), t.bitwise_right_shift(a, s), a << 3, a >> 2,
                a << bits, a >> (bits + 5), 5 << s.abs(), 1000 >> s.abs(), a.clone().bitwise_left_shift_(s),
                a.clone().__irshift__(s), a[::2] << s[1::2], a.reshape(4, 6).t() >> s.reshape(6, 4))


for _dtype in (np.int8, np.uint8, np.int16, np.int32, np.int64):
    _shift_cases(_dtype)


@case("shift/promotion", ints(-100, 100, 4, dtype=np.int8), ints(0, 6, 4, dtype=np.int64),
      ints(0, 1, 4, dtype=np.bool_), ints(0, 200, 4, dtype=np.uint8))
def _(t, F, i8, i64, b, u8):
    return (i8 << i64, i8 >> i64[0], b << 1, i8 << b, u8 << i8.abs().clamp(max=6), i8 << 300, i8 >> -2,
            t.bitwise_left_shift(1, i64), i8.clone().__ilshift__(i64))


@case("bitwise/mixed", full_range(np.int8, 6), full_range(np.uint8, 6), ints(-9, 9, 6, dtype=np.int32),
      ints(-9, 9, 6, dtype=np.int64), ints(0, 1, 6, dtype=np.bool_))
def _(t, F, i8, u8, i32, i64, b):
    outs = []
    for op in (t.bitwise_and, t.bitwise_or, t.bitwise_xor):
        outs += [op(i8, u8), op(i8, i64), op(i8, i64[0]), op(b, b), op(b, i32), op(b, 1), op(b, True),
                 op(i32, True), op(i8, 300), op(u8, -1), op(3, i32)]
    outs += [i32 & 3, 3 & i32, i32 | b, b ^ True, True ^ b, 2 | i8, ~i8, ~u8, ~b, t.bitwise_not(i64),
             i8.clone().bitwise_and_(i8.flip(0)), b.clone().bitwise_or_(True), i32.clone().__ixor__(i32.flip(0)),
             i8.clone().bitwise_not_(), i32.reshape(2, 3).t() & i64.reshape(3, 2)]
    return tuple(outs)


# =================================================================================================
# cummax, cummin, logcumsumexp
# =================================================================================================
def _ties_and_nans(r):
    a = r.integers(-2, 2, size=(4, 6), endpoint=True).astype(np.float32)
    a[1, 2] = a[2, 4] = a[3, 1] = NAN
    a[0, 3], a[0, 4] = -0.0, 0.0
    return a


@case("cummax/float", _ties_and_nans)
def _(t, F, x):
    return (t.cummax(x, 1), t.cummax(x, 0), t.cummin(x, -1), t.cummin(x, 0), x.t().cummax(1), x.t().cummin(0),
            x[:, ::2].cummax(dim=1))


@case("cummax/int_bool", ints(-3, 3, 3, 5), ints(0, 1, 3, 5, dtype=np.bool_), ints(0, 4, 7, dtype=np.uint8))
def _(t, F, i, b, u):
    return t.cummax(i, 1), t.cummin(i, 0), t.cummax(b, 1), t.cummin(b, 1), t.cummax(u, 0), t.cummin(u, 0)


@case("cummax/scalar_empty", const(2.5, np.float32), const(np.zeros((0, 3), np.float32)))
def _(t, F, s, e):
    return t.cummax(s, 0), t.cummin(s, -1), t.cummax(e, 0), t.cummin(e, 1)


@case("cummax/grad", small_floats(-2, 2, 3, 6), grad=True)
def _(t, F, x):
    return t.cummax(x, 1).values, t.cummin(x, 0).values, x.t().cummax(0).values


@case("logcumsumexp/f32", with_specials(3, 5, specials=(-INF, INF, NAN, 80.0, -80.0)))
def _(t, F, x):
    return t.logcumsumexp(x, 1), t.logcumsumexp(x, 0), x.t().logcumsumexp(1), x.logcumsumexp(dim=-1)


@case("logcumsumexp/half_scalar_empty", normal(6, dtype=np.float16), const(1.5), const(np.zeros((2, 0))))
def _(t, F, h, s, e):
    return t.logcumsumexp(h, 0), t.logcumsumexp(s, 0), t.logcumsumexp(e, 1)


@case("logcumsumexp/grad", normal(4, 5), grad=True)
def _(t, F, x):
    return t.logcumsumexp(x, 1), t.logcumsumexp(x.t() * 30, 0)


@case("logcumsumexp/grad_neginf", const([[0.0, 1.0, -INF, 2.0], [-INF, -INF, 1.0, 3.0]]), grad=True)
def _(t, F, x):
    return t.logcumsumexp(x, 1)


# =================================================================================================
# scatter_reduce
# =================================================================================================
def _scatter_case(reduce, include_self):
    # Integer-valued inputs: ties for amax/amin, zeros (one and several per position) for prod.
    # (PyTorch cannot differentiate a src larger than the index; "misc" covers that forward.)
    @case(f"scatter_reduce/{reduce}/{include_self}", small_floats(-2, 2, 3, 5), ints(0, 4, 3, 4),
          small_floats(-2, 2, 3, 4), grad=True)
    def _(t, F, x, index, src):
        return (t.scatter_reduce(x, 1, index, src, reduce, include_self=include_self),
                x.t().scatter_reduce(0, index.t(), src.t(), reduce=reduce, include_self=include_self))


for _reduce in ("sum", "prod", "mean", "amax", "amin"):
    for _include in (True, False):
        _scatter_case(_reduce, _include)


@case("scatter_reduce/int", ints(-9, 9, 2, 6), ints(0, 5, 2, 8), ints(-9, 9, 2, 8), ints(0, 200, 6, dtype=np.uint8),
      ints(0, 5, 9))
def _(t, F, x, index, src, u8, i1):
    outs = []
    for reduce in ("sum", "prod", "mean", "amax", "amin"):
        for inc in (True, False):
            outs.append(t.scatter_reduce(x, 1, index, src, reduce, include_self=inc))
    outs.append(t.scatter_reduce(u8, 0, i1, u8[i1], "mean"))   # the sum wraps around in uint8, then floors
    outs.append(t.scatter_reduce(u8, 0, i1, u8[i1], "sum", include_self=False))
    return tuple(outs)


@case("scatter_reduce/misc", normal(4, dtype=np.float32), ints(0, 3, 6), normal(7, dtype=np.float32),
      ints(0, 1, 3, dtype=np.bool_), const(1.0, np.float32))
def _(t, F, x, index, src, b, s):
    return (t.scatter_reduce(x, 0, index, src, "max"), t.scatter_reduce(x, 0, index, src, "min"),
            x.clone().scatter_reduce_(0, index, src, "amax", include_self=False),
            t.scatter_reduce(x, 0, index[:0], src[:0], "mean"),
            t.scatter_reduce(b, 0, index[:3].clamp(max=2), b.flip(0), "sum"),
            t.scatter_reduce(b, 0, index[:3].clamp(max=2), b.flip(0), "prod"),
            t.scatter_reduce(b, 0, index[:3].clamp(max=2), b.flip(0), "amin"),
            t.scatter_reduce(s, 0, t.tensor(0), s * 5, "sum"),
            t.scatter_reduce(x.half(), 0, index, src.half(), "mean"),
            t.scatter_reduce(x, 0, index[:3], src, "sum"))                # src larger than the index


# =================================================================================================
# meshgrid, Tensor.unfold
# =================================================================================================
@case("meshgrid/ij", normal(2), normal(3), normal(4), grad=True)
def _(t, F, a, b, c):
    return t.meshgrid(a, b, c, indexing="ij")


@case("meshgrid/xy", normal(2), normal(3), normal(4), grad=True)
def _(t, F, a, b, c):
    return t.meshgrid([a, b, c], indexing="xy")


@case("meshgrid/misc", ints(0, 9, 3), const(7), ints(0, 9, 0))
def _(t, F, a, s, e):
    return t.meshgrid(s, a, indexing="xy") + t.meshgrid(a, indexing="xy") + t.meshgrid((a, e), indexing="ij")


@case("unfold/grad", normal(7, 5), grad=True)
def _(t, F, x):
    v = x.t()                                       # non-contiguous (5, 7)
    return (v.unfold(1, 3, 2), v.unfold(1, 2, 3), v.unfold(0, 5, 1), v.unfold(-1, 7, 1), v.unfold(0, 1, 1),
            v.unfold(1, 0, 2), v.unfold(1, 3, 1).unfold(0, 2, 2), v[::2].unfold(dimension=1, size=4, step=1))


@case("unfold/misc", ints(0, 9, 6), const(3.0, np.float32), ints(0, 1, 5, dtype=np.bool_), const(np.zeros((0, 3))))
def _(t, F, i, s, b, e):
    return i.unfold(0, 2, 2), s.unfold(0, 1, 1), s.unfold(-1, 0, 1), b.unfold(0, 3, 1), e.unfold(1, 2, 1), \
        e.unfold(0, 0, 1)


# =================================================================================================
# F.one_hot, F.cosine_similarity, F.pairwise_distance, cdist
# =================================================================================================
@case("one_hot", ints(0, 4, 2, 3), const(np.zeros(0, np.int64)), const(2))
def _(t, F, idx, empty, s):
    return (F.one_hot(idx), F.one_hot(idx, 6), F.one_hot(idx.t()), F.one_hot(empty, 3), F.one_hot(s, 3),
            F.one_hot(idx, num_classes=-1))


def _cos_rows(r):
    a = r.standard_normal((5, 4))
    a[1] = 0.0          # a zero vector: its norm is clamped to eps
    a[2] *= 1e-9        # below eps
    a[3] *= 1e20        # would overflow a product of norms
    return a.astype(np.float32)


@case("cosine_similarity/values", _cos_rows, normal(5, 4, dtype=np.float32), ints(-3, 3, 5, 4), normal(4))
def _(t, F, a, b, i, d):
    return (F.cosine_similarity(a, b), F.cosine_similarity(a, b, dim=0), F.cosine_similarity(a, b, eps=0.5),
            F.cosine_similarity(a.unsqueeze(1), b.unsqueeze(0), dim=-1), F.cosine_similarity(a, d),
            F.cosine_similarity(i, b), F.cosine_similarity(a.t(), b.t(), 0), t.cosine_similarity(a[0], b[0], 0))


def _cos_grad_rows(r):
    a = r.standard_normal((4, 3))
    a[1] = 0.0
    a[2] *= 1e-9
    return a


@case("cosine_similarity/grad", _cos_grad_rows, normal(3, 4), grad=True)
def _(t, F, a, b):
    return F.cosine_similarity(a, b.t()), F.cosine_similarity(a[:, None, :], b.t()[None], dim=2, eps=1e-3)


@case("pairwise_distance/values", normal(4, 5, dtype=np.float32), normal(4, 5, dtype=np.float32), ints(-3, 3, 4, 5),
      normal(5))
def _(t, F, a, b, i, d):
    outs = [F.pairwise_distance(a, b, p) for p in (2, 1, 0, 3, 0.5, INF, -INF, -1)]
    outs += [F.pairwise_distance(a, b, keepdim=True), F.pairwise_distance(a, b, eps=0), F.pairwise_distance(a[0], b[0]),
             F.pairwise_distance(a[0], b, keepdim=True), F.pairwise_distance(i, i.flip(0), eps=0),
             F.pairwise_distance(a, d), t.pairwise_distance(a.t(), b.t())]
    return tuple(outs)


@case("pairwise_distance/grad", normal(3, 4), normal(4, 3), grad=True)
def _(t, F, a, b):
    return tuple(F.pairwise_distance(a, b.t(), p) for p in (2, 1, 3, 0.5, INF, -1)) + (
        F.pairwise_distance(a, a.detach(), eps=0),)


@case("cdist/values", normal(2, 5, 3, dtype=np.float32), normal(4, 3, dtype=np.float32), small_floats(-2, 2, 6, 2,
                                                                                                     dtype=np.float32))
def _(t, F, a, b, z):
    outs = [t.cdist(a, b, p) for p in (0, 0.5, 1, 1.5, 2, 3, INF)]
    outs += [t.cdist(z, z, 0), t.cdist(z, z, 1), t.cdist(z, z, INF), t.cdist(z, z),   # zero distances, ties
             t.cdist(a.unsqueeze(1), b.expand(3, 4, 3)), t.cdist(a[0].t().t(), b[::2]),
             t.cdist(a[:, :0], b), t.cdist(a[:, :, :0], b[:, :0]), t.cdist(a[:, :, :0], b[:, :0], INF)]
    return tuple(outs)


@case("cdist/mm", normal(30, 4), normal(28, 4), normal(3, 4))
def _(t, F, a, b, c):
    # More than 25 rows: p=2 goes through the matrix product; compute_mode forces either path.
    return (t.cdist(a, b), t.cdist(c, c[:2], compute_mode="use_mm_for_euclid_dist"),
            t.cdist(a, b, compute_mode="donot_use_mm_for_euclid_dist"), t.cdist(a.float(), b.float()))


@case("cdist/grad", normal(2, 4, 3), normal(5, 3), small_floats(-1, 1, 4, 2), grad=True)
def _(t, F, a, b, z):
    outs = [t.cdist(a, b, p) for p in (0.5, 1, 1.5, 2, 3, INF)]
    outs += [t.cdist(z, z, 1), t.cdist(z, z, INF), t.cdist(z, z), t.cdist(z, z, compute_mode="use_mm_for_euclid_dist")]
    return tuple(outs)


@case("cdist/grad_mm", normal(27, 3), normal(4, 3), grad=True)
def _(t, F, a, b):
    return t.cdist(a, b), t.cdist(b, a, compute_mode="use_mm_for_euclid_dist")


@case("expanded_inputs", normal(4), normal(3, 1), ints(0, 3, 3, 4), grad=True)
def _(t, F, v, c, index):
    e, f = v.expand(3, 4), c.expand(3, 4)           # stride-0 views: every row (column) shared
    return (t.copysign(e, f), t.logaddexp(e, f), t.cummax(e, 0), t.cummin(f, 1), t.logcumsumexp(e, 0),
            e.unfold(1, 2, 1), f.unfold(0, 2, 1), t.scatter_reduce(f, 1, index, e, "amax"),
            t.scatter_reduce(e, 1, index, f, "prod", include_self=False), t.meshgrid(v, c[:, 0], indexing="xy"),
            F.cosine_similarity(e, f), F.pairwise_distance(e, f), t.cdist(e, f), t.cdist(f, e, 1))


@case("modules", normal(3, 4), normal(3, 4))
def _(t, F, a, b):
    nn = t.nn
    return (nn.CosineSimilarity()(a, b), nn.CosineSimilarity(dim=0, eps=1e-3)(a, b), nn.PairwiseDistance()(a, b),
            nn.PairwiseDistance(p=1.0, eps=0.0, keepdim=True)(a, b))


# =================================================================================================
# NumPy-style keyword aliases: axis= for dim=, keepdims= for keepdim=
# =================================================================================================
@case("aliases/reductions", normal(3, 4, 2, dtype=np.float32), ints(0, 1, 3, 4, dtype=np.bool_))
def _(t, F, x, b):
    k = dict(axis=1, keepdims=True)
    return (t.sum(x, **k), x.sum(axis=(0, 2)), t.mean(x, **k), x.nansum(**k), t.nanmean(x, axis=-1),
            t.var(x, **k), x.std(axis=0, correction=0), t.std_mean(x, **k), t.var_mean(x, axis=2),
            t.max(x, **k), x.min(axis=0), t.amax(x, axis=(1, 2), keepdims=True), x.amin(keepdims=True),
            t.aminmax(x, **k), t.argmax(x, **k), x.argmin(axis=2), t.prod(x, **k), t.logsumexp(x, **k),
            t.median(x, **k), x.nanmedian(axis=0), t.any(b, **k), b.all(axis=0), b.any(keepdims=True),
            t.count_nonzero(b, axis=1), t.cumsum(x, axis=1), x.cumprod(axis=0), t.cummax(x, axis=2),
            x.cummin(axis=1), t.logcumsumexp(x, axis=0), t.softmax(x, axis=1), x.log_softmax(axis=-1))


@case("aliases/shape_indexing", normal(3, 4, dtype=np.float32), ints(0, 2, 3, 4))
def _(t, F, x, i):
    return (t.sort(x, axis=1).values, x.argsort(axis=0), t.topk(x, 2, axis=0).indices,
            t.kthvalue(x, 2, axis=1, keepdims=True).values, t.gather(x, axis=1, index=i), x.scatter_add(0, i, x),
            t.scatter(x, axis=1, index=i, src=x), t.scatter_reduce(x, axis=1, index=i, src=x, reduce="amax"),
            x.clone().scatter_(axis=0, index=i, src=x), t.index_select(x, axis=1, index=i[0]),
            x.index_add(axis=0, index=i[:, 0], source=x), x.index_fill(axis=1, index=i[0], value=-1.0),
            t.take_along_dim(x, i, axis=1), t.narrow(x, axis=1, start=1, length=2), x.select(axis=0, index=1),
            x.unsqueeze(axis=1), x.unsqueeze(0).squeeze(axis=0), t.stack([x, x], axis=1), x.chunk(2, axis=1)[1],
            t.unbind(x, axis=1)[2], x.tensor_split(3, axis=0)[0], x.repeat_interleave(2, axis=0))


# =================================================================================================
# Error cases: the same call must raise the same exception class in Ember
# =================================================================================================
def _x(t):
    return t.arange(12.0).reshape(3, 4)


ERRORS.update({
    # aliases
    "alias/dim_and_axis": lambda t, F: t.sum(_x(t), dim=1, axis=0),
    "alias/positional_and_axis": lambda t, F: _x(t).sum(1, axis=0),
    "alias/keepdim_and_keepdims": lambda t, F: _x(t).mean(1, keepdim=True, keepdims=True),
    "alias/positional_keepdim_and_keepdims": lambda t, F: t.std(_x(t), 1, True, True, keepdims=True),
    "alias/keepdims_without_keepdim": lambda t, F: t.cumsum(_x(t), 0, keepdims=True),
    "alias/var_bool_dim_and_axis": lambda t, F: _x(t).var(True, axis=1),
    # copysign / logaddexp / shifts / bitwise
    "copysign/scalar_input": lambda t, F: t.copysign(-1, _x(t)),
    "copysign/inplace_int": lambda t, F: t.tensor([1, 2]).copysign_(-1),
    "logaddexp/int": lambda t, F: t.logaddexp(t.tensor([1, 2]), t.tensor([1, 2])),
    "logaddexp/bool": lambda t, F: t.logaddexp2(t.tensor([True]), t.tensor([False])),
    "logaddexp/scalar": lambda t, F: t.logaddexp(_x(t), 1.0),
    "shift/float": lambda t, F: _x(t) << 1,
    "shift/float_scalar": lambda t, F: t.tensor([1, 2]) >> 1.5,
    "shift/bool_bool": lambda t, F: t.tensor([True]) << t.tensor([True]),
    "shift/inplace_promotes": lambda t, F: t.tensor([True]).__ilshift__(1),
    "bitwise/float": lambda t, F: t.bitwise_and(_x(t), 1),
    "bitwise/float_scalar": lambda t, F: t.tensor([1, 2]) | 1.0,
    "bitwise/not_float": lambda t, F: t.bitwise_not(_x(t)),
    "bitwise/invert_float": lambda t, F: ~_x(t),
    "bitwise/inplace_bool_int": lambda t, F: t.tensor([True]).bitwise_xor_(t.tensor([1], dtype=t.int32)),
    "bitwise/too_big": lambda t, F: t.tensor([1]) & 2 ** 64,
    # cumulative
    "cummax/dim_out_of_range": lambda t, F: t.cummax(_x(t), 2),
    "cummax/scalar_dim": lambda t, F: t.cummin(t.tensor(1.0), 1),
    "cummax/dim_none": lambda t, F: t.cummax(_x(t), None),
    "cummax/dim_float": lambda t, F: t.cummax(_x(t), 1.0),
    "logcumsumexp/int": lambda t, F: t.logcumsumexp(t.tensor([1, 2]), 0),
    "logcumsumexp/bool": lambda t, F: t.logcumsumexp(t.tensor([True]), 0),
    # scatter_reduce
    "scatter_reduce/bad_reduce": lambda t, F: t.scatter_reduce(_x(t), 0, t.tensor([[0]]), _x(t), "add"),
    "scatter_reduce/dtype": lambda t, F: t.scatter_reduce(_x(t), 0, t.tensor([[0]]), _x(t).double(), "sum"),
    "scatter_reduce/index_dtype": lambda t, F: t.scatter_reduce(_x(t), 0, t.tensor([[0.0]]), _x(t), "sum"),
    "scatter_reduce/out_of_bounds": lambda t, F: t.scatter_reduce(_x(t), 0, t.tensor([[3]]), _x(t), "sum"),
    "scatter_reduce/negative_index": lambda t, F: t.scatter_reduce(_x(t), 1, t.tensor([[-1]]), _x(t), "sum"),
    "scatter_reduce/index_ndim": lambda t, F: t.scatter_reduce(_x(t), 0, t.tensor([0]), _x(t), "sum"),
    "scatter_reduce/index_too_big": lambda t, F: t.scatter_reduce(_x(t), 0, t.zeros(2, 5, dtype=t.long), _x(t), "sum"),
    "scatter_reduce/src_too_small": lambda t, F: t.scatter_reduce(_x(t), 0, t.zeros(2, 3, dtype=t.long), _x(t)[:1],
                                                                  "sum"),
    "scatter_reduce/dim": lambda t, F: t.scatter_reduce(_x(t), 2, t.tensor([[0]]), _x(t), "sum"),
    "scatter_reduce/src_number": lambda t, F: t.scatter_reduce(_x(t), 0, t.tensor([[0]]), 1.0, "sum"),
    "scatter_reduce/bool_mean": lambda t, F: t.scatter_reduce(t.tensor([True]), 0, t.tensor([0]), t.tensor([True]),
                                                              "mean"),
    "scatter_reduce/no_reduce": lambda t, F: t.scatter_reduce(_x(t), 0, t.tensor([[0]]), _x(t)),
    "scatter_reduce/leaf_inplace": lambda t, F: t.ones(3, requires_grad=True).scatter_reduce_(
        0, t.tensor([0]), t.ones(1), "sum"),
    # meshgrid
    "meshgrid/empty": lambda t, F: t.meshgrid([], indexing="ij"),
    "meshgrid/dtypes": lambda t, F: t.meshgrid(t.tensor([1]), t.tensor([1.0]), indexing="ij"),
    "meshgrid/2d": lambda t, F: t.meshgrid(t.zeros(2, 2), t.zeros(2), indexing="ij"),
    "meshgrid/indexing": lambda t, F: t.meshgrid(t.zeros(2), indexing="ji"),
    "meshgrid/not_tensor": lambda t, F: t.meshgrid([1, 2], indexing="ij"),
    # unfold
    "unfold/too_big": lambda t, F: _x(t).unfold(1, 5, 1),
    "unfold/step_zero": lambda t, F: _x(t).unfold(1, 2, 0),
    "unfold/step_negative": lambda t, F: _x(t).unfold(1, 2, -1),
    "unfold/size_negative": lambda t, F: _x(t).unfold(1, -1, 1),
    "unfold/dim": lambda t, F: _x(t).unfold(2, 1, 1),
    "unfold/scalar_dim": lambda t, F: t.tensor(1.0).unfold(1, 1, 1),
    "unfold/scalar_size": lambda t, F: t.tensor(1.0).unfold(0, 2, 1),
    "unfold/float_size": lambda t, F: _x(t).unfold(0, 2.0, 1),
    "unfold/empty_dim": lambda t, F: t.zeros(0, 3).unfold(0, 1, 1),
    # one_hot
    "one_hot/int32": lambda t, F: F.one_hot(t.tensor([0, 1], dtype=t.int32), 3),
    "one_hot/float": lambda t, F: F.one_hot(t.tensor([0.0]), 3),
    "one_hot/negative": lambda t, F: F.one_hot(t.tensor([0, -1]), 3),
    "one_hot/negative_infer": lambda t, F: F.one_hot(t.tensor([0, -1])),
    "one_hot/too_small": lambda t, F: F.one_hot(t.tensor([0, 3]), 3),
    "one_hot/zero_classes": lambda t, F: F.one_hot(t.tensor([0]), 0),
    "one_hot/empty_infer": lambda t, F: F.one_hot(t.zeros(0, dtype=t.long)),
    "one_hot/empty_zero": lambda t, F: F.one_hot(t.zeros(0, dtype=t.long), 0),
    "one_hot/num_classes_float": lambda t, F: F.one_hot(t.tensor([1]), 2.0),
    "one_hot/not_tensor": lambda t, F: F.one_hot([1], 2),
    # distances
    "cosine_similarity/int": lambda t, F: F.cosine_similarity(t.tensor([[1, 2]]), t.tensor([[1, 2]])),
    "cosine_similarity/shapes": lambda t, F: F.cosine_similarity(t.ones(3, 3), t.ones(3, 2)),
    "cosine_similarity/dim": lambda t, F: F.cosine_similarity(t.ones(3, 3), t.ones(3, 3), dim=2),
    "cosine_similarity/1d_default_dim": lambda t, F: F.cosine_similarity(t.ones(3), t.ones(3)),
    "cosine_similarity/eps": lambda t, F: F.cosine_similarity(t.ones(1, 2), t.ones(1, 2), eps=-1.0),
    "pairwise_distance/shapes": lambda t, F: F.pairwise_distance(t.ones(3, 3), t.ones(3, 2)),
    "pairwise_distance/p_str": lambda t, F: F.pairwise_distance(t.ones(3, 3), t.ones(3, 3), p="fro"),
    "pairwise_distance/empty_inf": lambda t, F: F.pairwise_distance(t.ones(2, 0), t.ones(2, 0), p=INF),
    "cdist/negative_p": lambda t, F: t.cdist(_x(t), _x(t), p=-1),
    "cdist/int": lambda t, F: t.cdist(t.ones(2, 2, dtype=t.long), t.ones(2, 2, dtype=t.long)),
    "cdist/mixed": lambda t, F: t.cdist(_x(t), _x(t).double()),
    "cdist/half": lambda t, F: t.cdist(_x(t).half(), _x(t).half()),
    "cdist/1d": lambda t, F: t.cdist(t.ones(3), t.ones(3)),
    "cdist/columns": lambda t, F: t.cdist(t.ones(2, 3), t.ones(2, 2)),
    "cdist/batch": lambda t, F: t.cdist(t.ones(2, 3, 4), t.ones(3, 5, 4)),
    "cdist/compute_mode": lambda t, F: t.cdist(_x(t), _x(t), compute_mode="fast"),
    "cdist/p_str": lambda t, F: t.cdist(_x(t), _x(t), p="fro"),
})


# =================================================================================================
# Running the cases (shared with the test, which passes ember instead of torch)
# =================================================================================================
def outputs_of(result) -> list:
    """The tensors a case returned (named tuples such as cummax's give values and indices)."""
    if isinstance(result, (tuple, list)):
        return [o for r in result for o in outputs_of(r)]
    return [result]


def make_inputs(t, arrays, grad: bool) -> list:
    """Tensors from the stored arrays; with ``grad``, float64 ones require grad."""
    return [t.tensor(a, requires_grad=grad and a.dtype == np.float64) for a in arrays]


def error_name(t, F, fn) -> str:
    try:
        fn(t, F)
    except Exception as e:   # noqa: BLE001 -- the class is the result
        return type(e).__name__
    return "no error"


def main():
    import warnings

    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(20250705)
    pools: dict = {}
    index: dict = {}
    meta: dict = {"cases": {}, "errors": {}}

    def put(key: str, a) -> str:
        a = np.array(a, order="C")   # (np.ascontiguousarray would make a 0-d array 1-d)
        pool = pools.setdefault(a.dtype.name, [])
        index[key] = [a.dtype.name, sum(p.size for p in pool), list(a.shape)]
        pool.append(a.reshape(-1))
        return key

    warnings.simplefilter("ignore")
    for name, (fn, gens, grad) in CASES.items():
        arrays = [g(rng) for g in gens]
        entry = {"inputs": [put(f"{name}/in{i}", a) for i, a in enumerate(arrays)]}
        tensors = make_inputs(torch, arrays, grad)
        outs = outputs_of(fn(torch, F, *tensors))
        entry["outputs"] = [put(f"{name}/out{j}", o.detach().numpy()) for j, o in enumerate(outs)]
        if grad:
            diff = [j for j, o in enumerate(outs) if o.requires_grad]
            gouts = [rng.standard_normal(outs[j].shape) for j in diff]
            wrt = [x for x in tensors if x.requires_grad]
            grads = torch.autograd.grad([outs[j] for j in diff], wrt, [torch.tensor(g) for g in gouts],
                                        allow_unused=True)
            entry["grad_outputs"] = {str(j): put(f"{name}/g{j}", g) for j, g in zip(diff, gouts)}
            entry["grads"] = [None if g is None else put(f"{name}/grad{i}", g.numpy()) for i, g in enumerate(grads)]
        meta["cases"][name] = entry
    for name, fn in ERRORS.items():
        meta["errors"][name] = error_name(torch, F, fn)

    arrays = {f"pool_{k}": np.concatenate(v) for k, v in pools.items()}
    np.savez_compressed(OUT, meta=np.frombuffer(json.dumps(meta).encode(), np.uint8),
                        index=np.frombuffer(json.dumps(index).encode(), np.uint8), **arrays)
    print(f"wrote {OUT} ({os.path.getsize(OUT) / 1024:.0f} KB, {len(CASES)} cases, {len(ERRORS)} error cases) "
          f"with torch {torch.__version__}")


if __name__ == "__main__":
    main()
