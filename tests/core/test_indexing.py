"""Indexing and sorting ops: forward against NumPy references, view semantics, gradients
(gradcheck + gradgradcheck in float64), in-place rules and error messages."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import ember
from ember.autograd import gradcheck, gradgradcheck
from ember.testing import assert_close, make_tensor

SETTINGS = settings(max_examples=25, deadline=None)


def arr(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# ---------------------------------------------------------------------------------------
# A NumPy reference of PyTorch's indexing rules: integers select a dimension first (like
# a[i]), then the remaining key (slices, None, arrays, masks) follows NumPy's rules. NumPy
# alone differs when integers and arrays are mixed: it counts integers as advanced indices.
# ---------------------------------------------------------------------------------------
def _np_item(k):
    if isinstance(k, ember.Tensor):
        return k.numpy()
    if isinstance(k, list):
        return np.asarray(k)
    return k


def ref_view(a, key):
    """(view of ``a`` after applying the integers of ``key``, the rest of ``key``)."""
    key = key if isinstance(key, tuple) else (key,)
    key = [_np_item(k) for k in key]
    consumed = sum(1 if not isinstance(k, np.ndarray) or k.dtype != bool else k.ndim
                   for k in key if k is not None and k is not Ellipsis)
    expanded = []
    for k in key:
        if k is Ellipsis:
            expanded.extend([slice(None)] * (a.ndim - consumed))
        else:
            expanded.append(k)
    dims, d = [], 0  # the input dimension each entry refers to
    for k in expanded:
        dims.append(d)
        if k is not None:
            d += k.ndim if isinstance(k, np.ndarray) and k.dtype == bool else 1
    view = a
    rest = list(expanded)
    for pos in reversed(range(len(expanded))):
        k = expanded[pos]
        if isinstance(k, (int, np.integer)) or (isinstance(k, np.ndarray) and k.ndim == 0 and k.dtype != bool):
            view = view[(slice(None),) * dims[pos] + (int(k), Ellipsis)]  # a view: writes reach ``a``
            del rest[pos]
    return view, tuple(rest)


def ref_get(a, key):
    view, rest = ref_view(a, key)
    return view[rest]


def ref_set(a, key, value):
    view, rest = ref_view(a, key)
    view[rest] = value


# ---------------------------------------------------------------------------------------
# __getitem__ forward
# ---------------------------------------------------------------------------------------
A = arr((3, 4, 5))
T = ember.tensor(A)

KEYS = [
    1, -1, (0, 2), (-1, -2, -3), slice(None), slice(1, None), slice(None, None, 2), (slice(None), slice(1, 4, 2)),
    (Ellipsis, 1), (None, 0), (None, Ellipsis, None), (1, None, slice(None), None), (Ellipsis,), (),
    [0, 2], [0, 0, 2, 2, 1], [-1, 0], ([0, 1], [1, 2]), ([0, 0], slice(None), [4, 4]),
    (slice(None), [1, 3], [0, 4]), (slice(None), [[0], [1]], [1, 2]), (0, slice(None), [0, 1]),
    ([0, 2], 1), (slice(None), 1, [0, 1]), ([1, 2], 0, [3, 4]), (Ellipsis, [0, 0]),
    (None, [1], slice(None), None, 2), (slice(0, 2), Ellipsis, [1, 2, 1]),
    ember.tensor([True, False, True]), (slice(None), ember.tensor([True, False, False, True])),
    ember.tensor(A[:, :, 0] > 0), (ember.tensor(A[0] > 0)[None].expand(3, 4, 5)),
    (ember.tensor([2, 0]), ember.tensor([1, 1])), ember.tensor([[0, 1], [2, 2]]), np.array([1, 1]),
    ember.tensor(1), (ember.tensor(2), slice(1, 3)), ([True, False, True], 1),
    (ember.tensor([0, 1], dtype=ember.int32), 0), (slice(None), slice(10, None)), slice(-100, 100),
]


@pytest.mark.parametrize("key", KEYS, ids=[repr(k)[:40] for k in KEYS])
def test_getitem_matches_reference(key):
    out = T[key]
    expected = ref_get(A, key)
    assert out.shape == expected.shape
    assert_close(out, expected)
    assert out.dtype is ember.float64


def test_getitem_pytorch_layout_of_ints_with_arrays():
    # NumPy would give (2, 3) here: PyTorch selects with the int first.
    x = ember.zeros(2, 3, 4)
    assert x[0, :, [0, 1]].shape == (3, 2)
    assert x[[0, 1], :, 0].shape == (2, 3)
    assert x[0, [0, 1], [1, 2]].shape == (2,)


def test_getitem_python_bools_and_zero_dim():
    assert T[True].shape == (1, 3, 4, 5)
    assert T[False].shape == (0, 3, 4, 5)
    s = ember.tensor(5.0)
    assert s[...].shape == () and s[None].shape == (1,) and s[True].shape == (1,)
    assert_close(s[True], [5.0])
    assert T[ember.tensor(True)].shape == (1, 3, 4, 5)


def test_getitem_list_of_index_sequences_is_a_tuple():
    x = ember.arange(12).reshape(3, 4)
    with pytest.warns(UserWarning, match="non-tuple sequence"):
        out = x[[[0, 1], [1, 2]]]
    assert out.tolist() == [1, 6]


def test_getitem_integer_dtypes_and_result_dtypes():
    x = ember.arange(12).reshape(3, 4)
    assert x[1].dtype is ember.int64
    assert x[ember.tensor([0, 2], dtype=ember.int32)].tolist() == [[0, 1, 2, 3], [8, 9, 10, 11]]
    with pytest.warns(UserWarning, match="uint8"):
        assert x[ember.tensor([1, 0, 1], dtype=ember.uint8)].shape == (2, 4)


@st.composite
def index_cases(draw):
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
    n_arr = draw(st.integers(1, 3))  # common length of the integer arrays in this key
    key = []
    use_mask = draw(st.booleans()) and ndim >= 1
    mask_dim = draw(st.integers(0, ndim - 1)) if use_mask else -1
    for d, n in enumerate(shape):
        if draw(st.integers(0, 4)) == 0:
            key.append(None)
        if d == mask_dim:
            key.append(np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n))))
            continue
        kind = draw(st.sampled_from(["int", "slice", "array", "full"] if not use_mask else ["int", "slice", "full"]))
        if kind == "int":
            key.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            bound = st.one_of(st.none(), st.integers(-n - 1, n + 1))
            key.append(slice(draw(bound), draw(bound), draw(st.sampled_from([None, 1, 2, 3]))))
        elif kind == "array":
            key.append(np.array(draw(st.lists(st.integers(-n, n - 1), min_size=n_arr, max_size=n_arr))))
        else:
            key.append(slice(None))
    if draw(st.booleans()) and len(key) > 1:
        cut = draw(st.integers(0, len(key) - 1))
        key = key[:cut] + [Ellipsis]  # the rest of the dims through an Ellipsis
    if draw(st.booleans()):
        key.append(None)
    as_tensor = draw(st.booleans())
    key = tuple(ember.tensor(k) if as_tensor and isinstance(k, np.ndarray) else k for k in key)
    return shape, key


@SETTINGS
@given(index_cases())
def test_getitem_hypothesis(case):
    shape, key = case
    a = arr(shape, 1)
    out = ember.tensor(a)[key]
    expected = ref_get(a, key)
    assert out.shape == expected.shape
    assert_close(out, expected)


@SETTINGS
@given(index_cases(), st.booleans())
def test_setitem_hypothesis(case, scalar):
    shape, key = case
    a = arr(shape, 2)
    region = ref_get(a, key).shape
    value = 7.5 if scalar else arr(region[1:] if region else (), 3)  # broadcasts over the first dim
    t = ember.tensor(a)
    t[key] = value if scalar else ember.tensor(value)
    ref_set(a, key, value)
    assert_close(t, a)


# ---------------------------------------------------------------------------------------
# View semantics
# ---------------------------------------------------------------------------------------
def test_basic_indexing_returns_a_view():
    x = ember.tensor(np.arange(12.0).reshape(3, 4))
    v = x[1, ::2]
    assert v._base is x and v._version == x._version
    v[0] = 100.0  # writes through to the base
    assert x[1, 0].item() == 100.0
    assert x._version == v._version == 1
    x[1, 2] = -1.0
    assert v.tolist() == [100.0, -1.0]
    assert x[None, ..., 0].data_ptr() == x.data_ptr()


def test_advanced_indexing_returns_a_copy():
    x = ember.arange(12.0).reshape(3, 4)
    for out in (x[[0, 1]], x[x > 3], x[ember.tensor(True)]):
        assert out._base is None
        out.mul_(0)
    assert x.sum().item() == 66.0


def test_getitem_of_view_of_view_shares_version():
    x = ember.zeros(4, 4)
    y = x[1:][:, 2]
    y[0] = 3.0
    assert x[1, 2].item() == 3.0 and y._base is x and y._version == x._version


# ---------------------------------------------------------------------------------------
# __setitem__
# ---------------------------------------------------------------------------------------
def test_setitem_values_and_casts():
    x = ember.zeros(3, 4)
    x[0] = 1
    x[1, [0, 2]] = ember.tensor([2.0, 3.0], dtype=ember.float64)  # cast to float32
    x[x == 0] = ember.tensor(5.0)
    x[2] = ember.ones(1, 4) * 4  # extra leading size-1 dims are allowed
    x[:, 3] = np.float64(9.0)
    expected = np.array([[1, 1, 1, 9], [2, 5, 3, 9], [4, 4, 4, 9]], dtype=np.float32)
    assert_close(x, expected)
    assert x.dtype is ember.float32
    xi = ember.arange(4)
    xi[0] = 2.7  # truncated, as in PyTorch
    xi[ember.tensor([1, 2])] = ember.tensor([5.9, -1.5])
    assert xi.tolist() == [2, 5, -1, 3] and xi.dtype is ember.int64


def test_setitem_bumps_version_and_breaks_saved_tensors():
    x = make_tensor(3, requires_grad=True)
    y = x * 2
    z = y.exp()  # saves its output ...
    v0 = z._version
    z[0] = 1.0  # ... which is now modified in place
    assert z._version == v0 + 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_setitem_leaf_requiring_grad_raises_and_no_grad_writes():
    w = ember.zeros(3, requires_grad=True)
    msg = "a leaf Variable that requires grad is being used in an in-place operation."
    with pytest.raises(RuntimeError, match=msg):
        w[0] = 1.0
    with pytest.raises(RuntimeError, match="leaf Variable"):
        w[[0, 1]] = ember.ones(2)
    with ember.no_grad():
        w[0] = 1.0
        w[ember.tensor([False, True, False])] = 2.0
    assert w.tolist() == [1.0, 2.0, 0.0] and w.requires_grad and w.is_leaf and w._version == 2


def test_setitem_without_grad_writes_in_place():
    x = ember.zeros(2, 3)
    data = x._data
    x[:, 1] = ember.tensor([1.0, 2.0])
    assert x._data is data and x.grad_fn is None and not x.requires_grad


def test_setitem_gradients_to_self_and_value():
    x = make_tensor(3, 4, requires_grad=True, seed=1)
    v = make_tensor(4, requires_grad=True, seed=2)
    y = x * 1
    y[[0, 0, 2]] = v  # repeated rows: the value gets the gradient of every written row
    assert y.grad_fn is not None and y._version == 1
    g = make_tensor(3, 4, seed=3)
    y.backward(g)
    expected_x = g.numpy().copy()
    expected_x[[0, 2]] = 0
    assert_close(x.grad, expected_x)
    assert_close(v.grad, g.numpy()[[0, 0, 2]].sum(0))


def test_setitem_value_requires_grad_on_plain_tensor():
    b = ember.zeros(3, dtype=ember.float64)
    w = ember.tensor([2.0], dtype=ember.float64, requires_grad=True)
    b[1:2] = w
    assert b.requires_grad and not b.is_leaf
    (b * ember.tensor([1.0, 3.0, 5.0], dtype=ember.float64)).sum().backward()
    assert w.grad.tolist() == [3.0]


def test_augmented_assignment_through_an_index():
    z = ember.zeros(3, 2, dtype=ember.float64)
    w = ember.ones(2, dtype=ember.float64, requires_grad=True)
    z[0] += w  # a view of z gets the graph, then is written back through __setitem__
    z[[1, 1]] += 1.0  # advanced: no accumulation over the repeated row (as in PyTorch)
    assert z.tolist() == [[1.0, 1.0], [1.0, 1.0], [0.0, 0.0]]
    (z * 3).sum().backward()
    assert w.grad.tolist() == [3.0, 3.0]


# No repeated positions here: with repeats only the last write survives, and the value's gradient
# (PyTorch's: every written copy gets one) is not the numerical one; tested separately above.
SET_KEYS = [(1, slice(None)), (slice(None), [0, 3, 2]), ([0, 2], [1, 1]), "mask", (Ellipsis, 1)]


@pytest.mark.parametrize("key", SET_KEYS, ids=repr)
def test_setitem_gradcheck(key):
    x = make_tensor(3, 4, requires_grad=True, seed=4)
    if key == "mask":
        key = ember.tensor(x.detach().numpy() > 0)
    region = x.detach()[key].shape
    v = make_tensor(region[-1:] if region else (), requires_grad=True, seed=5)

    def f(x, v):
        y = x.clone()
        y[key] = v
        return y
    assert gradcheck(f, (x, v))
    assert gradgradcheck(f, (x, v))


def test_setitem_value_with_extra_leading_dims_gradient():
    x = make_tensor(2, 3, requires_grad=True, seed=6)
    v = make_tensor(1, 1, 3, requires_grad=True, seed=7)

    def f(x, v):
        y = x.clone()
        y[0] = v
        return y
    assert gradcheck(f, (x, v))


# ---------------------------------------------------------------------------------------
# __getitem__ gradients
# ---------------------------------------------------------------------------------------
GRAD_KEYS = [(slice(1, None), slice(None, None, 2)), (None, Ellipsis, 0), -1, ([0, 0, 2],),
             ([0, 0, 1], [3, 3, 3]), (slice(None), [[1, 1], [0, 1]]), "mask", (1, [2, 2, 0])]


@pytest.mark.parametrize("key", GRAD_KEYS, ids=repr)
def test_getitem_gradcheck(key):
    x = make_tensor(3, 4, requires_grad=True, seed=8)
    if key == "mask":
        key = ember.tensor(x.detach().numpy() > 0.2)
    assert gradcheck(lambda x: x[key], (x,))
    assert gradgradcheck(lambda x: x[key], (x,))


def test_getitem_repeated_indices_accumulate():
    x = ember.zeros(4, requires_grad=True)
    x[[1, 1, 1, 3]].sum().backward()
    assert x.grad.tolist() == [0.0, 3.0, 0.0, 1.0]


def test_getitem_double_backward_through_grad():
    x = make_tensor(4, requires_grad=True, seed=9)
    y = (x[[0, 0, 1]] ** 3).sum()
    (gx,) = ember.autograd.grad(y, x, create_graph=True)
    (ggx,) = ember.autograd.grad(gx.sum(), x)
    xn = x.detach().numpy()
    assert_close(ggx, np.array([12 * xn[0], 6 * xn[1], 0, 0]))


# ---------------------------------------------------------------------------------------
# gather / scatter / index_* / take / masked_*
# ---------------------------------------------------------------------------------------
def np_gather(a, dim, idx):
    sl = tuple(slice(0, s) for s in idx.shape)
    sl = sl[:dim] + (slice(None),) + sl[dim + 1:]
    return np.take_along_axis(a[sl], idx, dim)


@SETTINGS
@given(st.integers(1, 3).flatmap(lambda n: st.tuples(st.lists(st.integers(1, 4), min_size=n, max_size=n),
                                                     st.integers(0, n - 1), st.integers(0, 10 ** 6))))
def test_gather_scatter_hypothesis(case):
    shape, dim, seed = case
    rng = np.random.default_rng(seed)
    ishape = [rng.integers(1, s + 1) for s in shape]
    ishape[dim] = rng.integers(1, 5)
    idx = rng.integers(0, shape[dim], size=ishape)
    a = rng.standard_normal(shape)
    src = rng.standard_normal(ishape)
    assert_close(ember.gather(ember.tensor(a), dim, ember.tensor(idx)), np_gather(a, dim, idx))
    # scatter_add reference: loop over every index position
    expected = a.copy()
    for pos in np.ndindex(*idx.shape):
        tgt = list(pos)
        tgt[dim] = idx[pos]
        expected[tuple(tgt)] += src[pos]
    out = ember.scatter_add(ember.tensor(a), dim, ember.tensor(idx), ember.tensor(src))
    assert_close(out, expected)


def test_scatter_forward():
    x = ember.arange(12.0).reshape(3, 4)
    idx = ember.tensor([[0, 1]])
    src = ember.arange(10.0).reshape(2, 5) + 100  # larger than index: only its leading part is used
    expected = np.arange(12.0).reshape(3, 4)
    expected[0, 0], expected[1, 1] = 100, 101
    assert_close(ember.scatter(x, 0, idx, src), expected)
    assert_close(x.scatter(0, idx, 7.0)[:2, :2], [[7.0, 1.0], [4.0, 7.0]])
    assert_close(ember.scatter(x, 0, idx, value=7.0)[0, 0], 7.0)
    assert_close(ember.scatter(x, 1, ember.tensor([[3], [3], [0]]), 2.0, reduce="multiply")[:, [0, 3]],
                 [[0.0, 6.0], [4.0, 14.0], [16.0, 11.0]])
    assert_close(ember.scatter(x, 0, idx, ember.full((1, 2), 2.0), reduce="add")[:2, :2], [[2.0, 1.0], [4.0, 7.0]])
    y = ember.zeros(3, dtype=ember.int64).scatter_(0, ember.tensor([0, 0]), 2.5)
    assert y.tolist() == [2, 0, 0]
    z = ember.zeros(3)
    assert z.scatter_add_(0, ember.tensor([2, 2]), ember.ones(2)) is z and z.tolist() == [0.0, 0.0, 2.0]
    assert z._version == 1


def test_index_ops_forward():
    a = arr((3, 4), 10)
    x = ember.tensor(a)
    idx = ember.tensor([2, 0, 2])
    assert_close(ember.index_select(x, 1, idx), a[:, [2, 0, 2]])
    assert_close(x.index_select(0, ember.tensor(1)), a[[1]])
    assert ember.index_select(x, 0, ember.tensor([], dtype=ember.int64)).shape == (0, 4)
    src = arr((3, 3), 11)
    expected = a.copy()
    np.add.at(expected, (slice(None), [2, 0, 2]), 2 * src)
    assert_close(ember.index_add(x, 1, idx, ember.tensor(src), alpha=2), expected)
    expected = a.copy()
    expected[:, [0, 3]] = -1
    assert_close(x.index_fill(1, ember.tensor([0, -1]), -1), expected)
    assert_close(ember.index_fill(x, 1, ember.tensor([0, 3]), ember.tensor(-1.0, dtype=ember.float64)), expected)
    rows = arr((2, 4), 12)
    expected = a.copy()
    expected[[2, 0]] = rows
    assert_close(ember.index_copy(x, 0, ember.tensor([2, 0]), ember.tensor(rows)), expected)
    y = ember.zeros(3)
    y.index_add_(0, ember.tensor([0, 0, 1]), ember.ones(3))
    y.index_fill_(0, ember.tensor([2]), 5.0)
    y.index_copy_(0, ember.tensor([1]), ember.tensor([9.0]))
    assert y.tolist() == [2.0, 9.0, 5.0] and y._version == 3


def test_take_put_index_put_forward():
    a = arr((3, 4), 13)
    x = ember.tensor(a)
    idx = np.array([[0, 11], [-1, 3]])
    assert_close(ember.take(x, ember.tensor(idx)), a.reshape(-1)[idx])
    assert_close(x.t().take(ember.tensor([0, 1])), a.T.reshape(-1)[[0, 1]])
    col = np.array([[0], [1], [2]])
    assert_close(ember.take_along_dim(x, ember.tensor(col), 1), np.take_along_axis(a, col, 1))
    assert_close(ember.take_along_dim(x, ember.tensor([[0, -1]]), 1), a[:, [0, 3]])  # broadcast over dim 0
    assert_close(ember.take_along_dim(x, ember.tensor([0, 11])), a.reshape(-1)[[0, 11]])
    assert ember.zeros(3).put(ember.tensor([0, 0]), ember.ones(2), accumulate=True).tolist() == [2.0, 0.0, 0.0]
    z = ember.zeros(2, 2)
    z.put_(ember.tensor([3, 0]), ember.tensor([1.0, 2.0]))
    assert z.tolist() == [[2.0, 0.0], [0.0, 1.0]]
    out = ember.zeros(3).index_put((ember.tensor([0, 0]),), ember.ones(2), accumulate=True)
    assert out.tolist() == [2.0, 0.0, 0.0]
    w = ember.zeros(3)
    w.index_put_([ember.tensor([True, False, True])], ember.tensor(3.0))
    assert w.tolist() == [3.0, 0.0, 3.0]


def test_masked_ops_forward():
    a = arr((3, 4), 14)
    m = np.array([True, False, True, False])
    x = ember.tensor(a)
    expected = a.copy()
    expected[:, m] = 1.5
    assert_close(ember.masked_fill(x, ember.tensor(m), 1.5), expected)
    assert_close(x.masked_fill(ember.tensor(m), ember.tensor(1.5)), expected)
    out = ember.masked_fill(ember.zeros(4), ember.ones(3, 4, dtype=ember.bool), 1.0)  # broadcasts both
    assert out.shape == (3, 4)
    assert ember.masked_fill(ember.arange(4), ember.tensor(m), 2.7).tolist() == [2, 1, 2, 3]
    assert_close(ember.masked_select(x, ember.tensor(m)), np.broadcast_to(a, (3, 4))[np.broadcast_to(m, (3, 4))])
    assert ember.masked_select(ember.zeros(4), ember.ones(3, 4, dtype=ember.bool)).shape == (12,)
    src = ember.arange(6.0).reshape(2, 3)
    assert ember.zeros(4).masked_scatter(ember.tensor([True, False, True, False]), src).tolist() == [0.0, 0.0, 1.0, 0.0]
    y = ember.zeros(2, 2)
    y.masked_fill_(ember.tensor([True, False]), 3.0).masked_scatter_(ember.tensor([[False, True], [False, True]]),
                                                                     ember.tensor([7.0, 8.0]))
    assert y.tolist() == [[3.0, 7.0], [3.0, 8.0]] and y._version == 2


def test_nonzero_argwhere():
    a = np.array([[0, 1.5, 0], [2, 0, -1]])
    x = ember.tensor(a)
    assert ember.nonzero(x).tolist() == np.argwhere(a).tolist() and ember.nonzero(x).dtype is ember.int64
    rows, cols = x.nonzero(as_tuple=True)
    assert rows.tolist() == [0, 1, 1] and cols.tolist() == [1, 0, 2]
    assert ember.argwhere(x).tolist() == np.argwhere(a).tolist()
    assert ember.nonzero(ember.tensor(5)).shape == (1, 0)
    assert [t.tolist() for t in ember.nonzero(ember.tensor(0), as_tuple=True)] == [[]]
    assert ember.nonzero(ember.zeros(2, 0)).shape == (0, 2)


def test_gather_scatter_family_gradcheck():
    x = make_tensor(3, 4, requires_grad=True, seed=15)
    idx = ember.tensor([[0, 2, 2], [1, 1, 0]])
    src = make_tensor(2, 3, requires_grad=True, seed=16)
    big_src = make_tensor(3, 5, requires_grad=True, seed=17)
    cases = [
        (lambda x: ember.gather(x, 1, idx), (x,)),
        (lambda x: ember.gather(x, 0, ember.tensor([[0, 2, 2, 0]])), (x,)),
        (lambda x, s: ember.scatter(x, 1, ember.tensor([[0, 2, 3], [1, 3, 0]]), s), (x, src)),
        (lambda x, s: ember.scatter(x, 0, ember.tensor([[0, 2, 1]]), s), (x, big_src)),
        (lambda x: ember.scatter(x, 0, ember.tensor([[0, 2, 1]]), 2.0), (x,)),
        (lambda x, s: ember.scatter_add(x, 1, idx, s), (x, src)),
        (lambda x: ember.index_select(x, 1, ember.tensor([3, 0, 3])), (x,)),
        (lambda x, s: ember.index_add(x, 0, ember.tensor([2, 2, 0]), s, alpha=-2), (x, big_src[:, :4])),
        (lambda x: ember.take(x, ember.tensor([[0, 11], [0, -1]])), (x,)),
        (lambda x: ember.take_along_dim(x, ember.tensor([[0, 3]]), 1), (x,)),
        (lambda x, s: ember.put(x, ember.tensor([1, 1]), s[0, :2], accumulate=True), (x, src)),
        (lambda x, s: ember.index_put(x, (ember.tensor([0, 0]), ember.tensor([1, 1])), s[0, :2], True), (x, src)),
    ]
    for fn, inputs in cases:
        assert gradcheck(fn, inputs)
        assert gradgradcheck(fn, inputs)


def test_masked_family_gradcheck():
    x = make_tensor(3, 4, requires_grad=True, seed=18)
    m = ember.tensor(x.detach().numpy() > 0)
    row_mask = ember.tensor([True, False, True, True])
    v = make_tensor((), requires_grad=True, seed=19)
    src = make_tensor(14, requires_grad=True, seed=20)
    cases = [
        (lambda x: ember.masked_fill(x, m, 0.5), (x,)),
        (lambda x, v: ember.masked_fill(x, row_mask, v), (x, v)),
        (lambda x: ember.masked_select(x, m), (x,)),
        (lambda x: ember.masked_select(x[0], ember.tensor([[True, False, False, True]] * 2)), (x,)),
        (lambda x, s: ember.masked_scatter(x, row_mask, s), (x, src)),
    ]
    for fn, inputs in cases:
        assert gradcheck(fn, inputs)
        assert gradgradcheck(fn, inputs)


def test_inplace_variants_record_autograd():
    x = make_tensor(3, 4, requires_grad=True, seed=21)
    s = make_tensor(3, requires_grad=True, seed=22)
    y = x * 1
    y.masked_fill_(ember.tensor([True, False, False, False]), 0.0)
    y.index_add_(1, ember.tensor([2, 2, 3]), s.reshape(3, 1).expand(3, 3))  # source[i, j] = s[i]
    y.scatter_(0, ember.tensor([[1]]), 9.0)
    g = make_tensor(3, 4, seed=23)
    y.backward(g)
    expected = g.numpy().copy()
    expected[:, 0] = 0
    expected[1, 0] = 0
    assert_close(x.grad, expected)
    assert_close(s.grad, g.numpy()[:, [2, 2, 3]].sum(1))
    leaf = ember.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        leaf.masked_fill_(ember.tensor([True, False, False]), 1.0)


# ---------------------------------------------------------------------------------------
# Sorting
# ---------------------------------------------------------------------------------------
def np_stable_order(a, descending):
    """Stable order along the last axis (Python's sorted is stable), NaN largest."""
    def key(v):
        return (1, 0.0) if np.isnan(v) else (0, v)
    out = np.empty(a.shape, dtype=np.int64)
    for pos in np.ndindex(*a.shape[:-1]):
        row = a[pos]
        if descending:
            order = sorted(range(len(row)), key=lambda i: key(row[i]), reverse=True)
            # reverse=True keeps equal elements in their original order too
        else:
            order = sorted(range(len(row)), key=lambda i: key(row[i]))
        out[pos] = order
    return out


@SETTINGS
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.booleans(), st.integers(0, 10 ** 6), st.booleans())
def test_sort_hypothesis(shape, descending, seed, with_nan):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 3, size=shape).astype(np.float64)  # many ties
    if with_nan:
        a[rng.random(shape) < 0.2] = np.nan
    values, indices = ember.sort(ember.tensor(a), descending=descending)
    order = np_stable_order(a, descending)
    assert indices.tolist() == order.tolist() and indices.dtype is ember.int64
    assert_close(values, np.take_along_axis(a, order, -1), equal_nan=True)
    assert ember.argsort(ember.tensor(a), descending=descending).tolist() == order.tolist()
    k = int(rng.integers(0, shape[-1] + 1))
    tv, ti = ember.topk(ember.tensor(a), k, largest=descending)
    assert ti.tolist() == order[..., :k].tolist()
    assert_close(tv, np.take_along_axis(a, order[..., :k], -1), equal_nan=True)


