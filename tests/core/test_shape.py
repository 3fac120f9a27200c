"""Shape operations: forward against NumPy, view semantics, gradients (first and second order), errors."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import ember
from ember.autograd import gradcheck, gradgradcheck
from ember.testing import assert_close, make_tensor

HYP = settings(max_examples=25, deadline=None)


def _x(*shape, seed=0, rg=False):
    return make_tensor(*shape, seed=seed, requires_grad=rg)


def _np(t):
    return t.detach().numpy()


def _diag_embed_ref(a, offset, d1, d2):
    """NumPy reference for diag_embed: fill the diagonal positions of a zero array."""
    n = a.shape[-1] + abs(offset)
    out_nd = a.ndim + 1
    d1, d2 = d1 % out_nd, d2 % out_nd
    out_shape = list(a.shape[:-1])
    for d in sorted((d1, d2)):
        out_shape.insert(d, n)
    out = np.zeros(out_shape, a.dtype)
    for i in range(a.shape[-1]):
        r, c = (i, i + offset) if offset >= 0 else (i - offset, i)
        for idx in np.ndindex(*a.shape[:-1]):
            full = list(idx)
            for d, v in sorted(((d1, r), (d2, c))):
                full.insert(d, v)
            out[tuple(full)] = a[idx + (i,)]
    return out


# (id, op on an ember tensor, NumPy reference, input shape). Every case is also gradchecked.
SINGLE = [
    ("reshape", lambda x: x.reshape(3, -1), lambda a: a.reshape(3, -1), (2, 3, 2)),
    ("reshape_tuple", lambda x: ember.reshape(x, (2, 6)), lambda a: a.reshape(2, 6), (3, 4)),
    ("reshape_noncontig", lambda x: x.t().reshape(-1), lambda a: a.T.reshape(-1), (3, 4)),
    ("view", lambda x: x.view(-1, 2), lambda a: a.reshape(-1, 2), (2, 3, 2)),
    ("view_as", lambda x: x.view_as(ember.zeros(6, 2)), lambda a: a.reshape(6, 2), (2, 3, 2)),
    ("flatten", lambda x: x.flatten(), lambda a: a.reshape(-1), (2, 3, 2)),
    ("flatten_mid", lambda x: ember.flatten(x, -3, -2), lambda a: a.reshape(6, 2), (2, 3, 2)),
    ("flatten_start", lambda x: x.flatten(1), lambda a: a.reshape(2, 6), (2, 3, 2)),
    ("flatten_0d", lambda x: x.flatten(), lambda a: a.reshape(1), ()),
    ("unflatten", lambda x: x.unflatten(-1, (2, -1)), lambda a: a.reshape(2, 2, 2), (2, 4)),
    ("ravel", lambda x: x.t().ravel(), lambda a: a.T.reshape(-1), (2, 3)),
    ("permute", lambda x: x.permute(2, 0, 1), lambda a: a.transpose(2, 0, 1), (2, 3, 4)),
    ("permute_neg", lambda x: ember.permute(x, (-1, -3, -2)), lambda a: a.transpose(2, 0, 1), (2, 3, 4)),
    ("transpose", lambda x: x.transpose(-1, 0), lambda a: np.swapaxes(a, -1, 0), (2, 3, 4)),
    ("swapaxes", lambda x: ember.swapaxes(x, 0, 1), lambda a: np.swapaxes(a, 0, 1), (2, 3)),
    ("t", lambda x: x.t(), lambda a: a.T, (2, 3)),
    ("t_1d", lambda x: ember.t(x), lambda a: a, (3,)),
    ("mT", lambda x: x.mT, lambda a: np.swapaxes(a, -1, -2), (2, 3, 2)),
    ("T", lambda x: x.T, lambda a: a.T, (2, 3, 2)),
    ("movedim", lambda x: x.movedim(0, -1), lambda a: np.moveaxis(a, 0, -1), (2, 3, 4)),
    ("moveaxis_multi", lambda x: ember.moveaxis(x, (0, 1), (-1, 0)), lambda a: np.moveaxis(a, (0, 1), (-1, 0)),
     (2, 3, 4)),
    ("unsqueeze", lambda x: x.unsqueeze(-1), lambda a: a[..., None], (2, 3)),
    ("unsqueeze_0", lambda x: ember.unsqueeze(x, 0), lambda a: a[None], (2, 3)),
    ("squeeze_all", lambda x: x.squeeze(), lambda a: a.squeeze(), (1, 2, 1, 3)),
    ("squeeze_dim", lambda x: x.squeeze(-2), lambda a: a.squeeze(-2), (1, 2, 1, 3)),
    ("squeeze_tuple", lambda x: ember.squeeze(x, (0, 1, -2)), lambda a: a.reshape(2, 3), (1, 2, 1, 3)),
    ("expand", lambda x: x.expand(2, -1, 3), lambda a: np.broadcast_to(a, (2, 4, 3)), (4, 1)),
    ("broadcast_to", lambda x: ember.broadcast_to(x, (3, 2)), lambda a: np.broadcast_to(a, (3, 2)), (2,)),
    ("narrow", lambda x: x.narrow(1, 1, 2), lambda a: a[:, 1:3], (2, 4)),
    ("narrow_neg", lambda x: ember.narrow(x, -1, -3, 2), lambda a: a[:, 1:3], (2, 4)),
    ("select", lambda x: x.select(1, -1), lambda a: a[:, -1], (2, 4, 3)),
    ("select_0d", lambda x: ember.select(x, 0, 2), lambda a: a[2], (4,)),
    ("diagonal", lambda x: x.diagonal(), lambda a: np.diagonal(a), (3, 4)),
    ("diagonal_dims", lambda x: x.diagonal(1, -1, 0), lambda a: np.diagonal(a, 1, -1, 0), (3, 2, 4)),
    ("diagonal_negoff", lambda x: ember.diagonal(x, -1, 1, 2), lambda a: np.diagonal(a, -1, 1, 2), (2, 3, 3)),
    ("diagonal_empty", lambda x: x.diagonal(5), lambda a: np.diagonal(a, 5), (3, 4)),
    ("diag_embed", lambda x: x.diag_embed(), lambda a: _diag_embed_ref(a, 0, -2, -1), (2, 3)),
    ("diag_embed_dims", lambda x: ember.diag_embed(x, 1, 0, 2), lambda a: _diag_embed_ref(a, 1, 0, 2), (2, 2)),
    ("diag_embed_neg", lambda x: ember.diag_embed(x, -1), lambda a: _diag_embed_ref(a, -1, -2, -1), (3,)),
    ("diag_1d", lambda x: ember.diag(x, -1), lambda a: np.diag(a, -1), (3,)),
    ("diag_2d", lambda x: x.diag(1), lambda a: np.diag(a, 1), (3, 4)),
    ("trace", lambda x: x.trace(), lambda a: np.trace(a), (3, 4)),
    ("flip", lambda x: x.flip(0, -1), lambda a: np.flip(a, (0, -1)), (2, 3, 4)),
    ("flip_list", lambda x: ember.flip(x, [1]), lambda a: np.flip(a, 1), (2, 3)),
    ("fliplr", lambda x: x.fliplr(), lambda a: np.fliplr(a), (2, 3)),
    ("flipud", lambda x: ember.flipud(x), lambda a: np.flipud(a), (3, 2)),
    ("roll", lambda x: x.roll(1, -1), lambda a: np.roll(a, 1, -1), (2, 3)),
    ("roll_multi", lambda x: ember.roll(x, (1, -1), (0, 2)), lambda a: np.roll(a, (1, -1), (0, 2)), (2, 3, 4)),
    ("roll_flat", lambda x: x.roll(4), lambda a: np.roll(a, 4), (2, 3)),
    ("rot90", lambda x: x.rot90(), lambda a: np.rot90(a), (2, 3)),
    ("rot90_neg", lambda x: ember.rot90(x, -1, (1, 2)), lambda a: np.rot90(a, -1, (1, 2)), (2, 3, 2)),
    ("rot90_2", lambda x: x.rot90(2, (1, 0)), lambda a: np.rot90(a, 2, (1, 0)), (2, 3)),
    ("rot90_0", lambda x: x.rot90(4), lambda a: a, (2, 3)),
    ("repeat", lambda x: x.repeat(2, 1, 3), lambda a: np.tile(a, (2, 1, 3)), (2, 3)),
    ("repeat_list", lambda x: x.repeat([2, 2]), lambda a: np.tile(a, (2, 2)), (2, 3)),
    ("repeat_zero", lambda x: x.repeat(0, 2), lambda a: np.tile(a, (0, 2)), (2, 3)),
    ("tile", lambda x: x.tile((2,)), lambda a: np.tile(a, 2), (2, 3)),
    ("tile_more", lambda x: ember.tile(x, (2, 1, 1)), lambda a: np.tile(a, (2, 1, 1)), (2, 3)),
    ("repeat_interleave", lambda x: x.repeat_interleave(2, dim=1), lambda a: np.repeat(a, 2, axis=1), (2, 3)),
    ("repeat_interleave_flat", lambda x: ember.repeat_interleave(x, 2), lambda a: np.repeat(a, 2), (2, 3)),
    ("repeat_interleave_tensor", lambda x: x.repeat_interleave(ember.tensor([1, 0, 3]), -1),
     lambda a: np.repeat(a, [1, 0, 3], axis=-1), (2, 3)),
    ("repeat_interleave_one", lambda x: x.repeat_interleave(ember.tensor([2]), 0),
     lambda a: np.repeat(a, 2, axis=0), (2, 3)),
    ("tril", lambda x: x.tril(), np.tril, (3, 4)),
    ("tril_batched", lambda x: ember.tril(x, -1), lambda a: np.tril(a, -1), (2, 3, 4)),
    ("triu", lambda x: x.triu(diagonal=1), lambda a: np.triu(a, 1), (3, 4)),
    ("triu_batched", lambda x: ember.triu(x, -1), lambda a: np.triu(a, -1), (2, 2, 3)),
]
SINGLE_IDS = [c[0] for c in SINGLE]


@pytest.mark.parametrize("name,fn,ref,shape", SINGLE, ids=SINGLE_IDS)
def test_forward_matches_numpy(name, fn, ref, shape):
    x = _x(*shape)
    expected = np.asarray(ref(x.numpy().copy()))
    out = fn(x)
    assert out.shape == expected.shape
    assert out.dtype is ember.float64
    assert_close(out, expected, rtol=0, atol=0)


@pytest.mark.parametrize("name,fn,ref,shape", SINGLE, ids=SINGLE_IDS)
def test_gradients(name, fn, ref, shape):
    x = _x(*shape, rg=True)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


# ---------------------------------------------------------------------------------------
# Multi-output ops: split, chunk, tensor_split, unbind
# ---------------------------------------------------------------------------------------
MULTI = [
    ("split_int", lambda x: x.split(2, 1), lambda a: np.split(a, [2, 4], 1), (2, 5)),
    ("split_sizes", lambda x: ember.split(x, [1, 0, 4], dim=-1), lambda a: np.split(a, [1, 1], -1), (2, 5)),
    ("split_exact", lambda x: ember.split(x, 1), lambda a: np.split(a, 3), (3, 2)),
    ("chunk", lambda x: x.chunk(3, 1), lambda a: np.split(a, [2, 4], 1), (2, 5)),
    ("chunk_fewer", lambda x: ember.chunk(x, 4), lambda a: np.split(a, [2, 4]), (6,)),
    ("tensor_split_sections", lambda x: x.tensor_split(3, 1), lambda a: np.array_split(a, 3, 1), (2, 5)),
    ("tensor_split_indices", lambda x: ember.tensor_split(x, [1, 4, 3, 7], dim=1),
     lambda a: np.split(a, [1, 4, 3, 7], 1), (2, 5)),
    ("tensor_split_tensor", lambda x: x.tensor_split(ember.tensor([1, 3])), lambda a: np.split(a, [1, 3]), (5,)),
    ("unbind", lambda x: x.unbind(1), lambda a: [a[:, i] for i in range(a.shape[1])], (2, 3, 2)),
    ("unbind_neg", lambda x: ember.unbind(x, -1), lambda a: [a[..., i] for i in range(a.shape[-1])], (2, 3)),
]
MULTI_IDS = [c[0] for c in MULTI]


@pytest.mark.parametrize("name,fn,ref,shape", MULTI, ids=MULTI_IDS)
def test_multi_output_forward(name, fn, ref, shape):
    x = _x(*shape)
    outs = fn(x)
    expected = ref(x.numpy().copy())
    assert isinstance(outs, tuple) and len(outs) == len(expected)
    for o, e in zip(outs, expected):
        assert_close(o, e, rtol=0, atol=0)


@pytest.mark.parametrize("name,fn,ref,shape", MULTI, ids=MULTI_IDS)
def test_multi_output_gradients(name, fn, ref, shape):
    x = _x(*shape, rg=True)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_split_unused_outputs_get_zero_gradient():
    x = _x(5, rg=True)
    a, b, c = x.split(2)
    (b * 3).sum().backward()
    assert_close(x.grad, [0.0, 0.0, 3.0, 3.0, 0.0])
    y = _x(2, 3, rg=True)
    y.unbind(1)[2].sum().backward()
    assert_close(y.grad, [[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]])


def test_chunk_and_split_of_empty_dims():
    assert [p.shape for p in ember.zeros(0).chunk(3)] == [(0,)] * 3
    assert [p.shape for p in ember.zeros(2, 0).split(0, 1)] == [(2, 0)]
    assert ember.zeros(2, 0).unbind(1) == ()


# ---------------------------------------------------------------------------------------
# Joins: cat, stack and friends
# ---------------------------------------------------------------------------------------
def test_cat_forward_and_dtypes():
    a, b = _x(2, 3, seed=1), _x(2, 1, seed=2)
    assert_close(ember.cat([a, b], 1), np.concatenate([a.numpy(), b.numpy()], 1), rtol=0, atol=0)
    assert_close(ember.concat((a, b), dim=-1), np.concatenate([a.numpy(), b.numpy()], 1), rtol=0, atol=0)
    assert_close(ember.concatenate([a, a], axis=0), np.concatenate([a.numpy()] * 2, 0), rtol=0, atol=0)
    i32 = ember.ones(2, 2, dtype=ember.int32)
    assert ember.cat([i32, ember.zeros(2, 1, dtype=ember.float64)], 1).dtype is ember.float64
    assert ember.cat([ember.zeros(2, dtype=ember.bool), ember.zeros(2, dtype=ember.int8)]).dtype is ember.int8
    assert ember.cat([ember.zeros(2, dtype=ember.uint8), ember.zeros(2, dtype=ember.int8)]).dtype is ember.int16
    assert ember.cat([i32, i32]).dtype is ember.int32
    # A cat result owns its memory.
    c = ember.cat([a])
    c.add_(1)
    assert_close(a, _x(2, 3, seed=1))


def test_cat_skips_legacy_empty_1d_tensors():
    a = _x(2, 2)
    out = ember.cat([ember.zeros(0), a, ember.zeros(0, dtype=ember.int64)], 1)
    assert out.shape == (2, 2)
    assert_close(out, a)
    # The skipped tensors still take part in type promotion.
    i = ember.ones(2, 2, dtype=ember.int32)
    assert ember.cat([i, ember.zeros(0, dtype=ember.float64)], 1).dtype is ember.float64
    assert ember.cat([ember.zeros(0), ember.zeros(0)]).shape == (0,)
    # An empty tensor with more dimensions is not skipped.
    assert ember.cat([ember.zeros(0, 3), ember.zeros(2, 3)]).shape == (2, 3)
    with pytest.raises(RuntimeError, match="Sizes of tensors must match except in dimension 0. Expected size 2 "
                                           "but got size 3 for tensor number 1 in the list."):
        ember.cat([ember.zeros(0, 2), ember.zeros(2, 3)])


def test_cat_gradients_mixed_dtypes_and_empties():
    a, b = _x(2, 3, seed=1, rg=True), _x(2, 1, seed=2, rg=True)
    e = ember.zeros(0, dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda a, b, e: ember.cat([a, e, b], 1), (a, b, e))
    assert gradgradcheck(lambda a, b, e: ember.cat([a, e, b], 1), (a, b, e))
    f32 = ember.ones(1, 3, requires_grad=True)
    out = ember.cat([f32, a], 0)
    assert out.dtype is ember.float64
    (out * ember.arange(9.0, dtype=ember.float64).reshape(3, 3)).sum().backward()
    assert f32.grad.dtype is ember.float32
    assert_close(f32.grad, [[0.0, 1.0, 2.0]])
    assert_close(a.grad, [[3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])


def test_stack_and_friends_forward():
    a, b = _x(2, 3, seed=1), _x(2, 3, seed=2)
    an, bn = a.numpy(), b.numpy()
    for dim in (0, 1, 2, -1, -3):
        assert_close(ember.stack([a, b], dim), np.stack([an, bn], dim), rtol=0, atol=0)
    assert_close(ember.hstack([a, b]), np.hstack([an, bn]), rtol=0, atol=0)
    assert_close(ember.vstack([a, b]), np.vstack([an, bn]), rtol=0, atol=0)
    assert_close(ember.row_stack([a, b]), np.vstack([an, bn]), rtol=0, atol=0)
    assert_close(ember.dstack([a, b]), np.dstack([an, bn]), rtol=0, atol=0)
    assert_close(ember.column_stack([a, b]), np.column_stack([an, bn]), rtol=0, atol=0)
    v, w = _x(3, seed=3), _x(3, seed=4)
    for ours, ref in ((ember.hstack, np.hstack), (ember.vstack, np.vstack), (ember.dstack, np.dstack),
                      (ember.column_stack, np.column_stack)):
        assert_close(ours([v, w]), ref([v.numpy(), w.numpy()]), rtol=0, atol=0)
    s = ember.tensor(2.0)
    assert ember.stack([s, s]).shape == (2,)
    assert ember.hstack([s, s]).shape == (2,)
    assert ember.atleast_1d(s).shape == (1,)
    assert ember.atleast_2d(v).shape == (1, 3)
    assert [t.shape for t in ember.atleast_3d(s, v, a)] == [(1, 1, 1), (1, 3, 1), (2, 3, 1)]
    assert [t.shape for t in ember.atleast_2d([s, a])] == [(1, 1), (2, 3)]
    assert ember.stack([ember.ones(2, dtype=ember.int32), ember.ones(2)]).dtype is ember.float32


@pytest.mark.parametrize("fn", [lambda a, b: ember.stack([a, b], 1), lambda a, b: ember.hstack([a, b]),
                                lambda a, b: ember.vstack([a, b]), lambda a, b: ember.dstack([a, b]),
                                lambda a, b: ember.column_stack([a, b])],
                         ids=["stack", "hstack", "vstack", "dstack", "column_stack"])
def test_stack_gradients(fn):
    a, b = _x(2, 3, seed=1, rg=True), _x(2, 3, seed=2, rg=True)
    assert gradcheck(fn, (a, b))
    assert gradgradcheck(fn, (a, b))


def test_cat_on_accelerator_and_device_mismatch(accel):
    a = _x(2, 2, seed=1).to("accel:1").requires_grad_()
    b = _x(2, 1, seed=2).to("accel:1")
    out = ember.cat([a, b], 1)
    assert out.device == ember.device("accel:1")
    assert_close(out, np.concatenate([_np(a.cpu()), _np(b.cpu())], 1))
    out.narrow(1, 0, 2).sum().backward()
    assert a.grad.device == ember.device("accel:1")
    assert_close(a.grad.cpu(), np.ones((2, 2)))
    c = _x(2, 1, seed=3)
    with pytest.raises(RuntimeError, match=r"same device.*(accel:1.*cpu|cpu.*accel:1)"):
        ember.cat([a, c], 1)
    with pytest.raises(RuntimeError, match=r"same device.*(accel:0.*accel:1|accel:1.*accel:0)"):
        ember.cat([b, b.to("accel:0")], 1)
    with pytest.raises(RuntimeError, match=r"same device.*(accel:1.*cpu|cpu.*accel:1)"):
        ember.stack([b, c])


# ---------------------------------------------------------------------------------------
# Views: storage and version counter are shared exactly where PyTorch's ops are views
# ---------------------------------------------------------------------------------------
VIEWS = [
    ("view", lambda x: x.view(4, 6)),
    ("reshape", lambda x: x.reshape(6, 4)),
    ("flatten", lambda x: x.flatten(1)),
    ("unflatten", lambda x: x.unflatten(2, (2, 2))),
    ("ravel", lambda x: x.ravel()),
    ("permute", lambda x: x.permute(1, 2, 0)),
    ("transpose", lambda x: x.transpose(0, 2)),
    ("mT", lambda x: x.mT),
    ("movedim", lambda x: x.movedim(0, 2)),
    ("unsqueeze", lambda x: x.unsqueeze(1)),
    ("squeeze", lambda x: x.unsqueeze(0).squeeze(0)),
    ("narrow", lambda x: x.narrow(2, 1, 2)),
    ("select", lambda x: x.select(1, 2)),
    ("select_0d", lambda x: x.select(0, 1).select(0, 2).select(0, 3)),
    ("diagonal", lambda x: x.diagonal(1, 1, 2)),
    ("split", lambda x: x.split(2, 2)[1]),
    ("chunk", lambda x: x.chunk(3, 1)[2]),
    ("tensor_split", lambda x: x.tensor_split([1, 3], 2)[1]),
    ("unbind", lambda x: x.unbind(2)[3]),
]

COPIES = [
    ("reshape_noncontig", lambda x: x.transpose(0, 2).reshape(-1)),
    ("flatten_noncontig", lambda x: x.transpose(0, 1).flatten()),
    ("ravel_noncontig", lambda x: x.mT.ravel()),
    ("flip", lambda x: x.flip(0)),
    ("roll", lambda x: x.roll(1, 2)),
    ("rot90", lambda x: x.rot90(1, (1, 2))),
    ("tril", lambda x: x.tril()),
    ("triu", lambda x: x.triu()),
    ("repeat", lambda x: x.repeat(1, 1, 1)),
    ("tile", lambda x: x.tile((1,))),
    ("repeat_interleave", lambda x: x.repeat_interleave(1, 0)),
    ("cat", lambda x: ember.cat([x])),
    ("stack", lambda x: ember.stack([x])),
    ("diag", lambda x: x.select(0, 0).diag()),
    ("diag_embed", lambda x: x.diag_embed()),
]


def _fresh():
    return ember.tensor(np.arange(24.0).reshape(2, 3, 4))


@pytest.mark.parametrize("fn", [c[1] for c in VIEWS], ids=[c[0] for c in VIEWS])
def test_views_share_storage_and_version(fn):
    x = _fresh()
    v = fn(x)
    before, vals = _np(x).copy(), _np(v).copy()
    assert v._base is x
    v.add_(1)
    changed = _np(x) - before
    assert changed.sum() == v.numel() and set(np.unique(changed)) <= {0.0, 1.0}
    assert x._version == v._version == 1
    x.mul_(2)
    assert_close(v, (vals + 1) * 2)
    assert x._version == v._version == 2


@pytest.mark.parametrize("fn", [c[1] for c in COPIES], ids=[c[0] for c in COPIES])
def test_copies_do_not_share_storage(fn):
    x = _fresh()
    v = fn(x)
    v.add_(1)
    assert_close(x, np.arange(24.0).reshape(2, 3, 4))
    assert x._version == 0
    assert v._base is not x


def test_split_pieces_share_one_version_counter():
    x = ember.zeros(6)
    a, b, c = x.split(2)
    b.add_(1)
    assert_close(x, [0.0, 0.0, 1.0, 1.0, 0.0, 0.0])
    assert x._version == a._version == b._version == c._version == 1


def test_unchanged_flatten_returns_input():
    x = ember.zeros(3)
    assert x.flatten() is x
    y = ember.zeros(2, 3)
    assert ember.flatten(y, 1, 1) is y


def test_inplace_tril_triu():
    x = ember.ones(3, 3)
    assert x.tril_(-1) is x
    assert_close(x, np.tril(np.ones((3, 3)), -1))
    assert x._version == 1
    y = ember.ones(2, 3, dtype=ember.int32)
    y.triu_()
    assert y.dtype is ember.int32 and y.tolist() == [[1, 1, 1], [0, 1, 1]]


def test_integer_and_bool_dtypes_are_kept():
    i = ember.tensor([[1, 2], [3, 4]], dtype=ember.int32)
    assert ember.trace(i).dtype is ember.int64 and ember.trace(i).item() == 5
    assert i.tril().dtype is ember.int32
    assert i.flip(0).dtype is ember.int32
    assert ember.diag(ember.tensor([1, 2]), -1).tolist() == [[0, 0, 0], [1, 0, 0], [0, 2, 0]]
    assert ember.tensor([True, False]).repeat_interleave(2).tolist() == [True, True, False, False]
    assert ember.repeat_interleave(ember.tensor([1, 2, 0])).tolist() == [0, 1, 1]


# ---------------------------------------------------------------------------------------
# Hypothesis: shape handling
# ---------------------------------------------------------------------------------------
dims_st = st.lists(st.integers(1, 4), min_size=0, max_size=4)


@HYP
@given(dims=dims_st, data=st.data())
def test_reshape_regroupings(dims, data):
    x = ember.tensor(np.arange(math.prod(dims), dtype=np.float64).reshape(dims))
    # Regroup a shuffled list of the factors into a new shape, maybe with one -1.
    factors = data.draw(st.permutations(dims))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(factors)), max_size=3)))
    bounds = [0] + cuts + [len(factors)]
    target = [math.prod(factors[a:b]) for a, b in zip(bounds, bounds[1:])]
    if target and data.draw(st.booleans()):
        target[data.draw(st.integers(0, len(target) - 1))] = -1
        if 0 in target:
            return
    expected = np.arange(math.prod(dims), dtype=np.float64).reshape(target)
    out = x.reshape(target)
    assert_close(out, expected, rtol=0, atol=0)
    assert out._base is x
    assert_close(x.view(*target), expected, rtol=0, atol=0)


@HYP
@given(dims=dims_st, data=st.data())
def test_permute_random(dims, data):
    n = len(dims)
    perm = data.draw(st.permutations(range(n)))
    signed = [p - n if data.draw(st.booleans()) else p for p in perm]
    a = np.random.default_rng(0).standard_normal(dims)
    out = ember.tensor(a).permute(signed)
    assert_close(out, a.transpose(perm), rtol=0, atol=0)


@HYP
@given(dims=st.lists(st.integers(1, 3), min_size=1, max_size=4), data=st.data())
def test_flatten_random(dims, data):
    n = len(dims)
    s = data.draw(st.integers(0, n - 1))
    e = data.draw(st.integers(s, n - 1))
    s_arg = s - n if data.draw(st.booleans()) else s
    e_arg = e - n if data.draw(st.booleans()) else e
    a = np.random.default_rng(1).standard_normal(dims)
    x = ember.tensor(a)
    for ours, ref in ((x, a), (x.transpose(0, -1), a.swapaxes(0, -1))):  # contiguous and not
        expected = ref.reshape(ref.shape[:s] + (-1,) + ref.shape[e + 1:])
        assert_close(ours.flatten(s_arg, e_arg), expected, rtol=0, atol=0)


@HYP
@given(base=st.lists(st.integers(1, 3), min_size=1, max_size=3),
       sizes=st.lists(st.integers(0, 3), min_size=1, max_size=4), data=st.data())
def test_cat_and_split_random(base, sizes, data):
    dim = data.draw(st.integers(-len(base), len(base) - 1))
    rng = np.random.default_rng(2)
    arrays = []
    for s in sizes:
        shape = list(base)
        shape[dim] = s
        arrays.append(rng.standard_normal(shape))
    expected = np.concatenate(arrays, dim)
    out = ember.cat([ember.tensor(a) for a in arrays], dim)
    assert_close(out, expected, rtol=0, atol=0)
    pieces = out.split(sizes, dim)
    for p, a in zip(pieces, arrays):
        assert_close(p, a, rtol=0, atol=0)
    k = data.draw(st.integers(1, 4))
    total = expected.shape[dim]
    if total:
        got = out.split(k, dim)
        ref = np.split(expected, list(range(k, total, k)), dim)
        assert len(got) == len(ref)
        for p, a in zip(got, ref):
            assert_close(p, a, rtol=0, atol=0)


@HYP
@given(dims=st.lists(st.integers(1, 3), max_size=3), data=st.data())
def test_expand_random(dims, data):
    shape = [1 if data.draw(st.booleans()) else d for d in dims]
    target = []
    for s in shape:
        if s == 1:
            target.append(data.draw(st.sampled_from([-1, 1, 2, 3])))
        else:
            target.append(data.draw(st.sampled_from([-1, s])))
    lead = data.draw(st.lists(st.integers(0, 3), max_size=2))
    full = lead + target
    a = np.random.default_rng(3).standard_normal(shape)
    expected = np.broadcast_to(a, tuple(lead) + tuple(s if t == -1 else t for s, t in zip(shape, target)))
    assert_close(ember.tensor(a).expand(*full), expected, rtol=0, atol=0)
    assert_close(ember.tensor(a).expand(full), expected, rtol=0, atol=0)


# ---------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------
ERRORS = [
    (lambda: ember.zeros(2, 3).t().view(6), RuntimeError,
     r"view size is not compatible with input tensor's size and stride.*Use \.reshape\(\.\.\.\) instead"),
    (lambda: ember.zeros(2, 3).reshape(4, 3), RuntimeError, r"shape '\[4, 3\]' is invalid for input of size 6"),
    (lambda: ember.zeros(2, 3).reshape(-1, -1), RuntimeError, "only one dimension can be inferred"),
    (lambda: ember.zeros(2, 3).view(-2, 3), RuntimeError, "invalid shape dimension -2"),
    (lambda: ember.zeros(2, 0).reshape(-1, 0), RuntimeError, "ambiguous"),
    (lambda: ember.zeros(2, 3).permute(1, 1), RuntimeError, "duplicate dims are not allowed"),
    (lambda: ember.zeros(2, 3).permute(1, 0, 2), RuntimeError, r"input.dim\(\) = 2 is not equal to len\(dims\) = 3"),
    (lambda: ember.zeros(2, 3).permute(0, 5), IndexError, r"Dimension out of range \(expected to be in range of "
                                                          r"\[-2, 1\], but got 5\)"),
    (lambda: ember.zeros(3).expand(2, 4), RuntimeError,
     r"The expanded size of the tensor \(4\) must match the existing size \(3\) at non-singleton dimension 1"),
    (lambda: ember.zeros(3).expand(-1, 3), RuntimeError, "isn't allowed in a leading, non-existing dimension 0"),
    (lambda: ember.zeros(2, 3).expand(3), RuntimeError, r"the number of sizes provided \(1\) must be greater or "
                                                        r"equal to the number of dimensions in the tensor \(2\)"),
    (lambda: ember.cat([]), ValueError, "expected a non-empty list of Tensors"),
    (lambda: ember.cat(ember.zeros(2)), TypeError, "must be tuple of Tensors, not Tensor"),
    (lambda: ember.cat([ember.tensor(1.0)]), RuntimeError, r"zero-dimensional tensor \(at position 0\) cannot be "
                                                            "concatenated"),
    (lambda: ember.cat([ember.zeros(2, 2), ember.zeros(3, 3)], 1), RuntimeError,
     r"Sizes of tensors must match except in dimension 1. Expected size 2 but got size 3 for tensor number 1 in "
     r"the list\."),
    (lambda: ember.cat([ember.zeros(2, 2), ember.zeros(3)], 1), RuntimeError,
     "Tensors must have same number of dimensions: got 2 and 1"),
    (lambda: ember.cat([ember.zeros(2, 2)], 2), IndexError, "Dimension out of range"),
    (lambda: ember.stack([]), RuntimeError, "stack expects a non-empty TensorList"),
    (lambda: ember.stack([ember.zeros(2), ember.zeros(3)]), RuntimeError,
     r"stack expects each tensor to be equal size, but got \[2\] at entry 0 and \[3\] at entry 1"),
    (lambda: ember.zeros(2, 5).split([2, 2], 1), RuntimeError,
     r"split_with_sizes expects split_sizes to sum exactly to 5 \(input tensor's size at dimension 1\)"),
    (lambda: ember.zeros(2, 5).split(0, 1), RuntimeError, "split_size can only be 0 if dimension size is 0"),
    (lambda: ember.zeros(2, 5).split(-1), RuntimeError, "split expects split_size be non-negative"),
    (lambda: ember.zeros(2, 5).chunk(0), RuntimeError, "chunk expects `chunks` to be greater than 0, got: 0"),
    (lambda: ember.zeros(5).tensor_split(0), RuntimeError, "number of sections must be larger than 0"),
    (lambda: ember.zeros(5).tensor_split(ember.tensor([1.5])), RuntimeError, "to have dtype of long"),
    (lambda: ember.zeros(2, 5).narrow(1, 3, 3), RuntimeError, r"start \(3\) \+ length \(3\) exceeds dimension size "
                                                              r"\(5\)"),
    (lambda: ember.zeros(2, 5).narrow(1, 6, 0), IndexError, r"start out of range \(expected to be in range of "
                                                            r"\[-5, 5\], but got 6\)"),
    (lambda: ember.zeros(2, 5).narrow(1, 0, -1), RuntimeError, "length must be non-negative"),
    (lambda: ember.tensor(1.0).narrow(0, 0, 1), RuntimeError, "cannot be applied to a 0-dim tensor"),
    (lambda: ember.zeros(2, 5).select(1, 5), IndexError, r"select\(\): index 5 out of range for tensor of size "
                                                         r"\[2, 5\] at dimension 1"),
    (lambda: ember.tensor(1.0).select(0, 0), IndexError, "cannot be applied to a 0-dim tensor"),
    (lambda: ember.tensor(1.0).unbind(), IndexError, "tensor has no dimensions"),
    (lambda: ember.zeros(2, 5).diagonal(0, 1, -1), RuntimeError, "diagonal dimensions cannot be identical 1, -1"),
    (lambda: ember.zeros(2, 3, 4).diag(), RuntimeError, r"diag\(\): Supports 1D or 2D tensors. Got 3D"),
    (lambda: ember.zeros(2, 2, 2).trace(), RuntimeError, "trace: expected a matrix, but got tensor with dim 3"),
    (lambda: ember.zeros(3).tril(), RuntimeError, "tril: input tensor must have at least 2 dimensions"),
    (lambda: ember.zeros(3).triu(), RuntimeError, "triu: input tensor must have at least 2 dimensions"),
    (lambda: ember.zeros(2, 3).flatten(1, 0), RuntimeError, "start_dim cannot come after end_dim"),
    (lambda: ember.zeros(2, 5).unflatten(1, (2, 2)), RuntimeError,
     r"unflatten: Provided sizes \[2, 2\] don't multiply up to the size of dim 1 \(5\)"),
    (lambda: ember.zeros(2, 5).unflatten(1, ()), RuntimeError, "sizes must be non-empty"),
    (lambda: ember.zeros(2, 3).movedim((0, 1), (1,)), RuntimeError, "should contain the same number of dims"),
    (lambda: ember.zeros(2, 3).movedim((0, 0), (1, 0)), RuntimeError, r"repeated dim in `source` \(\[0, 0\]\)"),
    (lambda: ember.zeros(1, 2, 1).squeeze((0, 2, 0)), RuntimeError, "dim 0 appears multiple times"),
    (lambda: ember.zeros(1, 2).squeeze(2), IndexError, "Dimension out of range"),
    (lambda: ember.zeros(2, 3).flip(1, 1), RuntimeError, "dim 1 appears multiple times in the list of dims"),
    (lambda: ember.zeros(3).fliplr(), RuntimeError, "Input must be >= 2-d"),
    (lambda: ember.tensor(1.0).flipud(), RuntimeError, "Input must be >= 1-d"),
    (lambda: ember.zeros(2, 3).roll((1, 2), (1,)), RuntimeError, "shifts and dimensions must align. shifts: 2, dims:1"),
    (lambda: ember.zeros(2, 3).rot90(1, (0, 0)), RuntimeError, "expected rotation dims to be different"),
    (lambda: ember.zeros(2, 3).rot90(1, (0, 1, 2)), RuntimeError, "expected total rotation dims == 2"),
    (lambda: ember.zeros(2, 3).repeat(2), RuntimeError, "Number of dimensions of repeat dims can not be smaller"),
    (lambda: ember.zeros(2, 3).repeat(-1, 1), RuntimeError, "negative dimension -1"),
    (lambda: ember.zeros(2, 3).repeat_interleave(ember.tensor([1, 2, 3]), 0), RuntimeError,
     r"repeats must have the same size as input along dim, but got repeats.size\(0\) = 3 and input.size\(0\) = 2"),
    (lambda: ember.zeros(2, 3).repeat_interleave(ember.tensor([1, -2]), 0), RuntimeError, "can not be negative"),
    (lambda: ember.zeros(2, 3).repeat_interleave(2, 1, output_size=5), RuntimeError, "Invalid output_size"),
    (lambda: ember.broadcast_shapes((2, 3), (4, 3)), RuntimeError, "Attempting to broadcast a dimension of length 4"),
]


@pytest.mark.parametrize("fn,exc,match", ERRORS, ids=[str(i) for i in range(len(ERRORS))])
def test_errors(fn, exc, match):
    with pytest.raises(exc, match=match):
        fn()


def test_broadcast_tensors():
    a, b = _x(3, 1, seed=1), _x(2, 1, 4, seed=2)
    ra, rb = ember.broadcast_tensors(a, b)
    ea, eb = np.broadcast_arrays(a.numpy(), b.numpy())
    assert_close(ra, ea, rtol=0, atol=0)
    assert_close(rb, eb, rtol=0, atol=0)
    assert ember.broadcast_shapes((2, 1), (3,), 1) == (2, 3)
    a.requires_grad_()
    assert gradcheck(lambda a: ember.broadcast_tensors(a, b)[0], (a,))
