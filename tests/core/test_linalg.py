"""Linear algebra products: matmul and its special cases, tensordot, einsum, addmm family."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import ember
from ember.autograd import gradcheck, gradgradcheck
from ember.testing import assert_close, make_tensor


def mk(*shape, seed=0, dtype=ember.float64, rg=False):
    return make_tensor(*shape, dtype=dtype, seed=seed, requires_grad=rg)


def ref_matmul(a, b):
    """Independent matmul reference: promote 1-D operands, broadcast-multiply, sum over k."""
    a, b = np.asarray(a), np.asarray(b)
    va, vb = a.ndim == 1, b.ndim == 1
    if va:
        a = a[None, :]
    if vb:
        b = b[:, None]
    out = (a[..., :, :, None] * b[..., None, :, :]).sum(axis=-2)
    if va:
        out = out[..., 0, :]
    if vb:
        out = out[..., 0]
    return out


def sum_to(x, shape):
    """Sum a broadcast array back to ``shape``."""
    x = x.sum(axis=tuple(range(x.ndim - len(shape))))
    return x.sum(axis=tuple(i for i, s in enumerate(shape) if s == 1), keepdims=True)


# Every PyTorch matmul case: dot, mm, vector-matrix, matrix-vector, batched (with and without
# broadcasting of the batch dims), batched-vector, vector-batched, batched-matrix, matrix-batched.
MATMUL_CASES = [
    ((3,), (3,)),
    ((2, 3), (3, 4)),
    ((3,), (3, 4)),
    ((2, 3), (3,)),
    ((2, 2, 3), (2, 3, 4)),
    ((2, 1, 2, 3), (3, 3, 2)),
    ((2, 2, 3), (3,)),
    ((3,), (2, 3, 4)),
    ((2, 2, 3), (3, 4)),
    ((3, 4), (2, 4, 2)),
    ((1, 2, 3), (2, 1, 3, 2)),
]


# ---------------------------------------------------------------------------------------
# matmul forward
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("sa,sb", MATMUL_CASES)
def test_matmul_forward_matches_numpy(sa, sb):
    a, b = mk(*sa, seed=1), mk(*sb, seed=2)
    out = ember.matmul(a, b)
    expected = ref_matmul(a.numpy(), b.numpy())
    assert out.shape == expected.shape
    assert_close(out, expected)
    assert_close(a @ b, expected)
    assert_close(a.matmul(b), expected)


def test_matmul_1d_1d_is_0d():
    out = ember.matmul(ember.tensor([1.0, 2.0, 3.0]), ember.tensor([4.0, 5.0, 6.0]))
    assert out.shape == () and out.dim() == 0
    assert isinstance(out._data, np.ndarray)
    assert out.item() == 32.0


@settings(max_examples=25, deadline=None)
@given(batch=st.lists(st.integers(1, 3), max_size=3), ones_a=st.lists(st.booleans(), min_size=3, max_size=3),
       ones_b=st.lists(st.booleans(), min_size=3, max_size=3), drop_a=st.integers(0, 3), drop_b=st.integers(0, 3),
       n=st.integers(1, 3), k=st.integers(1, 3), m=st.integers(1, 3))
def test_matmul_broadcast_batch_dims(batch, ones_a, ones_b, drop_a, drop_b, n, k, m):
    # Batch shapes that broadcast: some dims set to 1, some leading dims missing in one operand.
    ba = [1 if one else s for s, one in zip(batch, ones_a)][drop_a:]
    bb = [1 if one else s for s, one in zip(batch, ones_b)][drop_b:]
    a, b = mk(*ba, n, k, seed=3, rg=True), mk(*bb, k, m, seed=4, rg=True)
    out = ember.matmul(a, b)
    assert_close(out, ref_matmul(a.detach().numpy(), b.detach().numpy()))
    out.sum().backward()
    assert a.grad.shape == a.shape and b.grad.shape == b.shape
    an, bn, g = a.detach().numpy(), b.detach().numpy(), np.ones(out.shape)
    assert_close(a.grad, sum_to(ref_matmul(g, np.swapaxes(bn, -1, -2)), an.shape))
    assert_close(b.grad, sum_to(ref_matmul(np.swapaxes(an, -1, -2), g), bn.shape))


@pytest.mark.parametrize("dtype", [ember.int64, ember.int32, ember.int16, ember.uint8])
def test_matmul_integer_dtype_stays(dtype):
    a = make_tensor(2, 3, dtype=dtype, low=0, high=5, seed=1)
    b = make_tensor(3, 2, dtype=dtype, low=0, high=5, seed=2)
    out = a @ b
    assert out.dtype is dtype
    np.testing.assert_array_equal(out.numpy(), ref_matmul(a.numpy(), b.numpy()).astype(dtype.np))
    v = ember.arange(3)
    assert ember.matmul(ember.arange(6).reshape(2, 3), v).tolist() == [5, 14]
    assert ember.dot(v, v).dtype is ember.int64


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64, ember.float16])
def test_matmul_float_dtype_stays(dtype):
    a, b = mk(4, 3, dtype=dtype), mk(3, 2, dtype=dtype, seed=1)
    out = a @ b
    assert out.dtype is dtype
    assert_close(out, ref_matmul(a.numpy().astype(np.float64), b.numpy().astype(np.float64)).astype(dtype.np),
                 rtol=1e-2 if dtype is ember.float16 else None, atol=1e-2 if dtype is ember.float16 else None)


def test_matmul_empty():
    assert (ember.zeros(0, 3) @ ember.zeros(3, 2)).shape == (0, 2)
    out = ember.ones(2, 0) @ ember.ones(0, 2)
    assert out.tolist() == [[0.0, 0.0], [0.0, 0.0]]
    # Gradients with empty batches or empty contractions keep the inputs' shapes.
    for sa, sb in [((2, 0), (5, 0, 3)), ((0, 2, 3), (3, 4)), ((3,), (0, 3, 4))]:
        a, b = mk(*sa, rg=True), mk(*sb, rg=True)
        ember.matmul(a, b).sum().backward()
        assert a.grad.shape == sa and b.grad.shape == sb
        assert not a.grad.numpy().any()


def test_matmul_function_apply():
    a, b = mk(2, 3, rg=True), mk(3, seed=1, rg=True)
    out = ember.ops.linalg.Matmul.apply(a, b)
    assert_close(out, ref_matmul(a.detach().numpy(), b.detach().numpy()))
    out.sum().backward()
    assert_close(a.grad, np.broadcast_to(b.detach().numpy(), (2, 3)))


def test_matmul_float32_stays_float32_on_transposed_views():
    # Speed is measured in benchmarks/, not asserted here; this checks the dtype contract.
    rng = np.random.default_rng(0)
    an, bn = rng.random((64, 48), dtype=np.float32), rng.random((64, 48), dtype=np.float32)
    a, b = ember.from_numpy(an), ember.from_numpy(bn)
    out = a @ b.t()
    assert out.dtype is ember.float32
    assert_close(out, an @ bn.T)


# ---------------------------------------------------------------------------------------
# matmul gradients
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("sa,sb", MATMUL_CASES)
def test_matmul_gradcheck(sa, sb):
    a, b = mk(*sa, seed=1, rg=True), mk(*sb, seed=2, rg=True)
    assert gradcheck(ember.matmul, (a, b))
    assert gradgradcheck(ember.matmul, (a, b))


@pytest.mark.parametrize("sa,sb", MATMUL_CASES)
def test_matmul_grad_shapes_and_values(sa, sb):
    a, b = mk(*sa, seed=1, rg=True), mk(*sb, seed=2, rg=True)
    g = mk(*ref_matmul(a.detach().numpy(), b.detach().numpy()).shape, seed=3)
    ember.matmul(a, b).backward(g)
    assert a.grad.shape == a.shape and b.grad.shape == b.shape
    # Reference gradients by finite differences of the (linear) reference matmul.
    an, bn, gn = a.detach().numpy(), b.detach().numpy(), g.numpy()
    ga = np.array([(ref_matmul(np.eye(an.size)[i].reshape(an.shape), bn) * gn).sum() for i in range(an.size)])
    gb = np.array([(ref_matmul(an, np.eye(bn.size)[i].reshape(bn.shape)) * gn).sum() for i in range(bn.size)])
    assert_close(a.grad, ga.reshape(an.shape))
    assert_close(b.grad, gb.reshape(bn.shape))


def test_matmul_grad_only_one_input():
    a, b = mk(2, 3, rg=True), mk(3, 4, seed=1)
    (a @ b).sum().backward()
    assert b.grad is None
    assert_close(a.grad, np.ones((2, 4)) @ b.numpy().T)


def test_matmul_integer_no_grad_node():
    out = ember.arange(6).reshape(2, 3) @ ember.arange(3)
    assert out.grad_fn is None and not out.requires_grad


def test_matmul_no_grad_mode():
    a = mk(2, 3, rg=True)
    with ember.no_grad():
        out = a @ mk(3, 2)
    assert out.grad_fn is None and not out.requires_grad


def test_saved_input_modified_in_place_is_detected():
    a, b = mk(2, 3, rg=True), mk(3, 2, seed=1)
    out = a @ b
    b.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


# ---------------------------------------------------------------------------------------
# mm, bmm, mv, dot, vdot, outer, inner, kron
# ---------------------------------------------------------------------------------------
def test_mm_bmm_mv_forward():
    a, b = mk(2, 3), mk(3, 4, seed=1)
    assert_close(ember.mm(a, b), ref_matmul(a.numpy(), b.numpy()))
    assert_close(a.mm(b), ref_matmul(a.numpy(), b.numpy()))
    x, y = mk(2, 2, 3), mk(2, 3, 4, seed=1)
    assert_close(ember.bmm(x, y), ref_matmul(x.numpy(), y.numpy()))
    assert_close(x.bmm(y), ref_matmul(x.numpy(), y.numpy()))
    v = mk(3, seed=2)
    assert_close(ember.mv(a, v), (a.numpy() * v.numpy()).sum(1))
    assert_close(a.mv(v), (a.numpy() * v.numpy()).sum(1))


def test_dot_vdot():
    a, b = mk(4), mk(4, seed=1)
    expected = float((a.numpy() * b.numpy()).sum())
    for out in (ember.dot(a, b), a.dot(b), ember.vdot(a, b), a.vdot(b)):
        assert out.shape == ()
        assert_close(out, np.array(expected))


def test_outer_ger_inner_kron_forward():
    a, b = mk(3), mk(4, seed=1)
    expected = a.numpy()[:, None] * b.numpy()[None, :]
    assert_close(ember.outer(a, b), expected)
    assert_close(ember.ger(a, b), expected)
    assert_close(a.outer(b), expected)
    # outer promotes dtypes like mul
    assert ember.outer(ember.arange(3), mk(2, dtype=ember.float32)).dtype is ember.float32
    x, y = mk(2, 3), mk(5, 3, seed=2)
    assert_close(ember.inner(x, y), (x.numpy()[:, None, :] * y.numpy()[None, :, :]).sum(-1))
    assert ember.inner(mk(3), mk(3, seed=1)).shape == ()
    s = ember.tensor(2.0, dtype=ember.float64)
    assert_close(ember.inner(s, y), 2 * y.numpy())
    p, q = mk(2, 3), mk(2, 2, seed=3)
    kr = np.zeros((4, 6))
    for i in range(2):
        for j in range(3):
            kr[2 * i:2 * i + 2, 2 * j:2 * j + 2] = p.numpy()[i, j] * q.numpy()
    assert_close(ember.kron(p, q), kr)
    assert ember.kron(mk(2, 3), mk(5)).shape == (2, 15)


@pytest.mark.parametrize("fn,shapes", [
    (ember.mm, [(2, 3), (3, 2)]),
    (ember.bmm, [(2, 2, 3), (2, 3, 2)]),
    (ember.mv, [(2, 3), (3,)]),
    (ember.dot, [(3,), (3,)]),
    (ember.vdot, [(3,), (3,)]),
    (ember.outer, [(3,), (2,)]),
    (ember.inner, [(2, 3), (2, 3)]),
    (ember.kron, [(2, 2), (2, 1)]),
])
def test_special_products_gradcheck(fn, shapes):
    ins = [mk(*s, seed=i, rg=True) for i, s in enumerate(shapes)]
    assert gradcheck(fn, ins)
    assert gradgradcheck(fn, ins)


def test_grad_fn_names():
    a = mk(2, 2, rg=True)
    assert ember.mm(a, a).grad_fn.name() == "MmBackward"
    assert ember.dot(mk(2, rg=True), mk(2)).grad_fn.name() == "DotBackward"
    assert ember.bmm(mk(1, 2, 2, rg=True), mk(1, 2, 2)).grad_fn.name() == "BmmBackward"
    assert ember.matmul(mk(2, rg=True), mk(2, 2)).grad_fn.name() == "MatmulBackward"


# ---------------------------------------------------------------------------------------
# tensordot
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("sa,sb,dims", [
    ((2, 3, 4), (3, 4, 2), 2),
    ((2, 3, 4), (4, 3), 1),
    ((2, 3), (2, 2), 0),
    ((2, 3, 4), (4, 3, 2), ([1, 2], [1, 0])),
    ((2, 3, 4), (4, 3, 2), [[-1], [0]]),
    ((3,), (3,), 1),
])
def test_tensordot(sa, sb, dims):
    a, b = mk(*sa, rg=True), mk(*sb, seed=1, rg=True)
    out = ember.tensordot(a, b, dims=dims)
    if isinstance(dims, int):
        da, db = list(range(len(sa) - dims, len(sa))), list(range(dims))
    else:
        da, db = [d % len(sa) for d in dims[0]], [d % len(sb) for d in dims[1]]
    # Reference by an explicit einsum over letters.
    la = [chr(97 + i) for i in range(len(sa))]
    lb = [chr(110 + i) for i in range(len(sb))]
    for i, j in zip(da, db):
        lb[j] = la[i]
    lo = [la[i] for i in range(len(sa)) if i not in da] + [lb[j] for j in range(len(sb)) if j not in db]
    expected = np.einsum("".join(la) + "," + "".join(lb) + "->" + "".join(lo), a.detach().numpy(),
                         b.detach().numpy())
    assert_close(out, expected)
    assert gradcheck(lambda x, y: ember.tensordot(x, y, dims=dims), (a, b))
    assert gradgradcheck(lambda x, y: ember.tensordot(x, y, dims=dims), (a, b))


def test_tensordot_dims_tensor_and_int_dtype():
    a, b = mk(2, 3, 4), mk(4, 3, 2, seed=1)
    out = ember.tensordot(a, b, dims=ember.tensor([[2], [0]]))
    assert out.shape == (2, 3, 3, 2)
    assert ember.tensordot(ember.arange(3), ember.arange(3), dims=1).dtype is ember.int64


def test_tensordot_errors():
    a, b = mk(2, 3, 4), mk(4, 3, 5)
    with pytest.raises(RuntimeError, match=r"contracted dimensions need to match, but first has size 3 in dim -2 "
                                           r"and second has size 4 in dim 0"):
        ember.tensordot(a, b, dims=2)
    with pytest.raises(RuntimeError, match="dims >= 0"):
        ember.tensordot(a, b, dims=-1)
    with pytest.raises(RuntimeError, match="same length"):
        ember.tensordot(a, b, dims=([1], [1, 0]))
    with pytest.raises(RuntimeError, match="same dtype"):
        ember.tensordot(a, b.float(), dims=([1], [1]))
    with pytest.raises(RuntimeError, match="dims=4"):
        ember.tensordot(mk(3), mk(3), dims=4)


# ---------------------------------------------------------------------------------------
# einsum
# ---------------------------------------------------------------------------------------
EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 2)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("i,i->", [(4,), (4,)]),
    ("ij->ji", [(2, 3)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (3, 3, 2)]),
    ("ijk->", [(2, 3, 2)]),
    ("ij,jk", [(2, 3), (3, 2)]),                 # implicit output
    ("ij,j->ij", [(2, 3), (1,)]),                # size-1 broadcast of a letter
    ("ij,jk->i", [(2, 3), (3, 2)]),              # k summed in one operand only
    ("iij->ji", [(2, 2, 3)]),
    ("i...->...", [(3, 2, 2)]),
    ("i,j->ij", [(3,), (2,)]),
    ("Ab->bA", [(2, 3)]),
]


@pytest.mark.parametrize("eq,shapes", EINSUM_CASES)
def test_einsum_forward_and_grads(eq, shapes):
    ins = [mk(*s, seed=i, rg=True) for i, s in enumerate(shapes)]
    out = ember.einsum(eq, *ins)
    # np.einsum does not broadcast a size-1 labelled dim; the reference broadcasts it first.
    arrays = [x.detach().numpy() for x in ins]
    if eq == "ij,j->ij":
        arrays[1] = np.broadcast_to(arrays[1], (3,))
    assert_close(out, np.einsum(eq, *arrays))
    f = lambda *xs: ember.einsum(eq, *xs)  # noqa: E731
    assert gradcheck(f, ins)
    assert gradgradcheck(f, ins)


def test_einsum_grad_shapes():
    a = mk(3, 3, rg=True)
    ember.einsum("ii", a).backward()
    assert_close(a.grad, np.eye(3))
    x, y = mk(2, 1, 2, 3, rg=True), mk(3, 3, 2, seed=1, rg=True)
    ember.einsum("...ij,...jk->...ik", x, y).sum().backward()
    assert x.grad.shape == x.shape and y.grad.shape == y.shape


def test_einsum_operand_list_sublists_and_implicit_order():
    a, b = mk(2, 3), mk(3, 4, seed=1)
    expected = a.numpy() @ b.numpy()
    assert_close(ember.einsum("ij,jk->ik", [a, b]), expected)
    assert_close(ember.einsum("i j , j k -> i k", a, b), expected)
    assert_close(ember.einsum(a, [0, 1], b, [1, 2], [0, 2]), expected)
    assert_close(ember.einsum(a, [0, 1], b, [1, 2]), expected)
    assert ember.einsum(mk(2, 3), [0, Ellipsis]).shape == (3, 2)
    # Implicit output sorts letters with uppercase first (as PyTorch and NumPy do).
    x = ember.arange(6).reshape(2, 3)
    assert ember.einsum("aA", x).tolist() == [[0, 3], [1, 4], [2, 5]]
    assert ember.einsum("ba", mk(3, 2)).shape == (2, 3)


def test_einsum_dtypes_and_result_owns_storage():
    assert ember.einsum("ij,ij", ember.ones(2, 2, dtype=ember.int32), ember.ones(2, 2, dtype=ember.int32)).dtype \
        is ember.int32
    x = mk(2, 3)
    t = ember.einsum("ij->ji", x)
    assert t.dtype is ember.float64
    t.add_(1.0)
    assert_close(x.t() + 1.0, t)  # x itself is unchanged
    m = mk(3, 3)
    d = ember.einsum("ii->i", m)
    d.add_(1.0)
    assert_close(m, mk(3, 3))


def test_einsum_errors():
    a, b = mk(2, 3), mk(4, 4)
    with pytest.raises(RuntimeError, match="subscript j has size 4 for operand 1 which does not broadcast with "
                                           "previously seen size 3"):
        ember.einsum("ij,jk->ik", a, b)
    with pytest.raises(RuntimeError, match="fewer operands"):
        ember.einsum("ij,jk->ik", a)
    with pytest.raises(RuntimeError, match="more operands"):
        ember.einsum("ij->ij", a, a)
    with pytest.raises(RuntimeError, match=r"repeated for operand 0 but the sizes don't match, 3 != 2"):
        ember.einsum("ii", a)
    with pytest.raises(RuntimeError, match=r"number of subscripts in the equation \(3\) does not match the number "
                                           r"of dimensions \(2\) for operand 0 and no ellipsis was given"):
        ember.einsum("ijk->", a)
    with pytest.raises(RuntimeError, match="output subscript i appears more than once"):
        ember.einsum("i->ii", mk(3))
    with pytest.raises(RuntimeError, match="output subscript k does not appear"):
        ember.einsum("ij->k", a)
    with pytest.raises(RuntimeError, match="same dtype"):
        ember.einsum("ij,jk->ik", a, mk(3, 2, dtype=ember.float32))
    with pytest.raises(RuntimeError, match="invalid subscript"):
        ember.einsum("i1->i", a)


# ---------------------------------------------------------------------------------------
# addmm, addmv, baddbmm
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("beta,alpha", [(1, 1), (0.5, 2.0), (0, 1.5)])
def test_addmm_addmv_baddbmm_forward(beta, alpha):
    inp, m1, m2 = mk(2, 3), mk(2, 4, seed=1), mk(4, 3, seed=2)
    assert_close(ember.addmm(inp, m1, m2, beta=beta, alpha=alpha),
                 beta * inp.numpy() + alpha * ref_matmul(m1.numpy(), m2.numpy()))
    bias = mk(3, seed=3)  # broadcasts over the rows, as nn.Linear's bias
    assert_close(bias.addmm(m1, m2, beta=beta, alpha=alpha),
                 beta * bias.numpy() + alpha * ref_matmul(m1.numpy(), m2.numpy()))
    v, y = mk(4, seed=4), mk(2, seed=5)
    assert_close(ember.addmv(y, m1, v, beta=beta, alpha=alpha),
                 beta * y.numpy() + alpha * ref_matmul(m1.numpy(), v.numpy()))
    b1, b2, bi = mk(2, 2, 3, seed=6), mk(2, 3, 2, seed=7), mk(2, 2, 2, seed=8)
    assert_close(ember.baddbmm(bi, b1, b2, beta=beta, alpha=alpha),
                 beta * bi.numpy() + alpha * ref_matmul(b1.numpy(), b2.numpy()))


def test_addmm_beta_zero_ignores_nan_and_integer_dtype():
    inp = ember.full((2, 3), float("nan"))
    out = ember.addmm(inp, ember.ones(2, 3), ember.ones(3, 3), beta=0)
    assert out.tolist() == [[3.0] * 3] * 2
    i = ember.ones(2, 3, dtype=ember.int32)
    out = ember.addmm(i, i, ember.ones(3, 3, dtype=ember.int32), beta=2, alpha=3)
    assert out.dtype is ember.int32 and out.tolist() == [[11] * 3] * 2


def test_addmm_methods_and_inplace():
    inp, m1, m2 = mk(2, 3), mk(2, 4, seed=1), mk(4, 3, seed=2)
    expected = inp.numpy() + ref_matmul(m1.numpy(), m2.numpy())
    assert_close(inp.addmm(m1, m2), expected)
    x = inp.clone()
    assert x.addmm_(m1, m2) is x
    assert_close(x, expected)
    b = mk(2, 2, 2)
    b2 = b.clone()
    b2.baddbmm_(mk(2, 2, 3, seed=1), mk(2, 3, 2, seed=2), beta=0.5)
    assert_close(b2, 0.5 * b.numpy() + ref_matmul(mk(2, 2, 3, seed=1).numpy(), mk(2, 3, 2, seed=2).numpy()))


@pytest.mark.parametrize("fn,shapes", [
    (lambda i, a, b: ember.addmm(i, a, b, beta=0.5, alpha=2.0), [(2, 3), (2, 2), (2, 3)]),
    (lambda i, a, b: ember.addmm(i, a, b), [(3,), (2, 2), (2, 3)]),
    (lambda i, a, b: ember.addmv(i, a, b, beta=2.0, alpha=0.5), [(2,), (2, 3), (3,)]),
    (lambda i, a, b: ember.baddbmm(i, a, b, beta=0.5, alpha=2.0), [(2, 2, 2), (2, 2, 3), (2, 3, 2)]),
    (lambda i, a, b: ember.baddbmm(i, a, b), [(1, 2), (2, 2, 3), (2, 3, 2)]),
])
def test_add_products_gradcheck(fn, shapes):
    ins = [mk(*s, seed=i, rg=True) for i, s in enumerate(shapes)]
    assert gradcheck(fn, ins)
    assert gradgradcheck(fn, ins)


def test_addmm_errors():
    with pytest.raises(RuntimeError, match=r"Target sizes: \[2, 3\]"):
        ember.addmm(mk(4), mk(2, 3), mk(3, 3))
    with pytest.raises(RuntimeError, match="self and mat2 must have the same dtype, but got Float and Double"):
        ember.addmm(mk(2, 3, dtype=ember.float32), mk(2, 3), mk(3, 3))
    with pytest.raises(RuntimeError, match=r"Target sizes: \[2, 3, 3\]"):
        ember.baddbmm(mk(2, 3), mk(2, 3, 2), mk(2, 2, 3))


# ---------------------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------------------
def test_matmul_shape_errors():
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"):
        ember.matmul(mk(2, 3), mk(4, 5))
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"):
        ember.mm(mk(2, 3), mk(4, 5))
    with pytest.raises(RuntimeError, match=r"cannot be multiplied \(3 and 4x5\)"):
        mk(3) @ mk(4, 5)
    with pytest.raises(RuntimeError, match=r"cannot be multiplied \(2x2x3 and 4\)"):
        mk(2, 2, 3) @ mk(4)
    with pytest.raises(RuntimeError, match=r"shapes \[2, 2, 3\] and \[3, 3, 5\] do not broadcast: the size of "
                                           r"tensor a \(2\) must match the size of tensor b \(3\) at non-singleton "
                                           r"dimension 0"):
        mk(2, 2, 3) @ mk(3, 3, 5)
    with pytest.raises(RuntimeError, match="both arguments to matmul need to be at least 1D, but they are 0D and 1D"):
        ember.matmul(ember.tensor(1.0), mk(3))


def test_matmul_dtype_errors():
    with pytest.raises(RuntimeError, match="expected m1 and m2 to have the same dtype, but got: float != double"):
        ember.matmul(mk(2, 3, dtype=ember.float32), mk(3, 4))
    with pytest.raises(RuntimeError, match="expected m1 and m2 to have the same dtype, but got: long int != float"):
        ember.mm(ember.ones(2, 3, dtype=ember.int64), ember.ones(3, 2))
    with pytest.raises(RuntimeError, match="same dtype"):
        ember.bmm(mk(2, 2, 3, dtype=ember.float32), mk(2, 3, 4))
    with pytest.raises(NotImplementedError, match="Bool"):
        ember.matmul(ember.ones(2, 3, dtype=ember.bool), ember.ones(3, dtype=ember.bool))
    with pytest.raises(TypeError, match="must be Tensor"):
        ember.matmul(mk(2, 2), [[1.0, 0.0], [0.0, 1.0]])


def test_mm_bmm_mv_dot_argument_errors():
    with pytest.raises(RuntimeError, match="self must be a matrix"):
        ember.mm(mk(2, 3, 3), mk(3, 3))
    with pytest.raises(RuntimeError, match="mat2 must be a matrix"):
        ember.mm(mk(2, 3), mk(3))
    with pytest.raises(RuntimeError, match="batch1 must be a 3D tensor"):
        ember.bmm(mk(2, 3), mk(3, 4))
    with pytest.raises(RuntimeError, match="batch2 must be a 3D tensor"):
        ember.bmm(mk(2, 2, 3), mk(3, 4))
    with pytest.raises(RuntimeError, match=r"Expected size for first two dimensions of batch2 tensor to be: "
                                           r"\[2, 3\] but got: \[3, 3\]"):
        ember.bmm(mk(2, 2, 3), mk(3, 3, 4))
    with pytest.raises(RuntimeError, match=r"size mismatch, got mat \(2x3\), vec \(4\)"):
        ember.mv(mk(2, 3), mk(4))
    with pytest.raises(RuntimeError, match="expected a 2-D matrix and a 1-D vector"):
        ember.mv(mk(2, 3), mk(3, 1))
    with pytest.raises(RuntimeError, match="1D tensors expected, but got 2D and 1D tensors"):
        ember.dot(mk(2, 3), mk(3))
    with pytest.raises(RuntimeError, match=r"inconsistent tensor size, expected tensor \[3\] and src \[4\]"):
        ember.dot(mk(3), mk(4))
    with pytest.raises(RuntimeError, match="dot : expected both vectors to have same dtype, but found Float and "
                                           "Double"):
        ember.dot(mk(3, dtype=ember.float32), mk(3))
    with pytest.raises(RuntimeError, match="outer: Expected 1-D argument self, but got 2-D"):
        ember.outer(mk(3, 2), mk(4))
    with pytest.raises(RuntimeError, match=r"the last dimension must match .* \[2, 3\] and \[5, 4\]"):
        ember.inner(mk(2, 3), mk(5, 4))


def test_device_mismatch(accel):
    a = mk(2, 3).to("accel:1")
    b = mk(3, 2)
    for fn in (ember.matmul, ember.mm):
        with pytest.raises(RuntimeError, match=r"same device.*(accel:1.*cpu|cpu.*accel:1)"):
            fn(a, b)
    with pytest.raises(RuntimeError, match=r"accel:0.*accel:1"):
        ember.matmul(mk(2, 3).to("accel:0"), b.to("accel:1"))
    with pytest.raises(RuntimeError, match="same device"):
        ember.einsum("ij,jk->ik", a, b)


def test_ops_on_accelerator(accel):
    a, b = mk(2, 3, rg=True), mk(3, 2, seed=1)
    ad, bd = a.detach().to("accel:1").requires_grad_(), b.to("accel:1")
    out = ad @ bd
    assert out.device == ember.device("accel:1")
    assert_close(out.cpu(), ref_matmul(a.detach().numpy(), b.numpy()))
    out.sum().backward()
    assert ad.grad.device == ember.device("accel:1")
    assert_close(ad.grad.cpu(), np.ones((2, 2)) @ b.numpy().T)
    e = ember.einsum("ii->i", mk(3, 3, rg=True).to("accel:0"))
    assert e.device == ember.device("accel:0")
    e.sum().backward()