@SETTINGS
@given(st.integers(1, 10), st.booleans(), st.sampled_from(["float64", "int64", "uint8", "bool"]),
       st.integers(0, 10 ** 6))
def test_topk_kthvalue_long_rows_with_ties(k, largest, dtype, seed):
    # Long rows take the partition path; ties must still come in stable order.
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 4, size=(3, 41)).astype(dtype)
    order = np_stable_order(a.astype(np.float64), largest)
    values, indices = ember.topk(ember.tensor(a), k, largest=largest)
    assert indices.tolist() == order[:, :k].tolist()
    assert values.tolist() == np.take_along_axis(a, order[:, :k], 1).tolist() and values.dtype.name == dtype
    vt, it = ember.topk(ember.tensor(a.T.copy()), k, dim=0, largest=largest)
    assert it.tolist() == order[:, :k].T.tolist()
    if dtype != "bool":
        kv = ember.kthvalue(ember.tensor(a), k)
        asc = np_stable_order(a.astype(np.float64), False)
        assert kv.indices.tolist() == asc[:, k - 1].tolist()


def test_sort_other_dims_dtypes_and_results():
    a = np.array([[3, 1], [2, 0], [5, 5]])
    res = ember.sort(ember.tensor(a), dim=0, descending=True)
    assert type(res) is ember.return_types.sort and res.values.dtype is ember.int64
    assert repr(res).startswith("ember.return_types.sort(")
    assert res.values.tolist() == [[5, 5], [3, 1], [2, 0]] and res.indices.tolist() == [[2, 2], [0, 0], [1, 1]]
    assert ember.tensor(a).sort(0, True).indices.tolist() == [[2, 2], [0, 0], [1, 1]]
    assert ember.sort(ember.tensor([True, False, True])).values.tolist() == [False, True, True]
    s = ember.sort(ember.tensor(3.0))
    assert s.values.item() == 3.0 and s.indices.shape == ()
    assert ember.msort(ember.tensor(a)).tolist() == np.sort(a, axis=0).tolist()
    t = ember.topk(ember.tensor(a), 1, dim=0)
    assert type(t) is ember.return_types.topk and t.values.tolist() == [[5, 5]] and t.indices.tolist() == [[2, 2]]
    assert ember.tensor([3, 1, 2]).topk(2, largest=False).values.tolist() == [1, 2]
    kv = ember.kthvalue(ember.tensor([[3.0, 1, 2], [0, 5, 4]]), 2)
    assert kv.values.tolist() == [2.0, 4.0] and kv.indices.tolist() == [2, 2]
    kv = ember.tensor([[3.0, 1, 2], [0, 5, 4]]).kthvalue(1, dim=0, keepdim=True)
    assert kv.values.tolist() == [[0.0, 1.0, 2.0]] and kv.indices.tolist() == [[1, 0, 0]]


