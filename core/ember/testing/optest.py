"""The op-test harness: one op checked the way Ember checks all of its ops (Chainer's ``FunctionTestCase``).

An op is checked for

1. **forward**, in each dtype of ``dtypes``: the op on tensors of that dtype against a NumPy
   ``reference`` computed in float64 on the same (rounded) values, within the dtype's tolerance; a
   floating result keeps the floating inputs' dtype, any other result has the reference's dtype;
2. **non-contiguous inputs**: the op on strided views of the same values gives the same result;
3. **backward**: ``ember.autograd.gradcheck`` in float64 (analytic gradients against finite
   differences) for every floating input;
4. **double backward**: ``ember.autograd.gradgradcheck``, the same one level up.

As a function, for one case (parametrize it with pytest)::

    >>> import numpy as np
    >>> from ember.testing import check_op
    >>> check_op(ember.nn.functional.softplus, np.linspace(-3, 3, 7), reference=lambda a: np.logaddexp(0, a))

or as a class, which pytest collects as ``test_forward``, ``test_backward`` and ``test_double_backward``::

    class TestSoftplus(OpTest):
        op = staticmethod(ember.nn.functional.softplus)
        reference = staticmethod(lambda a: np.logaddexp(0, a))

        def inputs(self):
            return (np.linspace(-3, 3, 7),)

Inputs are NumPy arrays (floating ones are cast to each dtype; integer and boolean ones keep theirs)
or anything else, passed to the op unchanged (a ``dim``, a ``reduction`` name). Use ``grad_inputs``
when the gradient checks need other values than the forward (points away from kinks, where finite
differences mean nothing).
"""
from __future__ import annotations

import inspect
from typing import Callable, Mapping, Sequence

import numpy as np

from .. import _dtype as dt
from .._tensor import Tensor

__all__ = ["check_op", "OpTest", "DEFAULT_TOLERANCES"]

DEFAULT_TOLERANCES = {dt.float16: (1e-3, 1e-5), dt.float32: (1.3e-6, 1e-5), dt.float64: (1e-7, 1e-7)}
"""Forward tolerances ``(rtol, atol)`` per dtype when a check gives none (PyTorch's ``assert_close``'s)."""


def _is_float_array(a) -> bool:
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


def _as_tuple(out) -> tuple:
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _tensor(a, dtype=None, requires_grad: bool = False, strided: bool = False):
    """``a`` as an Ember tensor (``dtype`` for floating arrays); ``strided`` makes it a non-contiguous view
    of a larger tensor holding the same values."""
    from ..ops.creation import tensor
    if not isinstance(a, np.ndarray):
        return a
    if _is_float_array(a) and dtype is not None:
        a = a.astype(dtype.np)
    if strided and a.ndim:
        wide = np.zeros(a.shape + (2,), a.dtype)
        wide[..., 0] = a
        t = tensor(wide)[..., 0]
    else:
        t = tensor(a)
    return t.requires_grad_() if requires_grad else t


def _tolerance(tol, dtype) -> tuple[float, float]:
    if tol is None:
        return DEFAULT_TOLERANCES.get(dtype, (0.0, 0.0))
    found = next((v for k, v in tol.items() if dt.to_dtype(k) is dtype), None)
    if found is None:
        return DEFAULT_TOLERANCES.get(dtype, (0.0, 0.0))
    return (found["rtol"], found["atol"]) if isinstance(found, Mapping) else tuple(found)


def _compare(got, expected, dtype, rtol, atol, what: str) -> None:
    from . import assert_close
    if not isinstance(got, Tensor):
        raise AssertionError(f"{what}: expected a tensor, got {type(got).__name__}")
    expected = np.asarray(expected)
    want = dtype if expected.dtype.kind == "f" else dt.to_dtype(expected.dtype)
    if got.dtype is not want:
        raise AssertionError(f"{what}: dtype {got.dtype}, expected {want}")
    if tuple(got.shape) != expected.shape:
        raise AssertionError(f"{what}: shape {tuple(got.shape)}, expected {expected.shape}")
    assert_close(got.detach().cpu().numpy().astype(np.float64) if expected.dtype.kind == "f" else got, expected,
                 rtol=rtol, atol=atol, equal_nan=True, msg=what)


