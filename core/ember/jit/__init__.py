"""``ember.jit``: PyTorch's ``torch.jit.trace`` -- graph capture by running the model once.

:func:`trace` records the public ops a forward pass calls (through the op-observer hook,
``ember._op_hooks``) into a :class:`Graph` (``_graph.py``: nodes with op, arguments, outputs, shapes
and dtypes; parameters by ``state_dict`` name; constants) and returns a callable that replays it.
``ember.onnx.export`` writes that graph as an ONNX model.

>>> lin = ember.nn.Linear(3, 2)
>>> traced = ember.jit.trace(lin, ember.randn(4, 3))
>>> print(traced.graph)
graph(%input : Float(4, 3),
      %weight : Float(2, 3),
      %bias : Float(2)):
  %0 : Float(4, 2) = linear(%input, %weight, %bias)
  return %0
>>> x = ember.randn(4, 3)
>>> bool((traced(x) == lin(x)).all())
True
"""
from __future__ import annotations

import warnings

import numpy as np

from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from ..nn.module import Module
from ._graph import Graph, Node, Value, map_structure
from ._tracer import TRACING, TracerWarning, record_graph

__all__ = ["trace", "trace_module", "TracedModule", "TracedFunction", "TracerWarning", "Graph", "Node", "Value",
           "is_tracing", "is_scripting"]


class TracedModule(Module):
    """A module's traced graph, replayed on each call; it shares the module's parameters, buffers and
    submodules (``state_dict`` keys are the module's, and loading one changes both)."""

    def __init__(self, original: Module, graph: Graph):
        super().__init__()
        d = self.__dict__
        for slot in ("_parameters", "_buffers", "_modules", "_non_persistent_buffers_set"):
            if slot in original.__dict__:
                d[slot] = original.__dict__[slot]
        d["graph"] = graph
        d["original_name"] = type(original).__name__
        self.training = original.training

    def forward(self, *args, **kwargs):
        tensors = dict(self.named_parameters())
        tensors.update(self.named_buffers())
        return self.graph.run(args, kwargs, tensors)

    def _get_name(self) -> str:
        return self.original_name

    def extra_repr(self) -> str:
        return "original_name=" + self.original_name


class TracedFunction:
    """A traced function: ``graph`` and a ``__call__`` that replays it."""

    def __init__(self, fn, graph: Graph):
        self.graph = graph
        self.__name__ = getattr(fn, "__name__", "traced")
        self.__doc__ = getattr(fn, "__doc__", None)

    def __call__(self, *args, **kwargs):
        return self.graph.run(args, kwargs, {})


def trace(func, example_inputs=None, optimize=None, check_trace: bool = True, check_inputs=None,
          check_tolerance: float = 1e-5, strict: bool = True, _force_outplace: bool = False,
          _module_class=None, _compilation_unit=None, example_kwarg_inputs: dict | None = None,
          _store_inputs: bool = True):
    """Run ``func`` (a module or a function) on ``example_inputs`` and record the ops it calls.

    Returns a :class:`TracedModule` (for a module) or :class:`TracedFunction` whose ``graph`` is
    the recording and whose call replays it: the same outputs on new inputs of the traced shapes.
    Python control flow that depends on tensor values is fixed at what the example took (converting
    a traced tensor to a Python value warns with :class:`TracerWarning`). ``check_trace`` replays
    the graph on ``check_inputs`` (a list of argument tuples; the example by default) and warns when
    the outputs differ from ``func``'s by more than ``check_tolerance``. ``strict=True`` refuses a
    list or dict output (its structure could depend on the inputs).

    >>> f = ember.jit.trace(lambda x: x.relu() * 2, ember.randn(3))
    >>> f(ember.tensor([-1.0, 2.0, 3.0]))
    tensor([0., 4., 6.])
    """
    if example_inputs is None and example_kwarg_inputs is None:
        raise RuntimeError("example_inputs or example_kwarg_inputs must be given to trace")
    args = _as_args(example_inputs)
    kwargs = dict(example_kwarg_inputs or {})
    root = func if isinstance(func, Module) else None
    graph, out = record_graph(func, args, kwargs, root)
    if strict:
        _check_strict_output(out)
    traced = TracedModule(func, graph) if root is not None else TracedFunction(func, graph)
    if check_trace:
        for check in ([args] if check_inputs is None else [_as_args(c) for c in check_inputs]):
            _check_outputs(func, traced, check, kwargs, check_tolerance)
    return traced


