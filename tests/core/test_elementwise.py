"""Element-wise ops: forward values against NumPy references, result dtypes, PyTorch's integer and
bool rules, reflected and in-place operators, autograd (gradcheck and gradgradcheck), devices and NaN.
"""
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import ember
from ember.autograd import gradcheck, gradgradcheck
from ember.ops import elementwise
from ember.testing import assert_close, make_tensor

F32, F64 = ember.float32, ember.float64
FLOATS = [F32, F64]
_erf = np.vectorize(math.erf, otypes=[float])
_erfc = np.vectorize(math.erfc, otypes=[float])


def _t(values, dtype=None, rg=False):
    """A tensor from Python data (default dtype inference), or built exactly in ``dtype`` via NumPy."""
    if dtype is not None:
        values = np.asarray(values, dtype=dtype.np)
    return ember.tensor(values, requires_grad=rg)


def _f64(values, rg=True):
    return ember.tensor(np.asarray(values, dtype=np.float64), requires_grad=rg)


def _uniform(shape, low, high, dtype=F64, seed=0, rg=False):
    return make_tensor(*shape, dtype=dtype, low=low, high=high, seed=seed, requires_grad=rg)


def _check_grads(fn, *inputs):
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


# ---------------------------------------------------------------------------------------
# Unary ops: (name, NumPy reference, domain for random inputs, integer inputs keep their dtype)
# ---------------------------------------------------------------------------------------
UNARY = [
    ("neg", np.negative, (-3, 3), True),
    ("negative", np.negative, (-3, 3), True),
    ("abs", np.abs, (-3, 3), True),
    ("absolute", np.abs, (-3, 3), True),
    ("exp", np.exp, (-3, 3), False),
    ("exp2", np.exp2, (-3, 3), False),
    ("log", np.log, (0.1, 4), False),
    ("log2", np.log2, (0.1, 4), False),
    ("log10", np.log10, (0.1, 4), False),
    ("log1p", np.log1p, (-0.9, 4), False),
    ("expm1", np.expm1, (-3, 3), False),
    ("sqrt", np.sqrt, (0.1, 4), False),
    ("rsqrt", lambda x: 1 / np.sqrt(x), (0.1, 4), False),
    ("square", np.square, (-3, 3), True),
    ("sin", np.sin, (-3, 3), False),
    ("cos", np.cos, (-3, 3), False),
    ("tan", np.tan, (-1.2, 1.2), False),
    ("asin", np.arcsin, (-0.9, 0.9), False),
    ("arcsin", np.arcsin, (-0.9, 0.9), False),
    ("acos", np.arccos, (-0.9, 0.9), False),
    ("arccos", np.arccos, (-0.9, 0.9), False),
    ("atan", np.arctan, (-3, 3), False),
    ("arctan", np.arctan, (-3, 3), False),
    ("sinh", np.sinh, (-3, 3), False),
    ("cosh", np.cosh, (-3, 3), False),
    ("tanh", np.tanh, (-3, 3), False),
    ("asinh", np.arcsinh, (-3, 3), False),
    ("acosh", np.arccosh, (1.1, 4), False),
    ("atanh", np.arctanh, (-0.9, 0.9), False),
    ("sigmoid", lambda x: 1 / (1 + np.exp(-x)), (-3, 3), False),
    ("reciprocal", np.reciprocal, (0.2, 3), False),
    ("sign", np.sign, (-3, 3), True),
    ("sgn", np.sign, (-3, 3), True),
    ("floor", np.floor, (-3, 3), True),
    ("ceil", np.ceil, (-3, 3), True),
    ("round", np.round, (-3, 3), True),
    ("trunc", np.trunc, (-3, 3), True),
    ("fix", np.trunc, (-3, 3), True),
    ("frac", lambda x: x - np.trunc(x), (-3, 3), None),  # None: PyTorch has no integer version
    ("relu", lambda x: np.maximum(x, 0), (-3, 3), True),
    ("erf", _erf, (-3, 3), False),
    ("erfc", _erfc, (-3, 3), False),
]
UNARY_IDS = [u[0] for u in UNARY]


@pytest.mark.parametrize("name,ref,domain,keeps_int", UNARY, ids=UNARY_IDS)
@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_unary_forward_matches_numpy(name, ref, domain, keeps_int, dtype):
    x = _uniform((3, 4), *domain, dtype=dtype, seed=1)
    expected = ref(x.numpy().astype(np.float64))
    for out in (getattr(ember, name)(x), getattr(x, name)()):
        assert out.dtype is dtype and out.shape == (3, 4)
        assert_close(out, expected.astype(dtype.np), rtol=1e-6 if dtype is F32 else 1e-12, atol=1e-6)


NO_BOOL_UNARY = {"neg", "negative", "abs", "absolute", "floor", "ceil", "round", "trunc", "fix", "relu"}
INT_UNARY_CASES = [pytest.param(*u, d, id=f"{u[0]}-{d.name}") for u in UNARY if u[3] is not None
                   for d in (ember.int32, ember.int64, ember.uint8, ember.bool)
                   if not (d is ember.bool and u[0] in NO_BOOL_UNARY)]  # PyTorch refuses those for bool


@pytest.mark.parametrize("name,ref,domain,keeps_int,dtype", INT_UNARY_CASES)
def test_unary_integer_and_bool_inputs(name, ref, domain, keeps_int, dtype):
    lo, hi = math.ceil(domain[0]), math.floor(domain[1])
    if dtype is ember.uint8 and (keeps_int or lo < 0):
        lo = max(lo, 0)
    values = np.arange(lo, hi + 1) if lo <= hi else np.array([0])
    if dtype is ember.bool:
        values = values[(values == 0) | (values == 1)] if name not in ("log", "log2", "log10", "rsqrt",
                                                                      "reciprocal", "acosh") else np.array([1])
    x = _t(values.astype(dtype.np))
    out = getattr(ember, name)(x)
    if keeps_int and dtype is not ember.bool:
        # Integer-valued ops (abs, sign, floor, ...) keep the integer dtype; exact results.
        assert out.dtype is dtype
        np.testing.assert_array_equal(out.numpy(), ref(values).astype(dtype.np))
    elif keeps_int:
        expected = {"square": ember.int64, "sign": ember.bool, "sgn": ember.bool}[name]
        assert out.dtype is expected
        np.testing.assert_array_equal(out.numpy(), ref(values.astype(np.int64)).astype(expected.np))
    else:
        # Floating-point ops compute integer inputs in the default dtype (exp(int) -> float32).
        assert out.dtype is F32
        assert_close(out, ref(values.astype(np.float64)).astype(np.float32), rtol=1e-6, atol=1e-6)


def test_integer_results_never_alias_the_input():
    x = _t([1, -2, 3])
    for fn in (ember.floor, ember.ceil, ember.trunc, ember.round, ember.abs, ember.relu, ember.sign):
        y = fn(x)
        y.add_(10)
        assert x.tolist() == [1, -2, 3], fn.__name__


def test_unary_requires_a_tensor():
    with pytest.raises(TypeError, match="must be Tensor"):
        ember.exp([1.0, 2.0])


def test_round_is_half_to_even_and_supports_decimals():
    x = _t([0.5, 1.5, 2.5, -0.5, -1.5, 0.25, 1.35])
    assert ember.round(x).tolist() == [0.0, 2.0, 2.0, -0.0, -2.0, 0.0, 1.0]
    assert_close(ember.round(x, decimals=1), np.round(x.numpy(), 1))
    assert_close(x.round(decimals=1), np.round(x.numpy(), 1))
    assert ember.round(_t([1, 2])).dtype is ember.int64


def test_negating_a_bool_tensor_raises():
    with pytest.raises(RuntimeError, match="Negation, the `-` operator, on a bool tensor is not supported"):
        -_t([True, False])


DIFF_UNARY = [u for u in UNARY if u[0] not in ("negative", "absolute", "arcsin", "arccos", "arctan", "sgn", "fix")]


