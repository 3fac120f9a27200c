"""Ops added to match PyTorch 2.13: axis=/keepdims= aliases, meshgrid, Tensor.unfold, copysign,
logaddexp(2), shifts and the bitwise family, cummax/cummin, logcumsumexp, scatter_reduce, F.one_hot,
F.cosine_similarity, F.pairwise_distance, cdist and their modules.

Values, dtypes, gradients and exception classes are compared with PyTorch's, recorded by
tests/core/data/make_new_ops_reference.py; that script also holds the calls themselves (as functions
of the library), so the test runs exactly what PyTorch ran. Finite-difference checks (gradcheck,
gradgradcheck) cover the gradients on top.
"""
import importlib.util
import inspect
import json
import math
import os
import pickle
import warnings

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.autograd import gradcheck, gradgradcheck
from ember.ops._registry import numpy_aliases
from ember.testing import assert_close

DATA = os.path.join(os.path.dirname(__file__), "data")


def _load_reference_script():
    # The script imports torch only when run; loading it here gives the shared case table.
    spec = importlib.util.spec_from_file_location("make_new_ops_reference",
                                                  os.path.join(DATA, "make_new_ops_reference.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REF = _load_reference_script()
_Z = np.load(os.path.join(DATA, "new_ops_reference.npz"))
META = json.loads(bytes(_Z["meta"]))
INDEX = json.loads(bytes(_Z["index"]))
_POOLS = {name[5:]: _Z[name] for name in _Z.files if name.startswith("pool_")}

# (rtol, atol) per dtype for values computed in a different order than PyTorch's kernels.
TOLS = {"float16": (1e-3, 1e-3), "float32": (1e-5, 1e-6), "float64": (1e-9, 1e-12)}
CASE_TOLS = {"cdist/mm": (1e-5, 1e-5)}   # float32 through a matrix product: rounding of |a|^2 + |b|^2 - 2ab


def stored(key):
    dtype, offset, shape = INDEX[key]
    return _POOLS[dtype][offset:offset + math.prod(shape)].reshape(shape)


def check(actual, expected: np.ndarray, what: str, tol=None):
    """``actual`` has ``expected``'s dtype, shape and values (NaN matching NaN)."""
    assert isinstance(actual, ember.Tensor), what
    assert str(actual.dtype).split(".")[-1] == expected.dtype.name, (what, actual.dtype, expected.dtype)
    assert tuple(actual.shape) == expected.shape, (what, tuple(actual.shape), expected.shape)
    if expected.dtype.kind == "f":
        rtol, atol = tol or TOLS[expected.dtype.name]
        assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=True, msg=what)
    else:
        assert np.array_equal(actual.numpy(), expected), (what, actual.numpy(), expected)


# ---------------------------------------------------------------------------------------
# Values, dtypes and gradients against PyTorch
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(META["cases"]))
def test_matches_pytorch(name):
    fn, _, grad = REF.CASES[name]
    entry = META["cases"][name]
    tensors = REF.make_inputs(ember, [stored(k) for k in entry["inputs"]], grad)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # the cases compute with inf and NaN on purpose
        outs = REF.outputs_of(fn(ember, F, *tensors))
        _check_case(name, entry, tensors, outs, grad)


def _check_case(name, entry, tensors, outs, grad):
    """The outputs, then (grad cases) the input gradients for PyTorch's upstream gradients."""
    assert len(outs) == len(entry["outputs"]), name
    for j, (out, key) in enumerate(zip(outs, entry["outputs"])):
        check(out, stored(key), f"{name} output {j}", CASE_TOLS.get(name))
    if not grad:
        return
    diff = [int(j) for j in entry["grad_outputs"]]
    assert [j for j, o in enumerate(outs) if o.requires_grad] == diff, name
    wrt = [x for x in tensors if x.requires_grad]
    gouts = [ember.tensor(stored(entry["grad_outputs"][str(j)])) for j in diff]
    grads = ember.autograd.grad([outs[j] for j in diff], wrt, gouts, allow_unused=True)
    for i, (g, key) in enumerate(zip(grads, entry["grads"])):
        if key is None:   # PyTorch gives no gradient (the input was not used)
            assert g is None or not g.abs().sum().item(), (name, i)
        else:
            check(g, stored(key), f"{name} gradient of input {i}", (1e-7, 1e-9))


