"""PyTorch's type promotion: ``promote_types``, ``result_type`` and the dtypes element-wise ops produce.

The expected tables below are literal data taken once from PyTorch 2.x (an independent reference):
categories bool < integer < floating; a higher category wins outright; zero-dim tensors and Python
numbers only matter when they are of a higher category than every dimensioned operand.
"""
import numpy as np
import pytest

import ember

ABBR = {"b": ember.bool, "u8": ember.uint8, "i8": ember.int8, "i16": ember.int16, "i32": ember.int32,
        "i64": ember.int64, "f16": ember.float16, "f32": ember.float32, "f64": ember.float64}
ORDER = ["b", "u8", "i8", "i16", "i32", "i64", "f16", "f32", "f64"]
DTYPES = [ABBR[k] for k in ORDER]


def _table(text):
    """{(row dtype, column dtype): dtype} from rows 'row: c1 c2 ...' in ORDER."""
    out = {}
    for line in text.strip().splitlines():
        row, cells = line.split(":")
        for col, cell in zip(ORDER, cells.split()):
            out[ABBR[row.strip()], ABBR[col]] = ABBR[cell]
    return out


# torch.promote_types(row, column)
PROMOTE = _table("""
   b:   b  u8  i8 i16 i32 i64 f16 f32 f64
  u8:  u8  u8 i16 i16 i32 i64 f16 f32 f64
  i8:  i8 i16  i8 i16 i32 i64 f16 f32 f64
 i16: i16 i16 i16 i16 i32 i64 f16 f32 f64
 i32: i32 i32 i32 i32 i32 i64 f16 f32 f64
 i64: i64 i64 i64 i64 i64 i64 f16 f32 f64
 f16: f16 f16 f16 f16 f16 f16 f16 f32 f64
 f32: f32 f32 f32 f32 f32 f32 f32 f32 f64
 f64: f64 f64 f64 f64 f64 f64 f64 f64 f64
""")

# torch.result_type(tensor with dims of dtype row, zero-dim tensor of dtype column)
DIM_ZERO = _table("""
   b:   b  u8  i8 i16 i32 i64 f16 f32 f64
  u8:  u8  u8  u8  u8  u8  u8 f16 f32 f64
  i8:  i8  i8  i8  i8  i8  i8 f16 f32 f64
 i16: i16 i16 i16 i16 i16 i16 f16 f32 f64
 i32: i32 i32 i32 i32 i32 i32 f16 f32 f64
 i64: i64 i64 i64 i64 i64 i64 f16 f32 f64
 f16: f16 f16 f16 f16 f16 f16 f16 f16 f16
 f32: f32 f32 f32 f32 f32 f32 f32 f32 f32
 f64: f64 f64 f64 f64 f64 f64 f64 f64 f64
""")

# torch.result_type(tensor of dtype row, Python 1 / 1.5 / True): with dims, then zero-dim.
WITH_SCALAR = {ABBR[row]: [ABBR[c] for c in cells.split()] for row, cells in (line.split(":") for line in """
   b: i64 f32   b i64 f32   b
  u8:  u8 f32  u8  u8 f32  u8
  i8:  i8 f32  i8  i8 f32  i8
 i16: i16 f32 i16 i16 f32 i16
 i32: i32 f32 i32 i32 f32 i32
 i64: i64 f32 i64 i64 f32 i64
 f16: f16 f16 f16 f16 f16 f16
 f32: f32 f32 f32 f32 f32 f32
 f64: f64 f64 f64 f64 f64 f64
""".strip().splitlines()) for row in [row.strip()]}
SCALARS = (1, 1.5, True)


def _t(dtype, zero_dim=False):
    return ember.ones((), dtype=dtype) if zero_dim else ember.ones(2, dtype=dtype)


@pytest.mark.parametrize("a", DTYPES, ids=str)
def test_promote_types_full_matrix(a):
    for b in DTYPES:
        assert ember.promote_types(a, b) is PROMOTE[a, b], (a, b)


@pytest.mark.parametrize("a", DTYPES, ids=str)
def test_result_type_tensor_pairs(a):
    for b in DTYPES:
        # Two dimensioned tensors, or two zero-dim tensors, promote like promote_types.
        assert ember.result_type(_t(a), _t(b)) is PROMOTE[a, b], (a, b)
        assert ember.result_type(_t(a, True), _t(b, True)) is PROMOTE[a, b], (a, b)
        # A zero-dim operand only counts when it is of a higher category (either argument order).
        assert ember.result_type(_t(a), _t(b, True)) is DIM_ZERO[a, b], (a, b)
        assert ember.result_type(_t(b, True), _t(a)) is DIM_ZERO[a, b], (a, b)


@pytest.mark.parametrize("a", DTYPES, ids=str)
def test_result_type_with_python_scalars(a):
    expected = WITH_SCALAR[a]
    for zero_dim, offset in ((False, 0), (True, 3)):
        for s, exp in zip(SCALARS, expected[offset:offset + 3]):
            assert ember.result_type(_t(a, zero_dim), s) is exp, (a, zero_dim, s)
            assert ember.result_type(s, _t(a, zero_dim)) is exp, (a, zero_dim, s)