@pytest.mark.parametrize("name,ref,domain,keeps_int", DIFF_UNARY, ids=[u[0] for u in DIFF_UNARY])
def test_unary_gradcheck_and_gradgradcheck(name, ref, domain, keeps_int):
    lo, hi = domain
    if name in ("abs", "sign", "relu"):
        x = _f64([-2.5, -0.7, 0.4, 1.9])   # away from the kink at 0
    elif name in ("floor", "ceil", "round", "trunc", "frac"):
        x = _f64([-2.3, -0.7, 0.4, 1.6])   # away from the jumps
    else:
        x = _uniform((2, 3), lo, hi, seed=3, rg=True)
    _check_grads(getattr(ember, name), x)


def test_zero_gradient_of_piecewise_constant_ops():
    x = _f64([-1.5, 0.3, 2.7])
    for fn in (ember.floor, ember.ceil, ember.round, ember.trunc, ember.sign):
        (g,) = ember.autograd.grad(fn(x).sum(), x)
        assert g.tolist() == [0.0, 0.0, 0.0]


# ---------------------------------------------------------------------------------------
# Binary ops: (name, NumPy reference, domain of a, domain of |b|, integer inputs allowed)
# ---------------------------------------------------------------------------------------
BINARY = [
    ("add", np.add, (-3, 3), (0.5, 3), True),
    ("sub", np.subtract, (-3, 3), (0.5, 3), True),
    ("subtract", np.subtract, (-3, 3), (0.5, 3), True),
    ("mul", np.multiply, (-3, 3), (0.5, 3), True),
    ("multiply", np.multiply, (-3, 3), (0.5, 3), True),
    ("div", np.true_divide, (-3, 3), (0.5, 3), True),
    ("divide", np.true_divide, (-3, 3), (0.5, 3), True),
    ("true_divide", np.true_divide, (-3, 3), (0.5, 3), True),
    ("floor_divide", np.floor_divide, (-5, 5), (0.5, 3), True),
    ("remainder", np.remainder, (-5, 5), (0.5, 3), True),
    ("fmod", np.fmod, (-5, 5), (0.5, 3), True),
    ("pow", np.power, (0.2, 3), (0.5, 2), True),
    ("float_power", np.power, (0.2, 3), (0.5, 2), True),
    ("atan2", np.arctan2, (-3, 3), (0.5, 3), True),
    ("arctan2", np.arctan2, (-3, 3), (0.5, 3), True),
    ("maximum", np.maximum, (-3, 3), (0.5, 3), True),
    ("minimum", np.minimum, (-3, 3), (0.5, 3), True),
    ("fmax", np.fmax, (-3, 3), (0.5, 3), True),
    ("fmin", np.fmin, (-3, 3), (0.5, 3), True),
    ("hypot", np.hypot, (-3, 3), (0.5, 3), False),
]
BINARY_IDS = [b[0] for b in BINARY]
FLOAT_RESULT = {"div", "divide", "true_divide", "atan2", "arctan2"}  # integers in, default float out


def _operands(a_dom, b_dom, dtype, shape=(3, 4), seed=0):
    a = _uniform(shape, *a_dom, dtype=dtype, seed=seed)
    sign = np.where(np.random.default_rng(seed + 1).random(shape) < 0.5, -1.0, 1.0)
    b = ember.tensor((_uniform(shape, *b_dom, dtype=F64, seed=seed + 2).numpy() * sign).astype(dtype.np))
    return a, b


@pytest.mark.parametrize("name,ref,a_dom,b_dom,ints", BINARY, ids=BINARY_IDS)
@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_binary_forward_matches_numpy(name, ref, a_dom, b_dom, ints, dtype):
    a, b = _operands(a_dom, b_dom, dtype)
    if name in ("pow", "float_power"):
        b = b.abs()
    an, bn = a.numpy().astype(np.float64), b.numpy().astype(np.float64)
    out_dtype = F64 if name == "float_power" else dtype
    tol = dict(rtol=1e-6, atol=1e-6) if out_dtype is F32 else dict(rtol=1e-12, atol=1e-12)
    fn = getattr(ember, name)
    for out in (fn(a, b), getattr(a, name)(b)):
        assert out.dtype is out_dtype
        assert_close(out, ref(an, bn), **tol)
    # A Python number as the second operand keeps the tensor's dtype.
    out = fn(a, 1.75)
    assert out.dtype is out_dtype
    assert_close(out, ref(an, 1.75), **tol)


@pytest.mark.parametrize("name,ref,a_dom,b_dom,ints", [b for b in BINARY if b[4]],
                         ids=[b[0] for b in BINARY if b[4]])
@pytest.mark.parametrize("dtype", [ember.int32, ember.int64, ember.int16], ids=str)
def test_binary_integer_inputs(name, ref, a_dom, b_dom, ints, dtype):
    an = np.array([[-7, -3, 0, 2], [5, 9, -1, 4]])
    bn = np.array([[2, -3, 5, 3], [-2, 4, 1, 2]])
    if name in ("pow", "float_power"):
        an, bn = np.abs(an), np.abs(bn)
    a, b = _t(an.astype(dtype.np)), _t(bn.astype(dtype.np))
    out = getattr(ember, name)(a, b)
    if name in FLOAT_RESULT:
        assert out.dtype is F32
        assert_close(out, ref(an.astype(np.float64), bn).astype(np.float32))
    elif name == "float_power":
        assert out.dtype is F64
        assert_close(out, ref(an.astype(np.float64), bn))
    else:
        assert out.dtype is dtype
        np.testing.assert_array_equal(out.numpy(), ref(an, bn).astype(dtype.np))


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "floor_divide", "remainder", "pow", "maximum", "atan2"])
def test_binary_mixed_int_and_float_tensors_promote(name):
    a = _t(np.array([1, 2, 3], dtype=np.int32))
    b = _t(np.array([1.5, -2.0, 0.5], dtype=np.float64))
    out = getattr(ember, name)(a, b)
    assert out.dtype is F64
    ref = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide, "pow": np.power,
           "floor_divide": np.floor_divide, "remainder": np.remainder, "maximum": np.maximum,
           "atan2": np.arctan2}[name]
    assert_close(out, ref(a.numpy().astype(np.float64), b.numpy()))


def test_bool_arithmetic_follows_pytorch():
    a, b = _t([True, True, False]), _t([True, False, False])
    assert (a + b).dtype is ember.bool and (a + b).tolist() == [True, True, False]
    assert (a * b).dtype is ember.bool and (a * b).tolist() == [True, False, False]
    assert (a + 1).dtype is ember.int64 and (a + 1).tolist() == [2, 2, 1]
    assert (a * 2.5).tolist() == [2.5, 2.5, 0.0]
    assert (a ** True).dtype is ember.bool and (a ** True).tolist() == [True, True, False]
    assert (a ** 2).dtype is ember.int64
    assert (2 ** a).tolist() == [2, 2, 1]
    assert (a / _t([True, True, True])).dtype is F32


@pytest.mark.parametrize("expr", [
    lambda a, b: a - b, lambda a, b: ember.sub(a, b), lambda a, b: a - True, lambda a, b: True - a,
    lambda a, b: a - 1, lambda a, b: 1 - a, lambda a, b: a - 1.5, lambda a, b: b - a, lambda a, b: b - True,
    lambda a, b: b.sub_(a),
])
def test_subtraction_with_bool_raises(expr):
    a, b = _t([True, False]), _t([1.0, 2.0])
    with pytest.raises(RuntimeError, match="Subtraction, the `-` operator, with (a bool tensor|two bool tensors)"):
        expr(a, b)


def test_subtracting_two_bools_suggests_xor():
    with pytest.raises(RuntimeError, match="two bool tensors.*logical_xor"):
        _t([True]) - _t([False])