@pytest.mark.parametrize("name", sorted(META["errors"]))
def test_raises_like_pytorch(name):
    expected = META["errors"][name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = REF.error_name(ember, F, REF.ERRORS[name])
    assert got == expected, (name, got, expected)


def test_error_messages_name_the_problem():
    x = ember.arange(12.0).reshape(3, 4)
    with pytest.raises(TypeError, match="got both 'dim' and its alias 'axis'"):
        x.sum(1, axis=0)
    with pytest.raises(RuntimeError, match=r"reduce argument must be either sum, prod, mean, amax or amin, got add"):
        x.scatter_reduce(0, ember.tensor([[0]]), x, "add")
    with pytest.raises(RuntimeError, match="maximum size for tensor at dimension 1 is 4 but size is 5"):
        x.unfold(1, 5, 1)
    with pytest.raises(RuntimeError, match="Class values must be smaller than num_classes"):
        F.one_hot(ember.tensor([0, 3]), 3)
    with pytest.raises(RuntimeError, match="X1 and X2 must have the same number of columns. X1: 3 X2: 2"):
        ember.cdist(ember.ones(2, 3), ember.ones(2, 2))
    with pytest.raises(NotImplementedError, match="lshift.*Float"):
        x << 1
    with pytest.raises(RuntimeError, match="same dtype"):
        ember.meshgrid(ember.tensor([1]), ember.tensor([1.0]), indexing="ij")


# ---------------------------------------------------------------------------------------
# Gradients against finite differences (float64), first and second order
# ---------------------------------------------------------------------------------------
def leaf(*shape, seed=0, low=None):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape) if low is None else rng.uniform(low, low + 2, shape)
    return ember.tensor(a, requires_grad=True)


def distinct(*shape, seed=0, offset=0.1):
    """Well-separated values (finite differences must not cross ties); tensors made with different
    ``offset`` share no value."""
    rng = np.random.default_rng(seed)
    return ember.tensor(rng.permutation(math.prod(shape)).reshape(shape) * 0.5 + offset, requires_grad=True)


@pytest.mark.parametrize("fn, make", [
    (lambda a, b: ember.copysign(a, b), lambda: (leaf(3, 4, low=0.5), leaf(3, 4, seed=1))),
    (lambda a, b: ember.logaddexp(a, b.t()), lambda: (leaf(3, 4), leaf(4, 3, seed=1))),
    (lambda a, b: ember.logaddexp2(a, b), lambda: (leaf(3, 4), leaf(4, seed=1))),
    (lambda a: ember.cummax(a.t(), 1).values, lambda: (distinct(4, 3),)),
    (lambda a: ember.cummin(a, 0).values, lambda: (distinct(4, 3),)),
    (lambda a: ember.logcumsumexp(a[:, ::2], 1), lambda: (leaf(3, 6),)),
    (lambda a: ember.logcumsumexp(a.t(), 0), lambda: (leaf(3, 4),)),
    (lambda a, b, c: ember.meshgrid(a, b, c, indexing="xy")[1] * ember.meshgrid(a, b, c, indexing="ij")[2].sum(),
     lambda: (leaf(2), leaf(3, seed=1), leaf(2, seed=2))),
    (lambda a: a.t().unfold(1, 3, 2), lambda: (leaf(7, 3),)),
    (lambda a: a.unfold(0, 2, 1).unfold(1, 2, 1), lambda: (leaf(4, 5),)),
    (lambda a, b: F.cosine_similarity(a, b.t()), lambda: (leaf(3, 4), leaf(4, 3, seed=1))),
    (lambda a, b: F.cosine_similarity(a, b, dim=0, eps=1e-2), lambda: (leaf(3, 4), leaf(3, 4, seed=1))),
    (lambda a, b: F.pairwise_distance(a, b), lambda: (leaf(3, 4), leaf(3, 4, seed=1))),
    (lambda a, b: F.pairwise_distance(a, b, p=3, keepdim=True), lambda: (leaf(3, 4), leaf(4, seed=1))),
    (lambda a, b: ember.cdist(a, b, 1.5), lambda: (leaf(2, 3, 2), leaf(4, 2, seed=1))),
    (lambda a, b: ember.cdist(a, b), lambda: (leaf(3, 2), leaf(4, 2, seed=1))),
    (lambda a, b: ember.cdist(a, b, compute_mode="use_mm_for_euclid_dist"), lambda: (leaf(3, 2), leaf(4, 2, seed=1))),
    (lambda a, b: ember.cdist(a, b, math.inf), lambda: (distinct(3, 2), leaf(4, 2, seed=1))),
])
def test_gradients_match_finite_differences(fn, make):
    inputs = make()
    with warnings.catch_warnings():
        # Intermediate infinities of the logcumsumexp backward (selected away by where); Ember
        # silences these for its own calls, but not under pytest's warning capture.
        warnings.simplefilter("ignore", RuntimeWarning)
        assert gradcheck(fn, inputs)
        assert gradgradcheck(fn, inputs)


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_gradients_match_finite_differences(reduce, include_self):
    x, src = distinct(4, 3), distinct(5, 3, seed=1, offset=0.35)   # used transposed: non-contiguous
    index = ember.tensor([[0, 1, 0, 3, 3], [2, 2, 2, 0, 1], [1, 0, 3, 3, 0]])

    def f(a, s):
        return ember.scatter_reduce(a.t(), 1, index, s.t(), reduce, include_self=include_self)

    inputs = (x, src)
    assert gradcheck(f, inputs)
    assert gradgradcheck(f, inputs)