@pytest.mark.parametrize("a", DTYPES, ids=str)
def test_binary_op_dtypes_follow_result_type(a):
    """+, *, maximum and comparisons produce result_type's dtype for every operand combination."""
    for b in DTYPES:
        for x, y, exp in ((_t(a), _t(b), PROMOTE[a, b]), (_t(a), _t(b, True), DIM_ZERO[a, b]),
                          (_t(b, True), _t(a), DIM_ZERO[a, b])):
            assert (x + y).dtype is exp, (x.dtype, y.dtype)
            assert (x * y).dtype is exp
            assert ember.maximum(x, y).dtype is exp
            assert (x < y).dtype is ember.bool and (x == y).dtype is ember.bool
            # True division computes in floating point: integers give the default dtype.
            assert (x / y).dtype is (exp if exp.is_floating_point else ember.float32)
    for s, exp in zip(SCALARS, WITH_SCALAR[a][:3]):
        t = _t(a)
        assert (t + s).dtype is exp and (s + t).dtype is exp and (t * s).dtype is exp, (a, s)


def test_examples_from_pytorch_docs():
    i64 = ember.tensor([1, 2, 3])
    assert i64.dtype is ember.int64
    assert (i64 / ember.tensor([2, 2, 2])).dtype is ember.float32   # int / int -> default float
    assert (i64 + 1.5).dtype is ember.float32
    assert (i64 + ember.tensor([1.0, 2, 3], dtype=ember.float64)).dtype is ember.float64
    f32 = ember.tensor([1.0, 2.0])
    assert (f32 + ember.tensor(1.0, dtype=ember.float64)).dtype is ember.float32   # 0-dim doesn't widen
    assert (f32 + ember.tensor([1.0, 2.0], dtype=ember.float64)).dtype is ember.float64
    assert (ember.tensor([1], dtype=ember.int32) + ember.tensor([1.0], dtype=ember.float16)).dtype is ember.float16
    assert (ember.tensor([1], dtype=ember.uint8) + ember.tensor([1], dtype=ember.int8)).dtype is ember.int16
    b = ember.tensor([True, False])
    assert (b + b).dtype is ember.bool
    assert (b + 1).dtype is ember.int64
    assert (b * 1.5).dtype is ember.float32
    assert (ember.tensor([1], dtype=ember.int32) + ember.tensor(5)).dtype is ember.int32
    assert (ember.tensor([1], dtype=ember.int32) + ember.tensor(2.5)).dtype is ember.float32
    assert (ember.tensor(1, dtype=ember.int8) + ember.tensor(1, dtype=ember.int64)).dtype is ember.int64


def test_numpy_scalars_promote_like_python_numbers():
    f32 = ember.tensor([1.0, 2.0])
    assert (np.float64(2) * f32).dtype is ember.float32
    assert (f32 * np.float64(2)).dtype is ember.float32
    assert (f32 + np.float16(2)).dtype is ember.float32
    i8 = ember.tensor([1, 2], dtype=ember.int8)
    assert (i8 + np.int64(3)).dtype is ember.int8
    assert (np.int32(3) - i8).dtype is ember.int8
    assert (i8 * np.float64(1.5)).dtype is ember.float32
    np.testing.assert_allclose((np.float64(2) * f32).numpy(), [2.0, 4.0])
    assert ember.result_type(f32, np.float64(1.0)) is ember.float32
    assert ember.result_type(np.int32(1), i8) is ember.int8


def test_result_type_of_numbers_only_and_many_operands():
    assert ember.result_type(2, 1.0) is ember.float32
    assert ember.result_type(2, True) is ember.int64
    assert ember.result_type(True, False) is ember.bool
    assert ember.result_type(1, 2) is ember.int64
    i8 = _t(ember.int8)
    assert ember.result_type(i8, _t(ember.int64, True), 3) is ember.int8
    assert ember.result_type(i8, _t(ember.int64, True), 3.5) is ember.float32
    assert ember.result_type(i8, _t(ember.float64, True), 3.5) is ember.float64
    assert ember.result_type(i8, _t(ember.int16), _t(ember.float16, True)) is ember.float16


def test_default_dtype_decides_float_scalars_and_int_division():
    ember.set_default_dtype(ember.float64)  # the conftest fixture restores float32
    i = ember.tensor([1, 2])
    assert ember.result_type(i, 1.5) is ember.float64
    assert (i + 1.5).dtype is ember.float64
    assert (i / i).dtype is ember.float64
    assert ember.exp(i).dtype is ember.float64
    # A float tensor keeps its own dtype with a Python float.
    assert (ember.tensor([1.0], dtype=ember.float32) + 1.5).dtype is ember.float32
    assert (ember.tensor([1.0], dtype=ember.float16) * 2.5).dtype is ember.float16


def test_promote_types_accepts_only_dtypes_and_result_type_rejects_non_numbers():
    with pytest.raises(TypeError):
        ember.result_type(_t(ember.float32), "a")
    with pytest.raises(TypeError):
        ember.result_type(_t(ember.float32), [1, 2])
    assert ember.promote_types(ember.float, ember.long) is ember.float32
    assert ember.promote_types(ember.half, ember.double) is ember.float64


def test_promotion_is_symmetric_and_idempotent():
    for a in DTYPES:
        assert ember.promote_types(a, a) is a
        for b in DTYPES:
            assert ember.promote_types(a, b) is ember.promote_types(b, a)
            for c in DTYPES:  # associative, so result_type's order of operands doesn't matter
                ab_c = ember.promote_types(ember.promote_types(a, b), c)
                assert ab_c is ember.promote_types(a, ember.promote_types(b, c))