def test_sort_topk_kthvalue_gradcheck():
    x = make_tensor(3, 4, requires_grad=True, seed=24)
    for fn in (lambda x: ember.sort(x, dim=1).values, lambda x: ember.sort(x, dim=0, descending=True).values,
               lambda x: ember.topk(x, 2).values, lambda x: ember.topk(x, 2, dim=0, largest=False).values,
               lambda x: ember.kthvalue(x, 2, dim=1).values, lambda x: ember.msort(x)):
        assert gradcheck(fn, (x,))
        assert gradgradcheck(fn, (x,))


def test_sort_gradient_scatters_back():
    x = ember.tensor([3.0, 1.0, 2.0], requires_grad=True)
    v, i = ember.topk(x, 2)
    (v * ember.tensor([10.0, 1.0])).sum().backward()
    assert x.grad.tolist() == [10.0, 0.0, 1.0] and not i.requires_grad


def test_unique():
    a = np.array([3, 1, 2, 1, 3, 3])
    out, inv, cnt = ember.unique(ember.tensor(a), return_inverse=True, return_counts=True)
    u, ninv, ncnt = np.unique(a, return_inverse=True, return_counts=True)
    assert out.tolist() == u.tolist() and inv.tolist() == ninv.reshape(-1).tolist() and cnt.tolist() == ncnt.tolist()
    assert inv.dtype is ember.int64 and cnt.dtype is ember.int64
    assert ember.tensor(a).unique().tolist() == [1, 2, 3]
    assert ember.unique(ember.tensor(a.reshape(2, 3)), return_inverse=True)[1].shape == (2, 3)
    m = ember.tensor([[3.0, 1], [2, 1], [3, 1]])
    out, inv, cnt = ember.unique(m, return_inverse=True, return_counts=True, dim=0)
    assert out.tolist() == [[2.0, 1.0], [3.0, 1.0]] and inv.tolist() == [1, 0, 1] and cnt.tolist() == [1, 2]
    out, inv = ember.unique(m, return_inverse=True, dim=1)
    assert out.tolist() == [[1.0, 3.0], [1.0, 2.0], [1.0, 3.0]] and inv.tolist() == [1, 0]
    nan = float("nan")
    assert len(ember.unique(ember.tensor([1.0, nan, nan]))) == 3  # NaNs are all distinct
    out, inv, cnt = ember.unique_consecutive(ember.tensor([1, 1, 2, 2, 3, 1, 1, 2]), return_inverse=True,
                                             return_counts=True)
    assert out.tolist() == [1, 2, 3, 1, 2] and inv.tolist() == [0, 0, 1, 1, 2, 3, 3, 4]
    assert cnt.tolist() == [2, 2, 1, 2, 1]
    out, cnt = ember.unique_consecutive(ember.tensor([[1, 1], [1, 1], [0, 1]]), return_counts=True, dim=0)
    assert out.tolist() == [[1, 1], [0, 1]] and cnt.tolist() == [2, 1]