def test_scatter_reduce_prod_gradient_with_zeros_and_its_double_backward_rule():
    x = ember.tensor([2.0, 3.0, 0.0], dtype=ember.float64, requires_grad=True)
    single = ember.tensor([0.0, 4.0, 5.0, 0.5], dtype=ember.float64, requires_grad=True)
    index = ember.tensor([0, 0, 1, 2])
    assert gradcheck(lambda a, s: ember.scatter_reduce(a, 0, index, s, "prod"), (x, single))
    assert gradgradcheck(lambda a, s: ember.scatter_reduce(a, 0, index, s, "prod"), (x, single))
    # Two zeros meet at one position: the first derivative exists, the second is refused (as PyTorch).
    double = ember.tensor([0.0, 0.0, 5.0, 0.5], dtype=ember.float64, requires_grad=True)
    out = ember.scatter_reduce(x, 0, index, double, "prod")
    (g,) = ember.autograd.grad(out.sum(), double, create_graph=True)
    assert g.tolist() == [0.0, 0.0, 3.0, 0.0]
    with pytest.raises(RuntimeError, match="Double backward is unsupported for src when >1 zeros"):
        ember.autograd.grad(g.sum(), double)


def test_float32_gradients_follow_float64():
    x64 = leaf(4, 5)
    x32 = x64.detach().float().requires_grad_()
    for x in (x64, x32):
        (ember.logcumsumexp(x, 1).sum() + ember.cummax(x, 0).values.sum() + x.unfold(1, 2, 1).sum()
         + F.cosine_similarity(x, x.flip(0)).sum() + ember.cdist(x, x.flip(1)).sum()).backward()
    assert x32.grad.dtype is ember.float32
    assert_close(x32.grad, x64.grad.float(), rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------------------------------
# axis= / keepdims=: one wrapper, same signature, same results
# ---------------------------------------------------------------------------------------
def test_aliases_keep_the_documented_signature_and_pickle():
    assert str(inspect.signature(ember.sum)) == str(inspect.signature(ember.sum.__wrapped__))
    assert ember.Tensor.sum is ember.sum and ember.sum.__name__ == "sum" and ember.sum.__doc__
    assert pickle.loads(pickle.dumps(ember.sum)) is ember.sum
    assert pickle.loads(pickle.dumps(ember.Tensor.scatter_reduce_)) is ember.Tensor.scatter_reduce_


def test_aliases_give_the_same_results_as_dim_and_keepdim():
    x = ember.tensor(np.random.default_rng(0).standard_normal((3, 4, 2)))
    for name in ("sum", "mean", "amax", "logsumexp", "std", "prod", "nansum"):
        fn = getattr(ember, name)
        assert_close(fn(x, axis=1, keepdims=True), fn(x, dim=1, keepdim=True))
        assert_close(getattr(x, name)(axis=-1), fn(x, -1))
    assert x.max(axis=2).indices.tolist() == x.max(2).indices.tolist()
    assert ember.narrow(x, axis=1, start=1, length=2).shape == (3, 2, 2)


def test_numpy_aliases_wraps_only_functions_with_dim_or_keepdim():
    def no_dim(input, other):
        return input

    def required_dim(input, dim, index, *, flag=False):
        return dim, index, flag

    assert numpy_aliases(no_dim) is no_dim
    f = numpy_aliases(required_dim)
    assert f(0, axis=1, index=2) == (1, 2, False) and f(0, 1, 2, flag=True) == (1, 2, True)
    with pytest.raises(TypeError, match="missing required argument 'dim'"):
        f(0, index=2)
    with pytest.raises(TypeError, match="missing required argument 'index'"):
        f(0, axis=1)
    with pytest.raises(TypeError, match="got both 'dim' and its alias 'axis'"):
        f(0, 1, 2, axis=1)
    with pytest.raises(TypeError, match="unexpected keyword argument 'keepdims'"):
        f(0, 1, 2, keepdims=True)


# ---------------------------------------------------------------------------------------
# View semantics, warnings, modules, devices
# ---------------------------------------------------------------------------------------
def test_unfold_is_a_view_sharing_storage():
    base = ember.arange(8.0)
    windows = base.unfold(0, 2, 2)
    assert windows._base is base and windows.stride() == (2, 1)
    base[1] = 10.0
    assert windows[0].tolist() == [0.0, 10.0]
    windows.mul_(2)                                # non-overlapping windows write through
    assert base.tolist() == [0.0, 20.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0]
    overlapping = base.unfold(0, 3, 1)
    with pytest.raises((RuntimeError, ValueError)):
        overlapping.add_(1)                        # would update shared elements several times


def test_inplace_through_an_unfold_view_is_differentiated():
    x = ember.arange(6.0, requires_grad=True)
    y = x * 1
    y.unfold(0, 2, 2).mul_(ember.tensor([1.0, 3.0]))
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 3.0, 1.0, 3.0, 1.0, 3.0]


