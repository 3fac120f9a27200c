"""Random number generation: generators and seeding, factories, in-place fills, devices, errors.

Statistical checks use fixed seeds and generous tolerances (several standard errors), so they
are deterministic and not flaky.
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import ember
from ember.testing import assert_close


def host(t):
    return np.asarray(t.detach()._host())


# ---------------------------------------------------------------------------------------
# Shapes, dtypes, devices
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [ember.rand, ember.randn])
def test_float_factories_shapes_and_dtypes(fn):
    assert fn(2, 3).shape == (2, 3)
    assert fn((2, 3)).shape == (2, 3)
    assert fn([4]).shape == (4,)
    assert fn(ember.Size([2, 1])).shape == (2, 1)
    assert fn(size=(3,)).shape == (3,)
    assert fn(0, 3).shape == (0, 3)
    assert fn(()).shape == ()
    assert fn(2).dtype is ember.float32
    assert fn(2, dtype=ember.float64).dtype is ember.float64
    assert fn(2, dtype=ember.float16).dtype is ember.float16
    ember.set_default_dtype(ember.float64)
    assert fn(2).dtype is ember.float64
    t = fn(2, requires_grad=True)
    assert t.requires_grad and t.is_leaf


def test_integer_factories_shapes_and_dtypes():
    assert ember.randint(10, (2, 3)).dtype is ember.int64
    assert ember.randint(3, 10, (2, 3)).shape == (2, 3)
    assert ember.randint(0, 10, ()).shape == ()
    assert ember.randint(low=1, high=3, size=(4,)).shape == (4,)
    assert ember.randint(3, size=(4,)).shape == (4,)
    assert ember.randint(0, 10, (3,), dtype=ember.float32).dtype is ember.float32
    assert ember.randint(0, 2, (3,), dtype=ember.bool).dtype is ember.bool
    assert ember.randint(0, 200, (3,), dtype=ember.uint8).dtype is ember.uint8
    r = ember.randint(0, 10, (3,), dtype=ember.float32, requires_grad=True)
    assert r.requires_grad
    assert ember.randperm(5).dtype is ember.int64
    assert ember.randperm(0).shape == (0,)
    assert ember.randperm(5, dtype=ember.float32).dtype is ember.float32


def test_like_factories():
    x = ember.zeros(2, 3, dtype=ember.float64)
    assert ember.rand_like(x).dtype is ember.float64 and ember.rand_like(x).shape == (2, 3)
    assert ember.randn_like(x, dtype=ember.float32).dtype is ember.float32
    i = ember.zeros(4, dtype=ember.int32)
    r = ember.randint_like(i, 5)
    assert r.dtype is ember.int32 and ((host(r) >= 0) & (host(r) < 5)).all()
    r = ember.randint_like(ember.zeros(100), 2, 5)
    assert r.dtype is ember.float32 and set(host(r).tolist()) == {2.0, 3.0, 4.0}
    with pytest.raises(NotImplementedError, match="floating-point"):
        ember.rand_like(i)


def test_devices(accel):
    for t in (ember.rand(3, device="accel:1"), ember.randn(3, device="accel:1"),
              ember.randint(0, 5, (3,), device="accel:1"), ember.randperm(4, device="accel:1"),
              ember.normal(0.0, 1.0, (3,), device="accel:1")):
        assert t.device == "accel:1"
    x = ember.rand(5, device="accel:1")
    for t in (ember.rand_like(x), ember.bernoulli(x), ember.poisson(x), ember.multinomial(x, 2),
              ember.normal(x, 1.0), ember.normal(0.0, x), ember.normal(x, x)):
        assert t.device == "accel:1"
    x.uniform_(2, 3)
    assert x.device == "accel:1" and ((host(x) >= 2) & (host(x) < 3)).all()


def test_device_generator_and_mismatch(accel):
    g = ember.Generator("accel:0").manual_seed(3)
    assert g.device == "accel:0"
    a = ember.rand(4, device="accel:0", generator=g)
    g.manual_seed(3)
    b = ember.rand(4, device="accel:1", generator=g)   # same type, another index: drawn then moved
    assert b.device == "accel:1"
    assert_close(host(a), host(b))
    with pytest.raises(RuntimeError, match="Expected a 'accel' device type for generator but found 'cpu'"):
        ember.rand(2, device="accel:0", generator=ember.Generator())
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        ember.normal(ember.zeros(2), ember.ones(2, device="accel:0"))
    with pytest.raises(TypeError, match="ember.Generator"):
        ember.rand(2, generator=np.random.default_rng(0))


def test_device_default_generators_are_seeded(accel):
    ember.manual_seed(11)
    a = host(ember.randn(5, device="accel:1"))
    ember.manual_seed(11)
    b = host(ember.randn(5, device="accel:1"))
    np.testing.assert_array_equal(a, b)
    # Each device's generator starts from the seed: accel:0 repeats accel:1's stream.
    ember.manual_seed(11)
    np.testing.assert_array_equal(host(ember.randn(5, device="accel:0")), a)


# ---------------------------------------------------------------------------------------
# The values are drawn in the target dtype from the backend's generator
# ---------------------------------------------------------------------------------------
def test_float32_is_sampled_natively():
    ember.manual_seed(5)
    u, z = host(ember.rand(4, 3)), host(ember.randn(6))
    rng = np.random.Generator(np.random.PCG64(5))
    np.testing.assert_array_equal(u, rng.random((4, 3), dtype=np.float32))
    np.testing.assert_array_equal(z, rng.standard_normal(6, dtype=np.float32))


def test_uniform_inplace_writes_into_storage():
    t = ember.zeros(1000)
    ptr = t.data_ptr()
    with ember.no_grad():
        t.uniform_(-2, 2)
    assert t.data_ptr() == ptr
    v = host(t)
    assert v.min() >= -2 and v.max() < 2 and v.std() > 0.5


def test_float16_uniform_stays_below_one():
    ember.manual_seed(0)
    v = host(ember.rand(200_000, dtype=ember.float16))
    assert v.dtype == np.float16 and v.min() >= 0 and v.max() < 1


# ---------------------------------------------------------------------------------------
# Reproducibility, generators, state
# ---------------------------------------------------------------------------------------
def _sequence(generator=None):
    return [host(ember.rand(3, generator=generator)), host(ember.randn(2, 2, generator=generator)),
            host(ember.randint(0, 100, (4,), generator=generator)), host(ember.randperm(6, generator=generator)),
            host(ember.multinomial(ember.ones(5), 3, generator=generator)),
            host(ember.empty(3).normal_(generator=generator)), host(ember.empty(3).random_(generator=generator))]


def _assert_same(a, b):
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_manual_seed_reproduces():
    g = ember.manual_seed(123)
    assert g is ember.default_generator and ember.initial_seed() == 123
    first = _sequence()
    ember.manual_seed(123)
    _assert_same(first, _sequence())
    ember.manual_seed(124)
    assert not np.array_equal(first[0], host(ember.rand(3)))


def test_explicit_generator_is_independent():
    ember.manual_seed(1)
    expected = _sequence()
    g = ember.Generator().manual_seed(1)
    ember.manual_seed(1)
    interleaved = []
    for x in _sequence():
        interleaved.append(x)
        _sequence(g)                  # draws from g do not advance the global generator
    _assert_same(expected, interleaved)
    # ... and a generator seeded like the global one produces the same stream.
    _assert_same(expected, _sequence(ember.Generator().manual_seed(1)))


def test_generator_api():
    g = ember.Generator()
    assert g.device == "cpu" and g.initial_seed() == 67280421310721
    assert g.manual_seed(7) is g and g.initial_seed() == 7
    s = g.seed()
    assert isinstance(s, int) and 0 <= s < 2 ** 64 and g.initial_seed() == s
    assert ember.Generator().seed() != ember.Generator().seed()
    assert g.manual_seed(-1).initial_seed() == 2 ** 64 - 1          # negative seeds wrap
    with pytest.raises(ValueError, match="64 bits"):
        g.manual_seed(2 ** 64)
    with pytest.raises(RuntimeError, match="expected a long, but got float"):
        g.manual_seed(1.5)
    assert ember.manual_seed(3.7).initial_seed() == 3               # the module function truncates
    s = ember.seed()
    assert ember.initial_seed() == s


def test_state_round_trip():
    ember.manual_seed(9)
    ember.rand(5)                     # move away from the seeded state
    state = ember.get_rng_state()
    assert state.dtype is ember.uint8 and state.device == "cpu" and state.ndim == 1
    a = _sequence()
    ember.set_rng_state(state)
    _assert_same(a, _sequence())
    ember.manual_seed(0)
    ember.set_rng_state(state)
    assert ember.initial_seed() == 9  # the state carries the seed too

    g = ember.Generator().manual_seed(4)
    ember.randn(3, generator=g)
    st_g = g.get_state()
    b = _sequence(g)
    g2 = ember.Generator().set_state(st_g)
    _assert_same(b, _sequence(g2))


def test_state_errors(accel):
    with pytest.raises(TypeError, match="uint8"):
        ember.set_rng_state(ember.zeros(3))
    with pytest.raises(TypeError, match="uint8"):
        ember.set_rng_state(b"abc")
    with pytest.raises(RuntimeError, match="invalid RNG state"):
        ember.set_rng_state(ember.zeros(3, dtype=ember.uint8))
    bad = host(ember.get_rng_state()).copy()
    bad[10:20] = ord("x")
    with pytest.raises(RuntimeError, match="invalid RNG state"):
        ember.set_rng_state(ember.tensor(bad))
    cpu_state = ember.get_rng_state()
    g = ember.Generator("accel:0")
    with pytest.raises(RuntimeError, match="invalid RNG state for a accel generator"):
        g.set_state(cpu_state)
    s = g.get_state()
    x = host(ember.rand(3, device="accel:0", generator=g))
    g.set_state(s)
    np.testing.assert_array_equal(host(ember.rand(3, device="accel:0", generator=g)), x)


def test_cuda_seeding_is_a_noop_without_cuda():
    if ember.cuda.is_available():
        pytest.skip("a CUDA device is present")
    ember.manual_seed(2)
    state = host(ember.get_rng_state())
    assert ember.cuda.manual_seed_all(0) is None
    assert ember.cuda.manual_seed(0) is None
    np.testing.assert_array_equal(host(ember.get_rng_state()), state)


def test_cuda_seeding_with_a_cuda_backend(fake_cuda):
    ember.cuda.manual_seed_all(21)
    a0 = host(ember.rand(4, device="cuda:0"))
    a1 = host(ember.rand(4, device="cuda:1"))
    np.testing.assert_array_equal(a0, a1)
    ember.cuda.manual_seed_all(21)   # reseeds the generators that now exist
    np.testing.assert_array_equal(host(ember.rand(4, device="cuda:1")), a1)
    ember.cuda.manual_seed(5)        # only the current device (cuda:0)
    b0 = host(ember.rand(4, device="cuda:0"))
    ember.cuda.manual_seed(5)
    np.testing.assert_array_equal(host(ember.rand(4, device="cuda:0")), b0)
    assert not np.array_equal(host(ember.rand(4, device="cuda:1")), b0)
    ember.manual_seed(8)             # the global seed covers device generators too
    c = host(ember.rand(4, device="cuda:1"))
    ember.manual_seed(8)
    np.testing.assert_array_equal(host(ember.rand(4, device="cuda:1")), c)


# ---------------------------------------------------------------------------------------
# Statistical sanity (fixed seeds, tolerances of several standard errors)
# ---------------------------------------------------------------------------------------
N = 100_000


def test_normal_moments():
    ember.manual_seed(0)
    z = host(ember.randn(N))
    assert abs(z.mean()) < 0.02 and abs(z.std() - 1) < 0.02
    z = host(ember.normal(3.0, 2.0, (N,), dtype=ember.float64))
    assert z.dtype == np.float64 and abs(z.mean() - 3) < 0.04 and abs(z.std() - 2) < 0.04
    z = host(ember.empty(N).normal_(-1, 0.5))
    assert abs(z.mean() + 1) < 0.01 and abs(z.std() - 0.5) < 0.01


def test_uniform_range_and_moments():
    ember.manual_seed(1)
    for dtype in (ember.float32, ember.float64):
        u = host(ember.rand(N, dtype=dtype))
        assert u.min() >= 0 and u.max() < 1
        assert abs(u.mean() - 0.5) < 0.01 and abs(u.var() - 1 / 12) < 0.005
    u = host(ember.empty(N, dtype=ember.float64).uniform_(-3, 5))
    assert u.min() >= -3 and u.max() < 5 and abs(u.mean() - 1) < 0.05


def test_randint_bounds_and_coverage():
    ember.manual_seed(2)
    r = host(ember.randint(-3, 4, (N,)))
    assert r.min() == -3 and r.max() == 3
    counts = np.bincount(r + 3)
    assert np.all(np.abs(counts / N - 1 / 7) < 0.01)
    r = host(ember.randint(0, 256, (N,), dtype=ember.uint8))
    assert r.min() == 0 and r.max() == 255


def test_randperm_is_a_permutation():
    ember.manual_seed(3)
    for n in (1, 7, 1000):
        p = host(ember.randperm(n))
        np.testing.assert_array_equal(np.sort(p), np.arange(n))
    firsts = np.array([host(ember.randperm(4))[0] for _ in range(400)])
    assert len(set(firsts.tolist())) == 4


def test_bernoulli_frequencies():
    ember.manual_seed(4)
    probs = np.tile(np.array([0.0, 0.2, 0.9, 1.0], dtype=np.float32), (N // 4, 1))
    b = host(ember.bernoulli(ember.tensor(probs)))
    assert b.dtype == np.float32 and set(np.unique(b).tolist()) <= {0.0, 1.0}
    np.testing.assert_allclose(b.mean(axis=0), [0.0, 0.2, 0.9, 1.0], atol=0.01)
    assert abs(host(ember.bernoulli(ember.zeros(N), p=0.3)).mean() - 0.3) < 0.01
    t = ember.empty(N, dtype=ember.int64).bernoulli_(0.7)
    assert t.dtype is ember.int64 and abs(host(t).mean() - 0.7) < 0.01
    t = ember.empty(N // 4, 4).bernoulli_(ember.tensor([0.0, 0.5, 0.25, 1.0]))
    np.testing.assert_allclose(host(t).mean(axis=0), [0.0, 0.5, 0.25, 1.0], atol=0.015)


def test_multinomial_with_replacement_frequencies():
    ember.manual_seed(5)
    w = ember.tensor([1.0, 0.0, 3.0, 6.0])   # unnormalised
    s = host(ember.multinomial(w, N, replacement=True))
    assert s.dtype == np.int64 and s.shape == (N,)
    np.testing.assert_allclose(np.bincount(s, minlength=4) / N, [0.1, 0.0, 0.3, 0.6], atol=0.01)
    rows = ember.tensor([[0.0, 0.0, 1.0], [0.5, 0.5, 0.0], [1.0, 1.0, 2.0]], dtype=ember.float64)
    s = host(ember.multinomial(rows, 30_000, True))
    assert s.shape == (3, 30_000)
    assert (s[0] == 2).all() and set(np.unique(s[1]).tolist()) == {0, 1}
    np.testing.assert_allclose(np.bincount(s[2], minlength=3) / 30_000, [0.25, 0.25, 0.5], atol=0.015)


def test_multinomial_without_replacement():
    ember.manual_seed(6)
    probs = ember.tensor(np.tile(np.array([0.1, 0.2, 0.3, 0.4], dtype=np.float32), (20_000, 1)))
    s = host(ember.multinomial(probs, 4))
    assert s.shape == (20_000, 4)
    np.testing.assert_array_equal(np.sort(s, axis=1), np.tile(np.arange(4), (20_000, 1)))   # no repeats
    np.testing.assert_allclose(np.bincount(s[:, 0], minlength=4) / 20_000, [0.1, 0.2, 0.3, 0.4], atol=0.015)
    # The second draw follows P(j | first = i) = p_j / (1 - p_i): for first = 3 (p=0.4), p(0) = 0.1 / 0.6.
    second = s[s[:, 0] == 3, 1]
    assert abs((second == 0).mean() - 1 / 6) < 0.02
    # Zero-probability categories are never drawn while positive ones remain.
    s = host(ember.multinomial(ember.tensor([0.0, 5.0, 0.0, 1.0, 2.0]), 3))
    assert sorted(s.tolist()) == [1, 3, 4]
    assert host(ember.multinomial(ember.tensor([0.0, 1.0, 0.0]), 2))[0] == 1


def test_other_distributions():
    ember.manual_seed(7)
    e = host(ember.empty(N).exponential_(2.0))
    assert e.min() >= 0 and abs(e.mean() - 0.5) < 0.01
    g = host(ember.empty(N).geometric_(0.25))
    assert g.min() >= 1 and np.all(g == np.round(g)) and abs(g.mean() - 4) < 0.1
    ln = host(ember.empty(N, dtype=ember.float64).log_normal_(1.0, 0.5))
    assert ln.min() > 0 and abs(np.log(ln).mean() - 1) < 0.01 and abs(np.log(ln).std() - 0.5) < 0.01
    c = host(ember.empty(N).cauchy_(2.0, 3.0))
    q25, q50, q75 = np.percentile(c, [25, 50, 75])
    assert abs(q50 - 2) < 0.1 and abs((q75 - q25) / 2 - 3) < 0.15
    p = host(ember.poisson(ember.tensor(np.tile([0.0, 1.0, 10.0], (N // 3, 1)))))
    assert p.dtype == np.float64 and (p[:, 0] == 0).all() and np.all(p == np.round(p))
    np.testing.assert_allclose(p.mean(axis=0), [0, 1, 10], atol=0.1)


def test_random_inplace_ranges():
    ember.manual_seed(8)
    assert set(host(ember.empty(1000).random_(3)).tolist()) == {0.0, 1.0, 2.0}
    assert set(host(ember.empty(1000, dtype=ember.int64).random_(-2, 2)).tolist()) == {-2, -1, 0, 1}
    r = host(ember.empty(2000, dtype=ember.float32).random_())
    assert r.min() >= 0 and r.max() <= 2 ** 24 and r.max() > 2 ** 23 and np.all(r == np.round(r))
    r = host(ember.empty(2000, dtype=ember.int8).random_())
    assert r.min() >= 0 and r.max() > 100
    r = host(ember.empty(2000, dtype=ember.int16).random_(100, None))
    assert r.min() >= 100 and r.max() > 30000
    b = host(ember.empty(1000, dtype=ember.bool).random_())
    assert set(b.tolist()) == {False, True}
    r = host(ember.empty(100, dtype=ember.int64).random_(**{"from": 5, "to": 7}))
    assert set(r.tolist()) == {5, 6}


# ---------------------------------------------------------------------------------------
# normal overloads
# ---------------------------------------------------------------------------------------
def test_normal_overloads():
    ember.manual_seed(9)
    m = ember.tensor([[0.0], [100.0]])
    s = ember.tensor([1e-3, 1e-3, 1e-3], dtype=ember.float64)
    out = ember.normal(m, s)
    assert out.shape == (2, 3) and out.dtype is ember.float32     # mean's dtype wins
    assert_close(out, np.broadcast_to(host(m), (2, 3)), atol=0.01, rtol=0)
    out = ember.normal(m, 0.0)
    assert out.shape == (2, 1)
    assert_close(out, m)
    out = ember.normal(5.0, s)
    assert out.dtype is ember.float64 and out.shape == (3,)
    assert_close(out, [5.0] * 3, atol=0.01, rtol=0)
    out = ember.normal(mean=m)
    assert out.shape == (2, 1)
    out = ember.normal(2, 3, (4, 2))
    assert out.shape == (4, 2) and out.dtype is ember.float32


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 3), max_size=3), st.lists(st.integers(1, 3), max_size=3))
def test_normal_broadcast_shapes(ms, ss):
    try:
        expected = np.broadcast_shapes(tuple(ms), tuple(ss))
    except ValueError:
        with pytest.raises(RuntimeError, match="broadcast"):
            ember.normal(ember.zeros(ms), ember.ones(ss))
        return
    assert ember.normal(ember.zeros(ms), ember.ones(ss)).shape == expected


def test_samples_get_zero_gradients():
    m = ember.zeros(3, requires_grad=True)
    s = ember.ones(1, requires_grad=True)
    y = ember.normal(m, s)
    assert y.requires_grad and y.grad_fn is not None
    y.sum().backward()
    assert_close(m.grad, np.zeros(3))
    assert_close(s.grad, np.zeros(1))
    p = ember.full((4,), 0.5, requires_grad=True)
    b = ember.bernoulli(p)
    assert b.requires_grad
    b.sum().backward()
    assert_close(p.grad, np.zeros(4))
    with ember.no_grad():
        assert not ember.normal(m, 1.0).requires_grad


# ---------------------------------------------------------------------------------------
# In-place methods: version counter, autograd rules
# ---------------------------------------------------------------------------------------
INPLACE = [
    ("uniform_", ()), ("normal_", ()), ("bernoulli_", (0.5,)), ("random_", (0, 5)), ("exponential_", ()),
    ("geometric_", (0.5,)), ("log_normal_", ()), ("cauchy_", ()), ("fill_", (2.0,)), ("zero_", ()),
]


@pytest.mark.parametrize("name,args", INPLACE)
def test_inplace_version_and_leaf_rules(name, args):
    t = ember.ones(4, 3)
    v = t._version
    assert getattr(t, name)(*args) is t
    assert t._version == v + 1
    leaf = ember.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        getattr(leaf, name)(*args)
    with ember.no_grad():
        getattr(leaf, name)(*args)
    assert leaf.requires_grad and leaf.is_leaf and leaf._version == 1


@pytest.mark.parametrize("name,args", INPLACE)
def test_inplace_on_non_leaf_gives_zero_gradient(name, args):
    x = ember.ones(3, requires_grad=True)
    y = x * 2
    getattr(y, name)(*args)
    assert y.requires_grad and y.grad_fn is not None
    (y * 3).sum().backward()
    assert_close(x.grad, np.zeros(3))


def test_inplace_through_a_view_changes_the_base():
    base = ember.zeros(4, 5)
    row = base.view(20)
    v = base._version
    row.fill_(7.0)
    assert base._version == v + 1
    assert (host(base) == 7).sum() == row.numel()
    base.zero_()
    assert (host(base) == 0).all()


def test_inplace_noncontiguous_and_float16():
    t = ember.zeros(4, 6).transpose(0, 1)
    t.uniform_(1, 2)
    assert ((host(t) >= 1) & (host(t) < 2)).all()
    h = ember.zeros(1000, dtype=ember.float16).normal_(3, 0.1)
    assert h.dtype is ember.float16 and abs(host(h).astype(np.float64).mean() - 3) < 0.05


def test_fill_values_and_gradient():
    assert host(ember.zeros(3, dtype=ember.int64).fill_(2.7)).tolist() == [2, 2, 2]
    assert host(ember.zeros(3, dtype=ember.int64).fill_(-2.7)).tolist() == [-2, -2, -2]
    assert host(ember.zeros(2, dtype=ember.bool).fill_(2)).tolist() == [True, True]
    assert host(ember.zeros(2).fill_(ember.tensor(1.5))).tolist() == [1.5, 1.5]
    assert np.isnan(host(ember.zeros(2).fill_(math.nan))).all()
    v = ember.tensor(2.0, requires_grad=True)
    t = ember.zeros(3)
    t.fill_(v)
    assert t.requires_grad and t.grad_fn is not None
    (t * ember.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert_close(v.grad, 6.0)


def test_fill_errors():
    with pytest.raises(RuntimeError, match="fill_ only supports 0-dimension value tensor"):
        ember.zeros(3).fill_(ember.ones(2))
    with pytest.raises(RuntimeError, match="value cannot be converted to type uint8 without overflow"):
        ember.zeros(3, dtype=ember.uint8).fill_(300)
    with pytest.raises(RuntimeError, match="without overflow"):
        ember.zeros(3, dtype=ember.int64).fill_(math.nan)
    with pytest.raises(RuntimeError, match="without overflow"):
        ember.zeros(3, dtype=ember.float16).fill_(1e6)


# ---------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------
def test_factory_errors():
    with pytest.raises(RuntimeError, match="negative dimension"):
        ember.rand(-1)
    with pytest.raises(TypeError):
        ember.rand(2.5)
    with pytest.raises(TypeError, match="size"):
        ember.rand()
    with pytest.raises(TypeError, match="unexpected keyword"):
        ember.randn(2, sizes=3)
    with pytest.raises(NotImplementedError, match="floating-point"):
        ember.rand(2, dtype=ember.int64)
    with pytest.raises(NotImplementedError, match="floating-point"):
        ember.randn(2, dtype=ember.int32)
    with pytest.raises(RuntimeError, match="randperm: n must be non-negative"):
        ember.randperm(-1)
    with pytest.raises(RuntimeError, match="out of bounds for uint8"):
        ember.randperm(300, dtype=ember.uint8)


def test_randint_errors():
    with pytest.raises(RuntimeError, match="expects 'from' to be less than 'to', but got from=5 >= to=5"):
        ember.randint(5, 5, (3,))
    with pytest.raises(RuntimeError, match="from=6 >= to=5"):
        ember.randint(6, 5, (3,))
    with pytest.raises(RuntimeError, match="from=0 >= to=0"):
        ember.randint(0, (3,))
    with pytest.raises(RuntimeError, match="to - 1 is out of bounds for uint8"):
        ember.randint(0, 300, (3,), dtype=ember.uint8)
    with pytest.raises(RuntimeError, match="from is out of bounds for uint8"):
        ember.randint(-1, 3, (3,), dtype=ember.uint8)
    with pytest.raises(TypeError, match="must be an integer"):
        ember.randint(0, 2.5, (3,))
    with pytest.raises(TypeError, match="size must be a tuple"):
        ember.randint(0, 10, 3)
    with pytest.raises(TypeError, match="missing required argument"):
        ember.randint(10)
    with pytest.raises(RuntimeError, match="negative dimension"):
        ember.randint(0, 10, (-2,))


def test_multinomial_errors():
    with pytest.raises(RuntimeError, match="cannot sample n_sample > prob_dist.size"):
        ember.multinomial(ember.tensor([0.2, 0.8]), 3)
    with pytest.raises(RuntimeError, match="cannot sample n_sample > prob_dist.size"):
        ember.multinomial(ember.ones(0), 1)
    with pytest.raises(RuntimeError, match="n_sample <= 0"):
        ember.multinomial(ember.ones(3), 0)
    with pytest.raises(RuntimeError, match=r"sum of probabilities <= 0"):
        ember.multinomial(ember.tensor([[1.0, 1.0], [0.0, 0.0]]), 1)
    for bad in ([-0.1, 0.8], [math.inf, 0.8], [math.nan, 0.8]):
        with pytest.raises(RuntimeError, match="`inf`, `nan` or element < 0"):
            ember.multinomial(ember.tensor(bad), 1, True)
    with pytest.raises(RuntimeError, match="only supports floating-point dtypes"):
        ember.multinomial(ember.tensor([1, 2]), 1)
    with pytest.raises(RuntimeError, match="1 or 2 dim"):
        ember.multinomial(ember.ones(2, 2, 2), 1)
    with pytest.raises(RuntimeError, match="1 or 2 dim"):
        ember.multinomial(ember.tensor(1.0), 1)


def test_distribution_parameter_errors():
    with pytest.raises(RuntimeError, match="bernoulli expects all probabilities"):
        ember.bernoulli(ember.tensor([0.5, 1.5]))
    with pytest.raises(RuntimeError, match="bernoulli expects all probabilities"):
        ember.bernoulli(ember.tensor([0.5, math.nan]))
    with pytest.raises(RuntimeError, match=r"bernoulli_ expects p to be in \[0, 1\], but got p=2"):
        ember.bernoulli(ember.zeros(2), p=2.0)
    with pytest.raises(RuntimeError, match=r"expects p to be in \[0, 1\]"):
        ember.zeros(2, dtype=ember.bool).bernoulli_(1.5)
    with pytest.raises(RuntimeError, match="bernoulli_ expects all probabilities in p"):
        ember.zeros(2).bernoulli_(ember.tensor([0.5, -0.1]))
    with pytest.raises(RuntimeError, match="cannot be broadcast"):
        ember.zeros(3).bernoulli_(ember.tensor([0.2, 0.5]))
    with pytest.raises(NotImplementedError, match="floating-point"):
        ember.bernoulli(ember.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="normal expects std >= 0.0, but found std -1"):
        ember.normal(0.0, -1.0, (3,))
    with pytest.raises(RuntimeError, match="normal expects std >= 0.0"):
        ember.zeros(3).normal_(0, -1)
    with pytest.raises(RuntimeError, match="normal expects all elements of std >= 0.0"):
        ember.normal(ember.zeros(2), ember.tensor([1.0, -1.0]))
    with pytest.raises(NotImplementedError, match="floating-point"):
        ember.normal(ember.zeros(3, dtype=ember.int64), 1.0)
    with pytest.raises(TypeError, match="size is required"):
        ember.normal(0.0, 1.0)
    with pytest.raises(TypeError, match="size can only be given"):
        ember.normal(ember.zeros(3), 1.0, (3,))
    with pytest.raises(RuntimeError, match="invalid Poisson rate"):
        ember.poisson(ember.tensor([-1.0]))
    with pytest.raises(NotImplementedError, match="floating-point"):
        ember.poisson(ember.tensor([1, 2]))


def test_inplace_parameter_errors():
    with pytest.raises(RuntimeError, match=r"uniform_ expects to return a \[from, to\) range, but found from=1 > to=0"):
        ember.zeros(3).uniform_(1, 0)
    with pytest.raises(RuntimeError, match="out of bounds for float32"):
        ember.zeros(3).uniform_(0, math.inf)
    with pytest.raises(NotImplementedError, match="floating-point"):
        ember.zeros(3, dtype=ember.int64).uniform_()
    with pytest.raises(NotImplementedError, match="floating-point"):
        ember.zeros(3, dtype=ember.int64).normal_()
    with pytest.raises(RuntimeError, match="exponential_ expects lambda > 0.0, but found lambda=0"):
        ember.zeros(3).exponential_(0)
    with pytest.raises(RuntimeError, match="floating-point"):
        ember.zeros(3, dtype=ember.int64).exponential_()
    with pytest.raises(RuntimeError, match=r"geometric_ expects p to be in \(0, 1\), but got p=1"):
        ember.zeros(3).geometric_(1)
    with pytest.raises(RuntimeError, match="log_normal_ expects std > 0.0"):
        ember.zeros(3).log_normal_(0, 0)
    with pytest.raises(RuntimeError, match="cauchy_ expects sigma > 0.0"):
        ember.zeros(3).cauchy_(0, -1)
    with pytest.raises(RuntimeError, match="from=0 >= to=-5"):
        ember.zeros(3).random_(-5)
    with pytest.raises(RuntimeError, match="to - 1 is out of bounds for bool"):
        ember.zeros(3, dtype=ember.bool).random_(0, 5)
    with pytest.raises(RuntimeError, match="from is out of bounds for uint8"):
        ember.zeros(3, dtype=ember.uint8).random_(-1, 3)
    with pytest.raises(TypeError, match="must be an integer"):
        ember.zeros(3).random_(0.5, 3)
    with pytest.raises(TypeError, match="unexpected keyword"):
        ember.zeros(3).uniform_(0, 1, too=2)