# ---------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------
ERRORS = [
    (lambda x: x[5], IndexError, "index 5 is out of bounds for dimension 0 with size 3"),
    (lambda x: x[:, -5], IndexError, "index -5 is out of bounds for dimension 1 with size 4"),
    (lambda x: x[:, ember.tensor([0, 4])], IndexError, "index 4 is out of bounds for dimension 1 with size 4"),
    (lambda x: x[[0, -4]], IndexError, "index -4 is out of bounds for dimension 0 with size 3"),
    (lambda x: x[0, 0, 0], IndexError, "too many indices for tensor of dimension 2"),
    (lambda x: x[ember.tensor([True, False])], IndexError,
     r"The shape of the mask \[2\] at index 0 does not match the shape of the indexed tensor \[3, 4\] at index 0"),
    (lambda x: x[:, ember.tensor([True])], IndexError, r"mask \[1\] at index 0 .* tensor \[3, 4\] at index 1"),
    (lambda x: x[::-1], ValueError, "step must be greater than zero"),
    (lambda x: x[::0], ValueError, "slice step cannot be zero"),
    (lambda x: x[1.5], IndexError, r"only integers, slices \(`:`\), ellipsis \(`...`\), None and long"),
    (lambda x: x[ember.tensor([1.0])], IndexError, "tensors used as indices must be long, int, byte or bool tensors"),
    (lambda x: x[ember.tensor([1], dtype=ember.int16)], IndexError, "tensors used as indices must be long"),
    (lambda x: x[..., 0, ...], IndexError, "single ellipsis"),
    (lambda x: x[ember.tensor([0, 1]), ember.tensor([0, 1, 2])], IndexError,
     r"shape mismatch: indexing tensors could not be broadcast together with shapes \[2\], \[3\]"),
    (lambda x: ember.tensor(1.0)[0], IndexError, "invalid index of a 0-dim tensor"),
    (lambda x: x.__setitem__(0, [1.0, 2.0]), TypeError, "can't assign a list to a ember.FloatTensor"),
    (lambda x: x.__setitem__(0, np.ones(4)), TypeError, "can't assign a numpy.ndarray to a ember.FloatTensor"),
    (lambda x: x.__setitem__(0, ember.ones(3)), RuntimeError,
     r"shape mismatch: value tensor of shape \[3\] cannot be broadcast to indexing result of shape \[4\]"),
    (lambda x: x.__setitem__([0, 1], ember.ones(3)), RuntimeError, r"indexing result of shape \[2, 4\]"),
    (lambda x: x.expand(2, 3, 4).__setitem__(0, 1.0), RuntimeError, "more than one element of the written-to tensor"),
    (lambda x: ember.gather(x, 0, ember.tensor([0, 1])), RuntimeError,
     "Index tensor must have the same number of dimensions as input tensor"),
    (lambda x: ember.gather(x, 0, ember.tensor([[5, 1]])), RuntimeError,
     "index 5 is out of bounds for dimension 0 with size 3"),
    (lambda x: ember.gather(x, 0, ember.tensor([[-1, 1]])), RuntimeError, "index -1 is out of bounds"),
    (lambda x: ember.gather(x, 1, ember.zeros(4, 2, dtype=ember.int64)), RuntimeError,
     r"Size does not match at dimension 0 expected index \[4, 2\] to be no larger than self \[3, 4\] apart from "
     r"dimension 1"),
    (lambda x: ember.gather(x, 2, ember.zeros(2, 2, dtype=ember.int64)), IndexError, "Dimension out of range"),
    (lambda x: ember.gather(x, 0, ember.zeros(1, 1)), RuntimeError, "Expected dtype int32 or int64 for index"),
    (lambda x: ember.scatter(x, 0, ember.tensor([[0, 1]]), ember.ones(1, 1)), RuntimeError,
     r"to be no larger size than src \[1, 1\]"),
    (lambda x: ember.scatter(x, 0, ember.tensor([[0, 1]]), ember.ones(2, 5, dtype=ember.float64)), RuntimeError,
     "Expected self.dtype to be equal to src.dtype"),
    (lambda x: ember.scatter(x, 0, ember.tensor([[0, 1]]), 1.0, reduce="max"), RuntimeError,
     "reduce argument must be either add or multiply"),
    (lambda x: ember.index_select(x, 0, ember.tensor([[0]])), IndexError, "Index is supposed to be a vector"),
    (lambda x: ember.index_select(x, 0, ember.tensor([3])), IndexError, "index out of range in self"),
    (lambda x: ember.index_add(x, 0, ember.tensor([0]), ember.ones(2, 4)), RuntimeError, "does not match the shape"),
    (lambda x: ember.masked_fill(x, ember.tensor([1, 0, 1, 0]), 1.0), RuntimeError,
     "masked_fill_ only supports boolean masks, but got mask with dtype ember.int64"),
    (lambda x: ember.masked_fill(x, ember.tensor([True, False, True, False]), ember.tensor([1.0, 2.0])),
     RuntimeError, "only supports a 0-dimensional value tensor, but got tensor with 1 dimension"),
    (lambda x: ember.zeros(4).masked_fill_(ember.ones(3, 4, dtype=ember.bool), 1.0), RuntimeError,
     r"output with shape \[4\] doesn't match the broadcast shape \[3, 4\]"),
    (lambda x: ember.masked_select(x, ember.tensor([True, False])), RuntimeError,
     r"The size of tensor a \(4\) must match the size of tensor b \(2\) at non-singleton dimension 1"),
    (lambda x: ember.masked_select(x, ember.ones(3, 4)), RuntimeError, "expected BoolTensor for mask"),
    (lambda x: ember.masked_scatter(x, x > 0, ember.ones(1)), RuntimeError,
     "Number of elements of source < number of ones in mask"),
    (lambda x: ember.take(x, ember.tensor([12])), IndexError,
     "out of range: tried to access index 12 on a tensor of 12 elements."),
    (lambda x: ember.take_along_dim(x, ember.tensor([[[0]]]), 0), RuntimeError,
     "input and indices should have the same number of dimensions"),
    (lambda x: ember.topk(x, 5), RuntimeError, "selected index k out of range"),
    (lambda x: ember.kthvalue(x, 0), RuntimeError, "kthvalue\\(\\): selected number k out of range for dimension 1"),
    (lambda x: ember.sort(x, dim=2), IndexError, "Dimension out of range"),
]