def trace_module(mod: Module, inputs: dict, **options):
    """PyTorch's ``torch.jit.trace_module`` for the ``forward`` method: ``inputs={"forward": args}``."""
    if set(inputs) != {"forward"}:
        raise RuntimeError(f"ember.jit.trace_module traces forward only; got methods {sorted(inputs)}")
    return trace(mod, inputs["forward"], **options)


def is_tracing() -> bool:
    """True while :func:`trace` (or ``ember.onnx.export``) runs the traced code."""
    return TRACING[0] > 0


def is_scripting() -> bool:
    """False: Ember has no TorchScript compiler."""
    return False


def _as_args(example) -> tuple:
    if example is None:
        return ()
    return (example,) if isinstance(example, Tensor) else tuple(example)


def _check_strict_output(out) -> None:
    found = []
    for kind, name in ((list, "list"), (dict, "dict")):
        if _contains(out, kind):
            found.append(name)
    if found:
        raise RuntimeError(f"Encountering a {found[0]} at the output of the tracer might cause the trace to be "
                           "incorrect, this is only valid if the container structure does not change based on the "
                           "module's inputs. Consider using a constant container instead (e.g. for `list`, use a "
                           "`tuple` instead. for `dict`, use a `NamedTuple` instead). If you absolutely need this "
                           "and know the side effects, pass strict=False to trace() to allow this behavior.")


def _contains(obj, kind) -> bool:
    if isinstance(obj, kind):
        return True
    if isinstance(obj, (tuple, list)):
        return any(_contains(o, kind) for o in obj)
    if isinstance(obj, dict):
        return any(_contains(o, kind) for o in obj.values())
    return False


def _check_outputs(func, traced, args: tuple, kwargs: dict, tol: float) -> None:
    with no_grad():
        expected = _flat(func(*args, **kwargs))
        got = _flat(traced(*args, **kwargs))
    if len(expected) != len(got):
        warnings.warn(f"The traced function returned {len(got)} tensors, the Python function {len(expected)}",
                      TracerWarning, stacklevel=3)
        return
    for i, (e, g) in enumerate(zip(expected, got)):
        problem = _mismatch(g, e, tol)
        if problem:
            warnings.warn(f"Output nr {i + 1}. of the traced function does not match the corresponding output of "
                          f"the Python function. Detailed error:\n{problem}", TracerWarning, stacklevel=3)


def _mismatch(got: Tensor, expected: Tensor, tol: float) -> str:
    """What differs between two outputs ('' when they agree within ``tol``, relative and absolute)."""
    if got.shape != expected.shape or got.dtype != expected.dtype:
        return f"got {got.dtype} of shape {tuple(got.shape)}, expected {expected.dtype} of shape {tuple(expected.shape)}"
    g, e = got._host(), expected._host()
    if e.dtype.kind in "fc":
        bad = ~np.isclose(g, e, rtol=tol, atol=tol, equal_nan=True)
    else:
        bad = g != e
    if not bad.any():
        return ""
    diff = np.abs(g.astype(np.float64) - e.astype(np.float64))
    return f"{int(bad.sum())} of {bad.size} elements differ; the greatest difference is {float(np.nanmax(diff))}"


def _flat(out) -> list:
    found: list = []
    map_structure(out, lambda t: found.append(t) or t)
    return found