def test_meshgrid_warns_without_indexing_and_returns_broadcast_views():
    a, b = ember.tensor([1, 2, 3]), ember.tensor([4, 5])
    with pytest.warns(UserWarning, match="indexing argument"):
        xs, ys = ember.meshgrid(a, b)
    assert xs.shape == ys.shape == (3, 2) and xs.stride() == (1, 0) and xs._base is a
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.meshgrid(a, b, indexing="xy")


def test_distance_modules():
    cos, dist = ember.nn.CosineSimilarity(dim=0, eps=1e-3), ember.nn.PairwiseDistance(p=1.0, keepdim=True)
    assert (cos.dim, cos.eps) == (0, 1e-3) and (dist.norm, dist.eps, dist.keepdim) == (1.0, 1e-6, True)
    assert repr(cos) == "CosineSimilarity()" and repr(dist) == "PairwiseDistance()"
    a, b = leaf(3, 4), leaf(3, 4, seed=1)
    assert_close(cos(a, b), F.cosine_similarity(a, b, 0, 1e-3))
    assert_close(dist(a, b), F.pairwise_distance(a, b, 1.0, keepdim=True))
    assert ember.cosine_similarity is F.cosine_similarity and ember.pairwise_distance is F.pairwise_distance


def test_triplet_margin_loss_uses_the_public_pairwise_distance():
    a, p, n = leaf(4, 3), leaf(4, 3, seed=1), leaf(4, 3, seed=2)
    want = (F.pairwise_distance(a, p, 1.5) - F.pairwise_distance(a, n, 1.5) + 1.0).clamp_min(0).mean()
    assert_close(F.triplet_margin_loss(a, p, n, p=1.5), want)


def test_new_ops_stay_on_the_device(accel):
    d = "accel:1"
    x = ember.tensor([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]], device=d, requires_grad=True)
    i = ember.tensor([[1, 2, 3], [4, 5, 6]], device=d)
    outs = [ember.copysign(x, -1), ember.logaddexp(x, x), ember.logaddexp2(x, x), i << 2, i >> 1, 3 << i,
            ember.cummax(x, 1).values, ember.cummin(x, 1).indices, ember.logcumsumexp(x, 1), x.unfold(1, 2, 1),
            ember.scatter_reduce(x, 1, i % 3, x, "amax"), ember.meshgrid(x[0], x[1], indexing="ij")[0],
            F.one_hot(i % 3), F.cosine_similarity(x, x), F.pairwise_distance(x, x), ember.cdist(x, x),
            ember.cdist(x, x, math.inf), x.sum(axis=1)]
    for out in outs:
        assert out.device == d
    sum(o.sum() for o in outs if o.requires_grad).backward()
    assert x.grad.device == d
    with pytest.raises(RuntimeError, match="same device"):
        ember.meshgrid(x[0], ember.ones(2), indexing="ij")