def check_forward(op: Callable, inputs: Sequence, reference: Callable, dtypes=(dt.float32, dt.float64), tol=None,
                  noncontiguous: bool = True) -> None:
    """Steps 1 and 2 of :func:`check_op`."""
    for d in dtypes:
        d = dt.to_dtype(d)
        rtol, atol = _tolerance(tol, d)
        # the reference sees the same (rounded) input values as the op, in float64
        expected = _as_tuple(reference(*[a.astype(d.np).astype(np.float64) if _is_float_array(a) else a
                                         for a in inputs]))
        got = _as_tuple(op(*[_tensor(a, d) for a in inputs]))
        if len(got) != len(expected):
            raise AssertionError(f"forward in {d}: {len(got)} outputs, the reference has {len(expected)}")
        for i, (g, e) in enumerate(zip(got, expected)):
            _compare(g, e, d, rtol, atol, f"forward in {d}, output {i}")
        if noncontiguous and any(isinstance(a, np.ndarray) and a.ndim for a in inputs):
            strided = _as_tuple(op(*[_tensor(a, d, strided=True) for a in inputs]))
            for i, (s, g) in enumerate(zip(strided, got)):
                _compare(s, g.detach().cpu().numpy(), d, rtol, atol, f"forward in {d} on non-contiguous inputs, "
                                                                       f"output {i}")


def _grad_check(check: Callable, op: Callable, inputs: Sequence, what: str) -> None:
    tensors = [_tensor(a, dt.float64, requires_grad=_is_float_array(a)) for a in inputs]
    if not any(isinstance(t, Tensor) and t.requires_grad for t in tensors):
        raise ValueError(f"{what}: the op has no floating input to differentiate")
    try:
        ok = check(op, tuple(tensors))
    except Exception as e:  # gradcheck raises on a mismatch; say which check failed
        raise AssertionError(f"{what} failed: {e}") from e
    if not ok:
        raise AssertionError(f"{what} failed")


def check_backward(op: Callable, inputs: Sequence) -> None:
    """Step 3 of :func:`check_op`: ``gradcheck`` in float64."""
    from ..autograd import gradcheck
    _grad_check(gradcheck, op, inputs, "backward (gradcheck in float64)")


def check_double_backward(op: Callable, inputs: Sequence) -> None:
    """Step 4 of :func:`check_op`: ``gradgradcheck`` in float64."""
    from ..autograd import gradgradcheck
    _grad_check(gradgradcheck, op, inputs, "double backward (gradgradcheck in float64)")


def check_op(op: Callable, *inputs, reference: Callable | None = None, dtypes=(dt.float32, dt.float64), tol=None,
             grad_inputs: Sequence | None = None, noncontiguous: bool = True, backward: bool = True,
             double_backward: bool = True) -> None:
    """Check ``op`` (forward, non-contiguous inputs, backward, double backward; see the module docstring).

    ``reference`` (NumPy, called on float64 copies of each dtype's inputs) is needed for the forward checks and
    may be ``None`` to check gradients only. ``tol`` maps a dtype to ``(rtol, atol)`` (or
    ``{"rtol": ..., "atol": ...}``); missing dtypes use :data:`DEFAULT_TOLERANCES`. Raises
    ``AssertionError`` naming the step, the dtype and the output that failed.

    >>> check_op(lambda x, y: x * y, np.array([1.0, 2.0]), np.array([3.0, -1.0]), reference=np.multiply)
    """
    if reference is not None:
        check_forward(op, inputs, reference, dtypes, tol, noncontiguous)
    grad_inputs = inputs if grad_inputs is None else grad_inputs
    if backward:
        check_backward(op, grad_inputs)
    if double_backward:
        check_double_backward(op, grad_inputs)


def _static(obj, name: str):
    """A class attribute as written (a plain function set on the class is not bound to the instance)."""
    value = inspect.getattr_static(obj, name)
    return value.__func__ if isinstance(value, (staticmethod, classmethod)) else value


class OpTest:
    """:func:`check_op` as a test class (Chainer's ``FunctionTestCase``): subclass it as ``TestSomething``.

    Set ``op`` and ``reference`` (functions; ``reference = None`` skips the forward checks), define
    ``inputs()`` (and ``grad_inputs()`` when the gradient checks need other values), and adjust
    ``dtypes``, ``tol``, ``noncontiguous``, ``backward`` and ``double_backward`` as class attributes.
    pytest collects ``test_forward``, ``test_backward`` and ``test_double_backward``.
    """

    op: Callable
    reference: Callable | None = None
    dtypes: tuple = (dt.float32, dt.float64)
    tol: Mapping | None = None
    noncontiguous: bool = True
    backward: bool = True
    double_backward: bool = True

    def inputs(self) -> tuple:
        raise NotImplementedError(f"{type(self).__name__} must define inputs()")

    def grad_inputs(self) -> tuple:
        return self.inputs()

    def test_forward(self):
        reference = _static(self, "reference")
        if reference is not None:
            check_forward(_static(self, "op"), self.inputs(), reference, self.dtypes, self.tol, self.noncontiguous)

    def test_backward(self):
        if self.backward:
            check_backward(_static(self, "op"), self.grad_inputs())

    def test_double_backward(self):
        if self.double_backward:
            check_double_backward(_static(self, "op"), self.grad_inputs())