@pytest.mark.parametrize("fn,exc,match", ERRORS, ids=[e[2][:40] for e in ERRORS])
def test_errors(fn, exc, match):
    x = ember.arange(12.0).reshape(3, 4)
    with pytest.raises(exc, match=match):
        fn(x)


def test_scatter_multiply_is_not_differentiable():
    x = make_tensor(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="reduce='multiply' is not implemented"):
        ember.scatter(x, 0, ember.tensor([0]), 2.0, reduce="multiply")
    with ember.no_grad():
        assert ember.scatter(x, 0, ember.tensor([0]), 2.0, reduce="multiply").shape == (3,)


# ---------------------------------------------------------------------------------------
# Devices
# ---------------------------------------------------------------------------------------
def test_cpu_indices_index_accelerator_tensors(accel):
    a = arr((3, 4), 25)
    x = ember.tensor(a).to("accel:0")
    out = x[ember.tensor([2, 0]), 1:]
    assert out.device == ember.device("accel:0")
    assert_close(out.cpu(), a[[2, 0], 1:])
    assert_close(x[ember.tensor(a > 0)].cpu(), a[a > 0])
    col = np.array([[0], [1], [3]])
    assert_close(ember.gather(x, 1, ember.tensor(col)).cpu(), np.take_along_axis(a, col, 1))
    x[ember.tensor([0])] = ember.tensor(0.0)  # a 0-d CPU value
    assert x.cpu()[0].tolist() == [0.0] * 4
    assert ember.sort(x).values.device == ember.device("accel:0")


def test_indices_on_another_accelerator_raise(accel):
    x = ember.zeros(3).to("accel:0")
    with pytest.raises(RuntimeError, match="indices should be either on cpu or on the same device"):
        x[ember.tensor([0]).to("accel:1")]
    with pytest.raises(RuntimeError, match="indices should be either on cpu or on the same device"):
        ember.zeros(3)[ember.tensor([0]).to("accel:0")]
    with pytest.raises(RuntimeError, match="accel:0.*accel:1|accel:1.*accel:0"):
        ember.gather(x, 0, ember.tensor([0]).to("accel:1"))