# ---------------------------------------------------------------------------------------
# Division, modulus and power conventions
# ---------------------------------------------------------------------------------------
def test_floor_divide_and_remainder_are_python_style():
    a, b = [-7, 7, -7, 7, 5, -5], [2, -2, -2, 2, 3, 3]
    exp_q = [x // y for x, y in zip(a, b)]
    exp_r = [x % y for x, y in zip(a, b)]
    for dtype in (ember.int64, ember.int32, F32, F64):
        ta, tb = _t(a, dtype), _t(b, dtype)
        assert (ta // tb).tolist() == exp_q and ember.floor_divide(ta, tb).tolist() == exp_q
        assert (ta % tb).tolist() == exp_r and ember.remainder(ta, tb).tolist() == exp_r
        assert ember.div(ta, tb, rounding_mode="floor").tolist() == exp_q
        assert (ta // tb).dtype is dtype and (ta % tb).dtype is dtype
    # Floats: floor_divide is Python's // (1.0 // 0.1 == 9.0, while floor(1.0 / 0.1) == 10.0).
    x = _t([1.0, -1.0], F64)
    assert (x // 0.1).tolist() == [1.0 // 0.1, -1.0 // 0.1]
    assert_close(x % 0.1, [1.0 % 0.1, -1.0 % 0.1])
    assert_close(x - (x // 0.1) * 0.1, x % 0.1)


def test_fmod_and_trunc_division_are_c_style():
    a, b = [-7, 7, -7, 7, 5, -5], [2, -2, -2, 2, 3, 3]
    exp_fmod = [math.fmod(x, y) for x, y in zip(a, b)]
    exp_trunc = [int(x / y) for x, y in zip(a, b)]
    for dtype in (ember.int64, ember.int32, F32, F64):
        ta, tb = _t(a, dtype), _t(b, dtype)
        assert ember.fmod(ta, tb).tolist() == exp_fmod and ember.fmod(ta, tb).dtype is dtype
        q = ember.div(ta, tb, rounding_mode="trunc")
        assert q.tolist() == exp_trunc and q.dtype is dtype
    assert_close(ember.fmod(_t([-7.5, 7.5]), 2), [-1.5, 1.5])
    assert_close(ember.remainder(_t([-7.5, 7.5]), 2), [0.5, 1.5])
    assert ember.remainder(-7, _t([2, -2])).tolist() == [1, -1]


def test_div_rounding_mode_dtypes():
    i32 = _t([-7, 7], ember.int32)
    assert ember.div(i32, 2, rounding_mode="trunc").dtype is ember.int32      # a number doesn't widen
    assert ember.div(i32, 2, rounding_mode="floor").dtype is ember.int32
    assert ember.div(i32, _t(2), rounding_mode="trunc").dtype is ember.int32  # nor does a 0-dim tensor
    assert ember.div(i32, _t([2, 2]), rounding_mode="trunc").dtype is ember.int64
    out = ember.div(i32, 2.0, rounding_mode="trunc")
    assert out.dtype is F32 and out.tolist() == [-3.0, 3.0]
    assert ember.div(i32, 2.0, rounding_mode="floor").tolist() == [-4.0, 3.0]
    assert ember.div(i32, 2).dtype is F32 and ember.div(i32, 2).tolist() == [-3.5, 3.5]
    # Integer quotients are exact (no detour through float32).
    big = _t([2 ** 40 + 1, -(2 ** 40) - 1])
    assert ember.div(big, 1, rounding_mode="trunc").tolist() == [2 ** 40 + 1, -(2 ** 40) - 1]
    assert ember.div(big, 2, rounding_mode="trunc").tolist() == [2 ** 39, -(2 ** 39)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy warns on division by zero; PyTorch doesn't
        assert_close(ember.div(_t([-7.0, 7.0]), 0.0, rounding_mode="trunc"), [-math.inf, math.inf])
    with pytest.raises(RuntimeError, match="rounding_mode to be one of None, 'trunc', or 'floor'"):
        ember.div(i32, 2, rounding_mode="round")


@pytest.mark.parametrize("fn", [
    lambda a, b: a // b, lambda a, b: a % b, lambda a, b: ember.fmod(a, b),
    lambda a, b: ember.div(a, b, rounding_mode="trunc"), lambda a, b: ember.div(a, b, rounding_mode="floor"),
    lambda a, b: a // 0, lambda a, b: a % 0,
])
def test_integer_division_by_zero_raises(fn):
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        fn(_t([1, 2]), _t([0, 1]))


def test_float_division_by_zero_gives_inf_and_nan():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert (_t([1.0, -1.0, 0.0]) / 0).tolist()[:2] == [math.inf, -math.inf]
        assert math.isnan((_t([0.0]) / 0).item())
        assert (_t([5, -5]) / _t([0, 0])).tolist() == [math.inf, -math.inf]   # int / int is float
        assert (_t([1.0, -1.0], F64) // 0.0).tolist() == [math.inf, -math.inf]


def test_true_division_of_integers():
    out = _t([1, 2, 3]) / _t([2, 2, 2])
    assert out.dtype is F32 and out.tolist() == [0.5, 1.0, 1.5]
    assert (_t([4], ember.uint8) / _t([3], ember.int8)).dtype is F32
    assert (7 / _t([2])).tolist() == [3.5]


def test_pow_with_negative_and_integer_exponents():
    x = _t([2.0, 4.0])
    assert_close(x ** -1, [0.5, 0.25])
    assert_close(x.pow(-2), [0.25, 0.0625])
    assert (x ** 2).dtype is F32
    i = _t([2, 3])
    assert (i ** 2).dtype is ember.int64 and (i ** 2).tolist() == [4, 9]
    assert (i ** 0).tolist() == [1, 1]
    assert (i ** 2.5).dtype is F32
    assert_close(i ** 0.5, np.sqrt([2.0, 3.0]))
    for bad in (lambda: i ** -1, lambda: i.pow(-2), lambda: ember.pow(_t([2], ember.uint8), -1),
                lambda: i.pow_(-1)):
        with pytest.raises(RuntimeError, match="Integers to negative integer powers are not allowed."):
            bad()
    # A tensor of exponents may hold negative values: 1 for base 1, +-1 for base -1, else 0.
    base = _t([0, 1, -1, 2, -2, 3], ember.int32)
    exps = _t([-1, -3, -3, -1, -2, 2], ember.int32)
    out = base ** exps
    assert out.dtype is ember.int32 and out.tolist() == [0, 1, -1, 0, 0, 9]
    assert (base ** _t(-1)).tolist() == [0, 1, -1, 0, 0, 0]
    assert ember.pow(2, _t([-1, 2])).tolist() == [0, 4]
    assert ember.pow(-1, _t([-1, -2, 3])).tolist() == [-1, 1, -1]
    assert (_t([2, 3]) ** _t(-1.0)).dtype is F32
    assert_close(ember.pow(2.5, _t([-1, 2])), [0.4, 6.25])


def test_float_power_is_double():
    out = ember.float_power(_t([2, 3]), 2)
    assert out.dtype is F64 and out.tolist() == [4.0, 9.0]
    assert ember.float_power(_t([2.0], F32), _t([-1])).tolist() == [0.5]
    assert ember.float_power(2, _t([1.0, 3.0])).dtype is F64


def test_python_ints_wrap_to_the_tensor_dtype():
    u8 = _t([1, 2], ember.uint8)
    assert (u8 - 3).tolist() == [254, 255] and (u8 - 3).dtype is ember.uint8
    assert (u8 + (-1)).tolist() == [0, 1]
    assert (3 - u8).tolist() == [2, 1]
    assert (_t([1, 2], ember.int8) + 200).tolist() == [-55, -54]
    assert (_t([100], ember.int8) * 2).tolist() == [-56]            # integer overflow wraps too
    assert (_t([250], ember.uint8) + _t([10], ember.uint8)).tolist() == [4]
    assert (u8 < -1).tolist() == [True, True]                        # -1 is 255 as uint8
    assert (u8 == 257).tolist() == [True, False]
    assert (u8 & -1).tolist() == [1, 2]
    assert ember.clamp(u8, -1, 2).tolist() == [2, 2]
    with pytest.raises(OverflowError):
        _t([1, 2]) + 2 ** 64


# ---------------------------------------------------------------------------------------
# add/sub alpha
# ---------------------------------------------------------------------------------------
def test_add_and_sub_with_alpha():
    a, b = _t([1.0, 2.0]), _t([3.0, 4.0])
    assert ember.add(a, b, alpha=2).tolist() == [7.0, 10.0]
    assert ember.sub(a, b, alpha=0.5).tolist() == [-0.5, 0.0]
    assert a.add(1, alpha=2).tolist() == [3.0, 4.0]
    assert ember.add(_t([2, 3]), _t([1, 1]), alpha=3).tolist() == [5, 6]
    assert ember.add(a, _t([1, 2]), alpha=2.5).tolist() == [3.5, 7.0]
    # alpha takes no part in promotion: the result is the type of input and other.
    h = _t([1.0, 2.0], ember.float16)
    assert ember.add(h, _t([1, 2]), alpha=0.5).dtype is ember.float16
    assert ember.add(a, _t(1.0, F64), alpha=2).dtype is F32
    assert ember.add(_t([True]), _t([True]), alpha=2).dtype is ember.bool
    with pytest.raises(RuntimeError, match="For integral input tensors, argument alpha must not be a floating point"):
        ember.add(_t([1, 2]), _t([1, 2]), alpha=2.5)
    with pytest.raises(RuntimeError, match="For integral input tensors"):
        _t([1, 2]).add_(1, alpha=2.5)
    with pytest.raises(RuntimeError, match="Boolean alpha only supported for Boolean results"):
        ember.add(a, b, alpha=True)


def test_add_alpha_gradients():
    a, b = _f64([1.0, 2.0, 3.0]), _f64([0.5, -1.0, 2.0])
    _check_grads(lambda x, y: ember.add(x, y, alpha=2.5), a, b)
    _check_grads(lambda x, y: ember.sub(x, y, alpha=-3), a, b)


# ---------------------------------------------------------------------------------------
# Reflected operators with Python and NumPy scalars
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("scalar", [2, 2.5, np.float64(2.5), np.float32(2.5), np.int64(2)],
                         ids=["int", "float", "np.float64", "np.float32", "np.int64"])
def test_reflected_operators(scalar):
    t = _t([0.5, 1.0, 2.0, -1.5], F32)
    x = t.numpy().astype(np.float64)
    s = float(scalar)
    cases = [(scalar + t, s + x), (scalar - t, s - x), (scalar * t, s * x), (scalar / t, s / x),
             (scalar ** t, s ** x), (scalar // t, np.floor_divide(s, x)), (scalar % t, np.remainder(s, x)),
             (t + scalar, x + s), (t - scalar, x - s), (t * scalar, x * s), (t / scalar, x / s),
             (t.abs() ** scalar, np.abs(x) ** s), (t // scalar, np.floor_divide(x, s)),
             (t % scalar, np.remainder(x, s))]
    for out, expected in cases:
        assert isinstance(out, ember.Tensor) and out.dtype is F32   # NumPy scalars don't widen float32
        assert_close(out, expected.astype(np.float32))


def test_reflected_operators_on_integer_tensors():
    t = _t([1, 2, 4])
    assert (2 - t).tolist() == [1, 0, -2] and (2 - t).dtype is ember.int64
    assert (2 ** t).tolist() == [2, 4, 16]
    assert (2.5 * t).dtype is F32
    assert (8 // t).tolist() == [8, 4, 2] and (7 % t).tolist() == [0, 1, 3]
    assert (1 / t).dtype is F32
    assert (np.int64(3) * _t([1, 2], ember.int8)).dtype is ember.int8


def test_reflected_scalar_gradients():
    x = _uniform((2, 3), 0.5, 2.0, seed=4, rg=True)
    for fn in (lambda v: v ** 2.5, lambda v: 2.0 ** v, lambda v: v / 3, lambda v: 3 / v, lambda v: 2 - v,
               lambda v: v ** 2, lambda v: v ** -1.5, lambda v: 1.5 * v, lambda v: v - 2.0, lambda v: v ** 0,
               lambda v: 0.5 ** v, lambda v: ember.remainder(v, 0.7), lambda v: ember.fmod(v, 0.7),
               lambda v: ember.remainder(3.0, v), lambda v: ember.pow(v, 3)):
        _check_grads(fn, x)


# ---------------------------------------------------------------------------------------
# Binary gradients and broadcasting
# ---------------------------------------------------------------------------------------
GRAD_BINARY = [b for b in BINARY if b[0] not in ("subtract", "multiply", "divide", "true_divide", "arctan2",
                                                   "floor_divide")]


@pytest.mark.parametrize("name,ref,a_dom,b_dom,ints", GRAD_BINARY, ids=[b[0] for b in GRAD_BINARY])
def test_binary_gradcheck_and_gradgradcheck(name, ref, a_dom, b_dom, ints):
    a, b = _operands(a_dom, b_dom, F64, shape=(2, 3), seed=5)
    if name in ("pow", "float_power"):
        b = b.abs()
    if name in ("remainder", "fmod"):
        a = _f64([[-4.3, -1.2, 0.6], [1.7, 3.1, 4.9]], rg=False)  # quotients away from integers
        b = _f64([[1.5, -1.1, 0.65], [-0.8, 1.3, 2.2]], rg=False)
    a.requires_grad_(True)
    b.requires_grad_(True)
    _check_grads(getattr(ember, name), a, b)
    # Broadcasting: gradients are summed back to each input's shape.
    _check_grads(getattr(ember, name), a, _f64(b.detach().numpy()[0]))


def test_div_with_rounding_mode_has_zero_gradient():
    a, b = _f64([1.3, -2.6, 5.2]), _f64([0.7, 1.1, -1.9])
    for mode in ("trunc",):
        out = ember.div(a, b, rounding_mode=mode)
        ga, gb = ember.autograd.grad(out.sum(), (a, b))
        assert ga.tolist() == [0.0, 0.0, 0.0] and gb.tolist() == [0.0, 0.0, 0.0]


@settings(max_examples=25, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
       name=st.sampled_from(["add", "sub", "mul", "div", "pow", "maximum", "atan2", "hypot", "fmod"]))
def test_broadcasting_forward_and_gradient_shapes(shapes, name):
    (sa, sb), result = shapes.input_shapes, shapes.result_shape
    rng = np.random.default_rng(0)
    an = rng.uniform(0.5, 2.0, size=sa)
    bn = rng.uniform(0.5, 2.0, size=sb) * rng.choice([-1.0, 1.0], size=sb)
    if name == "pow":
        bn = np.abs(bn)
    a, b = _f64(an), _f64(bn)
    out = getattr(ember, name)(a, b)
    ref = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide, "pow": np.power,
           "maximum": np.maximum, "atan2": np.arctan2, "hypot": np.hypot, "fmod": np.fmod}[name]
    assert out.shape == result
    assert_close(out, ref(an, bn))
    ga, gb = ember.autograd.grad(out.sum(), (a, b))
    assert ga.shape == sa and gb.shape == sb
    # The gradient of a broadcast operand is summed over the dimensions it was broadcast along.
    if name == "add":
        assert_close(ga, _unbroadcast(np.ones(result), sa))
        assert_close(gb, _unbroadcast(np.ones(result), sb))
    if name == "mul":
        assert_close(ga, _unbroadcast(np.broadcast_to(bn, result), sa))
        assert_close(gb, _unbroadcast(np.broadcast_to(an, result), sb))


def _unbroadcast(g, shape):
    g = g.sum(axis=tuple(range(g.ndim - len(shape))))
    return g.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True).reshape(shape)


def test_broadcast_shape_mismatch_raises():
    with pytest.raises((RuntimeError, ValueError)):
        _t([1.0, 2.0, 3.0]) + _t([1.0, 2.0])


def test_maximum_and_minimum_split_ties_like_pytorch():
    a = _f64([1.0, 2.0, 3.0])
    b = _f64([1.0, 0.0, 3.0])
    ember.maximum(a, b).sum().backward()
    assert a.grad.tolist() == [0.5, 1.0, 0.5] and b.grad.tolist() == [0.5, 0.0, 0.5]
    a.grad = b.grad = None
    ember.minimum(a, b).sum().backward()
    assert a.grad.tolist() == [0.5, 0.0, 0.5] and b.grad.tolist() == [0.5, 1.0, 0.5]
    a.grad = b.grad = None
    ember.fmax(a, b).sum().backward()   # fmax/fmin give ties to the first operand
    assert a.grad.tolist() == [1.0, 1.0, 1.0] and b.grad.tolist() == [0.0, 0.0, 0.0]


# ---------------------------------------------------------------------------------------
# clamp, where, lerp
# ---------------------------------------------------------------------------------------
def test_clamp_forward_and_dtypes():
    x = _t([-2.0, -0.5, 0.5, 2.0])
    assert ember.clamp(x, -1, 1).tolist() == [-1.0, -0.5, 0.5, 1.0]
    assert ember.clamp(x, min=0).tolist() == [0.0, 0.0, 0.5, 2.0]
    assert ember.clamp(x, max=0).tolist() == [-2.0, -0.5, 0.0, 0.0]
    assert x.clamp_min(0).tolist() == ember.clamp_min(x, 0).tolist() == [0.0, 0.0, 0.5, 2.0]
    assert x.clamp_max(0).tolist() == ember.clamp_max(x, 0).tolist() == [-2.0, -0.5, 0.0, 0.0]
    assert ember.clip(x, -1, 1).tolist() == x.clip(-1, 1).tolist()
    assert ember.clamp(x, 3, 1).tolist() == [1.0] * 4          # min > max: everything is max
    assert ember.clamp(x, _t([0.0, 0.0, 0.0, 3.0]), _t([1.0, 1.0, 1.0, 1.0])).tolist() == [0.0, 0.0, 0.5, 1.0]
    i32 = _t([1, 5], ember.int32)
    assert ember.clamp(i32, 2, 4).dtype is ember.int32
    assert ember.clamp(i32, _t(2), 4).dtype is ember.int32
    out = ember.clamp(_t([1, 2]), 1.5)
    assert out.dtype is F32 and out.tolist() == [1.5, 2.0]
    assert ember.clamp(x, _t(1.5, F64)).dtype is F32                 # a 0-dim bound doesn't widen
    assert ember.clamp(x, _t([1.5, 1.5, 1.5, 1.5], F64)).dtype is F64
    assert ember.clamp(i32, max=_t([2.5])).tolist() == [1.0, 2.5]
    assert ember.clamp(_t([True, False]), -1, 2).dtype is ember.int64
    with pytest.raises(RuntimeError, match="At least one of 'min' or 'max' must not be None"):
        ember.clamp(x)
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        _t([1, 2]).clamp_(min=1.5)


def test_clamp_gradients():
    x = _f64([-1.3, -0.2, 0.4, 1.7, 0.9, -0.6])
    _check_grads(lambda v: ember.clamp(v, -0.5, 0.5), x)
    _check_grads(lambda v: ember.clamp(v, min=0.0), x)
    _check_grads(lambda v: v.clamp(max=0.1), x)
    lo = _f64([-0.5, -0.1, 0.2, 1.0, 1.2, -1.0])
    hi = _f64([0.5, 0.3, 0.6, 1.5, 1.3, -0.8])
    _check_grads(lambda v, a, b: ember.clamp(v, a, b), x, lo, hi)
    _check_grads(lambda v, a: ember.clamp(v, min=a), x, lo)
    _check_grads(lambda v, b: ember.clamp(v, max=b), x, hi)


def test_clamp_gradient_goes_to_the_active_bound():
    x = _f64([0.5, 2.0, -1.0, 0.5])
    lo = _f64([1.0, 3.0, 0.0, 0.0])
    hi = _f64([0.0, 2.5, 1.0, 1.0])
    ember.clamp(x, lo, hi).sum().backward()
    # Elements 0 and 1 have min > max (the output is max); element 2 is below min; 3 is inside.
    assert x.grad.tolist() == [0.0, 0.0, 0.0, 1.0]
    assert lo.grad.tolist() == [0.0, 0.0, 1.0, 0.0]
    assert hi.grad.tolist() == [1.0, 1.0, 0.0, 0.0]


def test_where_forward_dtypes_and_errors():
    c = _t([True, False, True])
    x, y = _t([1.0, 2.0, 3.0]), _t([10.0, 20.0, 30.0])
    assert ember.where(c, x, y).tolist() == [1.0, 20.0, 3.0]
    assert x.where(c, y).tolist() == [1.0, 20.0, 3.0]
    assert ember.where(c, x, 0.0).tolist() == [1.0, 0.0, 3.0]
    assert ember.where(c, 1.0, y).tolist() == [1.0, 20.0, 1.0]
    assert ember.where(c, 1.0, 0).dtype is F32
    assert ember.where(c, 1, 0).dtype is ember.int64
    i32 = _t([1, 2, 3], ember.int32)
    assert ember.where(c, i32, 1.5).dtype is F32
    assert ember.where(c, i32, 7).dtype is ember.int32
    assert ember.where(c, x, _t([1.0, 2.0, 3.0], F64)).dtype is F64
    assert ember.where(_t([[True], [False]]), x, y).shape == (2, 3)
    with pytest.raises(RuntimeError, match="where expected condition to be a boolean tensor"):
        ember.where(_t([1, 0, 1]), x, y)


def test_where_gradients_with_scalar_branches():
    c = _t([True, False, True, False])
    x, y = _f64([1.0, 2.0, 3.0, 4.0]), _f64([-1.0, -2.0, -3.0, -4.0])
    _check_grads(lambda a, b: ember.where(c, a, b), x, y)
    _check_grads(lambda a: ember.where(c, a, 0.0), x)
    _check_grads(lambda b: ember.where(c, 2.5, b), y)
    _check_grads(lambda a: ember.where(c, a * a, a.exp()), x)
    # Broadcast branch: the gradient is summed back to its shape.
    s = _f64(5.0)
    (gs,) = ember.autograd.grad(ember.where(c, x.detach(), s).sum(), s)
    assert gs.item() == 2.0


def test_lerp_forward_gradients_and_dtype_checks():
    a, b = _f64([1.0, 2.0, -1.0]), _f64([3.0, -4.0, 5.0])
    for w in (0.0, 0.3, 0.5, 0.7, 1.0, 2.0):
        assert_close(ember.lerp(a, b, w), a.detach().numpy() + w * (b.detach().numpy() - a.detach().numpy()))
    w = _f64([0.2, 0.8, 1.5])
    assert_close(a.lerp(b, w), a.detach().numpy() + w.detach().numpy() * (b.detach().numpy() - a.detach().numpy()))
    _check_grads(lambda x, y: ember.lerp(x, y, 0.3), a, b)
    _check_grads(lambda x, y: ember.lerp(x, y, 0.7), a, b)
    _check_grads(lambda x, y, z: ember.lerp(x, y, z), a, b, w)
    # weight 1 gives exactly end, even where start + (end - start) would round.
    start, end = _t([1e8, 0.1], F32), _t([1.0, 0.3], F32)
    assert ember.lerp(start, end, 1.0).tolist() == end.tolist()
    f32 = _t([1.0, 2.0])
    assert ember.lerp(f32, _t([3.0, 4.0]), _t(0.5, F64)).dtype is F32
    with pytest.raises(RuntimeError, match="expected dtype ember.float32 for `end` but got dtype ember.float64"):
        ember.lerp(f32, _t([3.0, 4.0], F64), 0.5)
    with pytest.raises(RuntimeError, match="for `weight`"):
        ember.lerp(f32, _t([3.0, 4.0]), _t([0.5, 0.5], F64))
    with pytest.raises(RuntimeError):
        ember.lerp(_t([1, 2]), _t([3, 4]), 0.5)


# ---------------------------------------------------------------------------------------
# Numerically delicate values
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [ember.float16, F32, F64], ids=str)
def test_sigmoid_and_tanh_are_stable_at_large_magnitudes(dtype):
    values = [-1000.0, -100.0, -30.0, -5.0, 0.0, 5.0, 30.0, 100.0, 1000.0]
    x = _t(values, dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warnings
        s, t = ember.sigmoid(x), ember.tanh(x)
    assert s.dtype is dtype and t.dtype is dtype
    expected_s = [math.exp(v) / (1 + math.exp(v)) if v < 0 else 1 / (1 + math.exp(-v)) for v in values]
    assert_close(s, np.array(expected_s).astype(dtype.np), rtol=1e-3 if dtype is ember.float16 else 1e-6,
                 atol=0)
    assert_close(t, np.array([math.tanh(v) for v in values]).astype(dtype.np), atol=0)
    assert s.tolist()[0] == 0.0 and s.tolist()[-1] == 1.0
    xg = _t(values, F64, rg=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (gs,) = ember.autograd.grad(ember.sigmoid(xg).sum(), xg)
        (gt,) = ember.autograd.grad(ember.tanh(xg).sum(), xg)
    assert np.all(np.isfinite(gs.numpy())) and gs.tolist()[0] == 0.0 and gs.tolist()[-1] == 0.0
    assert np.all(np.isfinite(gt.numpy())) and gt.tolist()[0] == 0.0


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_float64_literals_reach_ops_unrounded():
    # Python floats given with dtype=float64 must not pass through the default float32 first.
    x = ember.tensor([1e-300, 0.1], dtype=ember.float64)
    assert ember.log(x).tolist() == [math.log(1e-300), math.log(0.1)]


def test_log_sqrt_and_friends_near_domain_edges():
    tiny = _t([1e-300, 1e-30, 1e-10], F64)
    assert_close(ember.log(tiny), np.array([math.log(v) for v in (1e-300, 1e-30, 1e-10)]), rtol=1e-14)
    assert_close(ember.sqrt(tiny), np.array([1e-150, 1e-15, 1e-5]), rtol=1e-14)
    small = [1e-20, -1e-10, 1e-8, -1 + 1e-10]
    assert_close(ember.log1p(_t(small, F64)), np.array([math.log1p(v) for v in small]), rtol=1e-14)
    assert_close(ember.expm1(_t(small[:3], F64)), np.array([math.expm1(v) for v in small[:3]]), rtol=1e-14)
    big = [5.0, 10.0, 26.0]
    assert_close(ember.erfc(_t(big, F64)), np.array([math.erfc(v) for v in big]), rtol=1e-14, atol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy warns on log(0) / sqrt(-1); values as PyTorch
        assert ember.log(_t([0.0])).item() == -math.inf
        assert math.isnan(ember.log(_t([-1.0])).item())
        assert ember.sqrt(_t([0.0])).item() == 0.0
        assert math.isnan(ember.sqrt(_t([-1.0])).item())
        assert ember.rsqrt(_t([0.0])).item() == math.inf
        x = _t([0.0, 4.0], F64, rg=True)
        (g,) = ember.autograd.grad(ember.sqrt(x).sum(), x)
        assert g.tolist() == [math.inf, 0.25]
        (g,) = ember.autograd.grad(ember.log(x).sum(), x)
        assert g.tolist() == [math.inf, 0.25]
    # Gradients just inside the domain.
    _check_grads(ember.log, _f64([1e-3, 2e-3]))
    _check_grads(ember.sqrt, _f64([1e-2, 3e-2]))
    _check_grads(ember.log1p, _f64([-0.99, -0.95]))
    _check_grads(ember.atanh, _f64([-0.98, 0.97]))


def test_erf_on_zero_dim_and_float16():
    assert_close(ember.erf(_t(0.5, F64)), math.erf(0.5), rtol=1e-15)
    assert ember.erf(_t(0.5, F64)).shape == ()
    out = ember.erfc(_t([0.5, 2.0], ember.float16))
    assert out.dtype is ember.float16
    assert_close(out, np.array([math.erfc(0.5), math.erfc(2.0)]).astype(np.float16), rtol=1e-3)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy warns on the masked-out 0 ** -1 and log(0)
def test_pow_gradient_at_zero_base():
    x = _f64([0.0, 1.0, 2.0])
    (g,) = ember.autograd.grad(ember.pow(x, _f64([0.0, 0.0, 2.0], rg=False)).sum(), x)
    assert g.tolist() == [0.0, 0.0, 4.0]            # d/dx x**0 is 0 (not 0 * 0**-1 = nan)
    (g,) = ember.autograd.grad(ember.pow(x, 0).sum(), x)
    assert g.tolist() == [0.0, 0.0, 0.0]
    e = _f64([0.0, 1.0, 2.0])
    (g,) = ember.autograd.grad(ember.pow(ember.zeros(3, dtype=F64), e).sum(), e)
    assert g.tolist() == [0.0, 0.0, 0.0]            # d/de 0**e taken as 0 for e >= 0
    (g,) = ember.autograd.grad(ember.pow(0.0, e).sum(), e)
    assert g.tolist() == [0.0, 0.0, 0.0]


# ---------------------------------------------------------------------------------------
# Comparisons, logic, bitwise
# ---------------------------------------------------------------------------------------
COMPARISONS = [("eq", np.equal), ("ne", np.not_equal), ("lt", np.less), ("le", np.less_equal),
               ("gt", np.greater), ("ge", np.greater_equal), ("greater", np.greater),
               ("greater_equal", np.greater_equal), ("less", np.less), ("less_equal", np.less_equal),
               ("not_equal", np.not_equal)]


@pytest.mark.parametrize("name,ref", COMPARISONS, ids=[c[0] for c in COMPARISONS])
def test_comparisons_return_bool(name, ref):
    an, bn = np.array([1.0, 2.0, 3.0, -1.0]), np.array([1.0, 3.0, 2.0, -1.0])
    for a, b in ((_t(an), _t(bn)), (_t(an.astype(np.int32)), _t(bn)), (_t(an, F64), _t(bn, ember.int8))):
        out = getattr(ember, name)(a, b)
        assert out.dtype is ember.bool
        np.testing.assert_array_equal(out.numpy(), ref(an, bn))
        np.testing.assert_array_equal(getattr(a, name)(2).numpy(), ref(an, 2))
        np.testing.assert_array_equal(getattr(a, name)(2.5).numpy(), ref(an, 2.5))
    ops = {"eq": "__eq__", "ne": "__ne__", "lt": "__lt__", "le": "__le__", "gt": "__gt__", "ge": "__ge__"}
    if name in ops:
        out = getattr(_t(an), ops[name])(_t(bn))
        np.testing.assert_array_equal(out.numpy(), ref(an, bn))


def test_reflected_comparisons_and_inplace_comparisons():
    t = _t([1.0, 2.0, 3.0])
    assert (2 < t).tolist() == [False, False, True]
    assert (2 >= t).tolist() == [True, True, False]
    assert (2 == t).tolist() == [False, True, False]
    assert (np.float64(2) > t).tolist() == [True, False, False]
    u = _t([1.0, 2.0, 3.0])
    assert u.eq_(_t([1.0, 3.0, 3.0])) is u and u.tolist() == [1.0, 0.0, 1.0] and u.dtype is F32
    i = _t([1, 2])
    i.lt_(1.5)
    assert i.tolist() == [1, 0] and i.dtype is ember.int64


def test_logical_ops():
    a, b = _t([1.0, 0.0, 2.0, 0.0]), _t([1, 1, 0, 0])
    assert ember.logical_and(a, b).tolist() == [True, False, False, False]
    assert ember.logical_or(a, b).tolist() == [True, True, True, False]
    assert ember.logical_xor(a, b).tolist() == [False, True, True, False]
    assert ember.logical_not(a).tolist() == [False, True, False, True]
    assert a.logical_not().dtype is ember.bool
    assert ember.logical_and(a, b).dtype is ember.bool


def test_bitwise_ops():
    a, b = _t([12, 10, -3], ember.int32), _t([10, 6, 5], ember.int32)
    an, bn = a.numpy(), b.numpy()
    assert (a & b).tolist() == (an & bn).tolist() == ember.bitwise_and(a, b).tolist()
    assert (a | b).tolist() == (an | bn).tolist() == ember.bitwise_or(a, b).tolist()
    assert (a ^ b).tolist() == (an ^ bn).tolist() == ember.bitwise_xor(a, b).tolist()
    assert (~a).tolist() == (~an).tolist() == ember.bitwise_not(a).tolist()
    assert (a & 6).tolist() == (an & 6).tolist() and (6 & a).tolist() == (an & 6).tolist()
    assert (~_t([5], ember.uint8)).tolist() == [250]
    assert (_t([5], ember.int8) ^ _t([3], ember.int16)).dtype is ember.int16
    m, n = _t([True, False, True]), _t([True, True, False])
    assert (m & n).tolist() == [True, False, False] and (m & n).dtype is ember.bool
    assert (m | n).tolist() == [True, True, True] and (m ^ n).tolist() == [False, True, True]
    assert (~m).tolist() == [False, True, False]
    assert (m | 1).dtype is ember.int64
    with pytest.raises((TypeError, RuntimeError)):
        _t([1.0]) & _t([1.0])
    with pytest.raises((TypeError, RuntimeError)):
        ~_t([1.0])


def test_isclose_allclose_equal():
    a = _t([1.0, 2.0, math.nan])
    b = _t([1.0 + 1e-7, 2.1, math.nan])
    assert ember.isclose(a, b).tolist() == [True, False, False]
    assert ember.isclose(a, b, equal_nan=True).tolist() == [True, False, True]
    assert ember.isclose(a, b, rtol=0.1).tolist() == [True, True, False]
    assert ember.allclose(_t([1.0, 2.0]), _t([1.0, 2.0 + 1e-6])) is True
    assert ember.allclose(_t([1.0, 2.0]), _t([1.0, 2.1])) is False
    assert ember.equal(_t([1.0, 2.0]), _t([1.0, 2.0])) is True
    assert ember.equal(_t([1.0, 2.0]), _t([1.0, 2.0, 3.0])) is False
    assert ember.equal(_t([1, 2]), _t([1.0, 2.0])) is True
    assert _t([1.0, 2.0]).equal(_t([1.0, 2.5])) is False


# ---------------------------------------------------------------------------------------
# NaN and infinity
# ---------------------------------------------------------------------------------------
def test_nan_and_inf_predicates():
    x = _t([1.0, math.nan, math.inf, -math.inf, -0.0, 0.0])
    assert ember.isnan(x).tolist() == [False, True, False, False, False, False]
    assert ember.isinf(x).tolist() == [False, False, True, True, False, False]
    assert ember.isfinite(x).tolist() == [True, False, False, False, True, True]
    assert ember.isposinf(x).tolist() == [False, False, True, False, False, False]
    assert ember.isneginf(x).tolist() == [False, False, False, True, False, False]
    assert ember.signbit(x).tolist() == [False, False, False, True, True, False]
    assert x.isnan().dtype is ember.bool
    i = _t([1, -2])
    assert ember.isnan(i).tolist() == [False, False] and ember.isfinite(i).tolist() == [True, True]
    assert ember.isinf(i).tolist() == [False, False] and ember.isposinf(i).tolist() == [False, False]
    assert ember.signbit(i).tolist() == [False, True]


@pytest.mark.parametrize("dtype", [ember.float16, F32, F64], ids=str)
def test_nan_to_num(dtype):
    x = _t([math.nan, math.inf, -math.inf, 1.5], dtype)
    info = np.finfo(dtype.np)
    out = ember.nan_to_num(x)
    assert out.dtype is dtype
    assert out.tolist() == [0.0, float(info.max), float(info.min), 1.5]
    assert ember.nan_to_num(x, nan=1.0, posinf=2.0, neginf=-2.0).tolist() == [1.0, 2.0, -2.0, 1.5]
    assert x.nan_to_num(posinf=9.0).tolist() == [0.0, 9.0, float(info.min), 1.5]
    ints = _t([1, 2])
    assert ember.nan_to_num(ints).tolist() == [1, 2] and ember.nan_to_num(ints).dtype is ember.int64


def test_nan_to_num_gradient_passes_through_finite_values():
    x = _f64([0.5, -1.5, 2.0])
    _check_grads(ember.nan_to_num, x)


def test_maximum_propagates_nan_and_fmax_ignores_it():
    nan = math.nan
    a, b = _t([1.0, nan, 2.0, nan]), _t([nan, 1.0, 3.0, nan])
    for fn, ref in ((ember.maximum, np.maximum), (ember.minimum, np.minimum),
                    (ember.fmax, np.fmax), (ember.fmin, np.fmin)):
        np.testing.assert_array_equal(fn(a, b).numpy(), ref(a.numpy(), b.numpy()))
    assert np.isnan(ember.maximum(a, b).numpy()[:2]).all()
    assert ember.fmax(a, b).tolist()[:3] == [1.0, 1.0, 3.0] and math.isnan(ember.fmax(a, b).tolist()[3])
    assert ember.fmin(a, b).tolist()[:3] == [1.0, 1.0, 2.0]
    assert math.isnan(ember.clamp(_t([nan]), 0, 1).item())
    # fmax's gradient goes to the operand that was taken.
    ag, bg = _f64([1.0, nan, 2.0]), _f64([nan, 1.0, 3.0])
    ember.fmax(ag, bg).sum().backward()
    assert ag.grad.tolist() == [1.0, 0.0, 0.0] and bg.grad.tolist() == [0.0, 1.0, 1.0]
    ag, bg = _f64([nan]), _f64([nan])
    ember.fmin(ag, bg).sum().backward()   # both NaN: the first operand gets it
    assert ag.grad.tolist() == [1.0] and bg.grad.tolist() == [0.0]


# ---------------------------------------------------------------------------------------
# In-place ops
# ---------------------------------------------------------------------------------------
INPLACE = [
    ("add_", lambda t: t.add_(2.0), lambda x: x + 2),
    ("add_alpha", lambda t: t.add_(_t([1.0, 2.0, 3.0, 4.0]), alpha=2), lambda x: x + 2 * np.array([1, 2, 3, 4])),
    ("sub_", lambda t: t.sub_(_t([1.0]), alpha=3), lambda x: x - 3),
    ("mul_", lambda t: t.mul_(_t([2.0])), lambda x: x * 2),
    ("div_", lambda t: t.div_(4), lambda x: x / 4),
    ("div_floor", lambda t: t.div_(0.75, rounding_mode="floor"), lambda x: np.floor_divide(x, 0.75)),
    ("pow_", lambda t: t.abs_().pow_(1.5), lambda x: np.abs(x) ** 1.5),
    ("remainder_", lambda t: t.remainder_(0.7), lambda x: np.remainder(x, 0.7)),
    ("fmod_", lambda t: t.fmod_(0.7), lambda x: np.fmod(x, 0.7)),
    ("floor_divide_", lambda t: t.floor_divide_(0.7), lambda x: np.floor_divide(x, 0.7)),
    ("iadd", lambda t: t.__iadd__(1.5), lambda x: x + 1.5),
    ("isub", lambda t: t.__isub__(_t([1.0, 2.0, 3.0, 4.0])), lambda x: x - np.array([1, 2, 3, 4])),
    ("imul", lambda t: t.__imul__(3), lambda x: x * 3),
    ("itruediv", lambda t: t.__itruediv__(2), lambda x: x / 2),
    ("ipow", lambda t: t.__ipow__(2), lambda x: x ** 2),
    ("ifloordiv", lambda t: t.__ifloordiv__(0.5), lambda x: np.floor_divide(x, 0.5)),
    ("imod", lambda t: t.__imod__(0.5), lambda x: np.remainder(x, 0.5)),
    ("exp_", lambda t: t.exp_(), np.exp),
    ("neg_", lambda t: t.neg_(), np.negative),
    ("sigmoid_", lambda t: t.sigmoid_(), lambda x: 1 / (1 + np.exp(-x))),
    ("clamp_", lambda t: t.clamp_(-0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5)),
    ("clamp_min_", lambda t: t.clamp_min_(0.0), lambda x: np.maximum(x, 0.0)),
    ("maximum_", lambda t: t.maximum_(_t([0.0, 0.0, 0.0, 0.0])), lambda x: np.maximum(x, 0.0)),
    ("lerp_", lambda t: t.lerp_(_t([1.0, 1.0, 1.0, 1.0]), 0.25), lambda x: x + 0.25 * (1 - x)),
    ("nan_to_num_", lambda t: t.nan_to_num_(), lambda x: x),
]


@pytest.mark.parametrize("name,op,ref", INPLACE, ids=[i[0] for i in INPLACE])
def test_inplace_ops_write_into_self(name, op, ref):
    base = np.array([-1.25, 0.5, 1.75, 3.0], dtype=np.float32)
    t = _t(base.copy())
    storage = t.numpy()
    version = t._version
    out = op(t)
    assert out is t and t.dtype is F32
    assert t.numpy() is storage or np.shares_memory(t.numpy(), storage)
    assert_close(t, ref(base.astype(np.float64)).astype(np.float32), rtol=1e-6, atol=1e-6)
    assert t._version > version


def test_inplace_on_a_view_changes_the_base_and_shares_the_version():
    a = ember.zeros(2, 3)
    v = a.view(6)
    v.mul_(2)
    v.add_(1)
    assert a.tolist() == [[1.0] * 3] * 2
    assert a._version == v._version == 2
    t = a.transpose(0, 1)
    t += _t([1.0, 2.0])           # broadcast over the transposed view's last dim
    assert a.tolist() == [[2.0, 2.0, 2.0], [3.0, 3.0, 3.0]]
    assert a._version == 3
    u = a.unsqueeze(0)
    u.clamp_(max=2.5)
    assert a.tolist() == [[2.0, 2.0, 2.0], [2.5, 2.5, 2.5]]
    a.exp_()
    assert v._version == a._version == 5


def test_inplace_version_counter_bumps_once_per_op():
    a = ember.zeros(3)
    assert a._version == 0
    a.add_(1)
    a += 1
    a.mul_(_t([1.0, 2.0, 3.0]))
    a.exp_()
    a.clamp_(0, 100)
    assert a._version == 5
    i = _t([1, 2])
    i += 1
    i.mul_(2)
    assert i._version == 2 and i.tolist() == [4, 6]


@pytest.mark.parametrize("op", [
    lambda t: t.__iadd__(1.5), lambda t: t.__imul__(1.5), lambda t: t.__itruediv__(2), lambda t: t.div_(2),
    lambda t: t.add_(_t([1.5, 2.0])), lambda t: t.sub_(0.5), lambda t: t.exp_(), lambda t: t.sqrt_(),
])
def test_inplace_into_int_tensor_of_float_result_raises(op):
    t = _t([1, 2])
    with pytest.raises(RuntimeError, match=r"result type Float\w* can't be cast to the desired output type"):
        op(t)
    assert t.tolist() == [1, 2]


def test_inplace_dtype_and_shape_rules():
    b = _t([True, False])
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        b += 1
    f = _t([1.0, 2.0])
    f += _t([1, 2])                                   # an int result fits a float tensor
    f += _t([1.0, 2.0], F64)                          # float64 fits float32 (same category)
    assert f.tolist() == [3.0, 6.0] and f.dtype is F32
    i = _t([7, -7])
    i.div_(2, rounding_mode="floor")
    assert i.tolist() == [3, -4] and i.dtype is ember.int64
    j = _t([2, 3])
    j.add_(2, alpha=3)
    assert j.tolist() == [8, 9]
    with pytest.raises(RuntimeError, match=r"output with shape \[2\] doesn't match the broadcast shape \[3, 2\]"):
        f += ember.ones(3, 2)
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        f.mul_(_t([[1.0, 2.0]]))
    with pytest.raises(TypeError):
        f.mul_(2, 3)


def test_inplace_on_leaf_requiring_grad():
    x = _t([1.0, 2.0], rg=True)
    for op in (lambda t: t.__iadd__(1), lambda t: t.mul_(2), lambda t: t.exp_(), lambda t: t.add_(_t([1.0, 1.0])),
               lambda t: t.clamp_(0, 1), lambda t: t.div_(2, rounding_mode="trunc")):
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place "
                                               "operation."):
            op(x)
    assert x.tolist() == [1.0, 2.0]
    with ember.no_grad():
        x += 1
        x.mul_(2)
    assert x.tolist() == [4.0, 6.0] and x.requires_grad and x.grad_fn is None and x._version == 2


def test_inplace_on_non_leaf_is_differentiable():
    x = _uniform((2, 3), -1, 1, seed=7, rg=True)
    w = _uniform((2, 3), 0.5, 1.5, seed=8, rg=True)

    def f(a, b):
        y = a * 1
        y.mul_(b)
        y += a * a
        y.exp_()
        return y

    _check_grads(f, x, w)
    y = x * 1
    y.sub_(w, alpha=2)
    assert y.grad_fn is not None and y.requires_grad
    y.sum().backward()
    assert_close(x.grad, np.ones((2, 3)))
    assert_close(w.grad, -2 * np.ones((2, 3)))


def test_inplace_on_non_leaf_with_int_tensor_operand():
    x = _f64([1.0, 2.0])
    y = x * 2
    y.add_(_t([1, 2]))
    y.mul_(_t([3, 3]))
    y.sum().backward()
    assert y.tolist() == [9.0, 18.0] and x.grad.tolist() == [6.0, 6.0]


def test_modifying_a_saved_tensor_makes_backward_raise():
    x = _f64([1.0, 2.0])
    y = x.exp()               # saves its output
    y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    x = _f64([1.0, 2.0])
    y = x.sin()
    z = y * y                 # saves y
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()
    # Modifying something that was not saved is fine.
    x = _f64([1.0, 2.0])
    y = x * 1
    z = y + 1                 # add saves nothing
    y.mul_(3)
    z.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


# ---------------------------------------------------------------------------------------
# Devices
# ---------------------------------------------------------------------------------------
def test_ops_on_accelerator_stay_there(accel):
    a = _t([1.0, -2.0, 3.0]).to("accel:1")
    b = _t([0.5, 0.5, 2.0]).to("accel:1")
    for out in (a + b, a * 2, 2 - a, a / b, a ** 2, ember.exp(a), -a, a.abs(), ember.maximum(a, b),
                ember.clamp(a, -1, 1), ember.where(a > 0, a, b), ember.lerp(a, b, 0.5), a.sigmoid(),
                ember.atan2(a, b), a // b, a % b, ember.nan_to_num(a), ember.isnan(a)):
        assert str(out.device) == "accel:1"
    assert (a > b).dtype is ember.bool and str((a > b).device) == "accel:1"
    assert_close(a + b, [1.5, -1.5, 5.0])
    # A 0-dim CPU tensor may join an accelerator tensor, as in PyTorch.
    out = a + _t(1.0)
    assert str(out.device) == "accel:1" and out.tolist() == [2.0, -1.0, 4.0]
    # In-place ops and gradients on the accelerator.
    a.mul_(b)
    assert str(a.device) == "accel:1" and a.tolist() == [0.5, -1.0, 6.0]
    x = _t([1.0, 2.0], F64).to("accel:0").requires_grad_(True)
    (x * x).sum().backward()
    assert str(x.grad.device) == "accel:0" and x.grad.tolist() == [2.0, 4.0]


@pytest.mark.parametrize("op", [
    lambda a, b: a + b, lambda a, b: b * a, lambda a, b: a - b, lambda a, b: ember.maximum(a, b),
    lambda a, b: a < b, lambda a, b: ember.where(a > 0, a, b), lambda a, b: ember.clamp(a, b, None),
    lambda a, b: a.add_(b), lambda a, b: a ** b, lambda a, b: ember.eq(b, a),
])
def test_ops_across_devices_raise_naming_both(accel, op):
    a = _t([1.0, 2.0]).to("accel:0")
    for b in (_t([1.0, 2.0]), _t([1.0, 2.0]).to("accel:1")):
        with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device") as info:
            op(a, b)
        assert "accel:0" in str(info.value) and str(b.device) in str(info.value)


# ---------------------------------------------------------------------------------------
# Coverage of the public list
# ---------------------------------------------------------------------------------------
def test_every_public_op_is_exported_and_attached_as_a_method():
    not_methods = {"where"}  # Tensor.where(condition, other) exists with a different argument order
    for name in elementwise.__all__:
        assert getattr(ember, name) is getattr(elementwise, name)
        if name not in not_methods:
            assert hasattr(ember.Tensor, name), name
    tested = ({u[0] for u in UNARY} | {b[0] for b in BINARY} | {c[0] for c in COMPARISONS}
              | {"clamp", "clip", "clamp_min", "clamp_max", "where", "lerp", "logical_and", "logical_or",
                 "logical_xor", "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
                 "isnan", "isinf", "isfinite", "isposinf", "isneginf", "isclose", "allclose", "equal",
                 "nan_to_num", "signbit"}
              # against PyTorch's reference data in test_new_ops.py
              | {"copysign", "logaddexp", "logaddexp2", "bitwise_left_shift", "bitwise_right_shift"})
    assert set(elementwise.__all__) <= tested, set(elementwise.__all__) - tested


def test_ops_are_silent_on_floating_point_edge_cases_like_pytorch():
    # log(0), x/0 and overflow warn in NumPy but not in PyTorch; users' own NumPy code still warns.
    import subprocess
    import sys
    code = ("import ember, numpy as np\n"
            "ember.log(ember.zeros(1)); ember.ones(1) / 0; ember.exp(ember.tensor([1000.0]))\n"
            "try:\n    np.log(np.zeros(1))\nexcept RuntimeWarning:\n    print('numpy still warns')\n")
    out = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "numpy still warns"
