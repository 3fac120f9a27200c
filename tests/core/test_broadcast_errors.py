"""Operands that do not broadcast, and in-place writes into expanded tensors, raise PyTorch's
RuntimeError and message (never NumPy's ValueError). Messages as PyTorch 2.13 prints them."""
import pytest

import ember

MISMATCH = "The size of tensor a ({}) must match the size of tensor b ({}) at non-singleton dimension {}"
OVERLAP = "unsupported operation: more than one element of the written-to tensor refers to a single memory location"


@pytest.mark.parametrize("op", [
    lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a < b, lambda a, b: a == b,
    lambda a, b: ember.maximum(a, b), lambda a, b: a ** b, lambda a, b: ember.atan2(a, b),
])
def test_binary_ops_on_shapes_that_do_not_broadcast(op):
    with pytest.raises(RuntimeError, match=MISMATCH.format(3, 2, 1).replace("(", r"\(").replace(")", r"\)")):
        op(ember.ones(3, 3), ember.ones(3, 2))


def test_bitwise_and_in_place_mismatches():
    with pytest.raises(RuntimeError, match=r"tensor a \(3\) must match the size of tensor b \(2\) at non-singleton "
                                           r"dimension 1"):
        ember.ones(3, 3, dtype=ember.int64) & ember.ones(2, dtype=ember.int64)
    with pytest.raises(RuntimeError, match=r"tensor a \(2\) must match the size of tensor b \(4\) at non-singleton "
                                           r"dimension 0"):
        ember.ones(2, 3).mul_(ember.ones(4, 3))
    with pytest.raises(RuntimeError, match=r"output with shape \[2, 3\] doesn't match the broadcast shape \[4, 2, 3\]"):
        ember.ones(2, 3).add_(ember.ones(4, 2, 3))


@pytest.mark.parametrize("write", [
    lambda t: t.add_(1), lambda t: t.mul_(ember.ones(2, 3)), lambda t: t.copy_(ember.zeros(2, 3)),
    lambda t: t.__setitem__(0, 5.0),
])
def test_in_place_write_into_an_expanded_tensor(write):
    with pytest.raises(RuntimeError, match=OVERLAP):
        write(ember.ones(1, 3).expand(2, 3))
