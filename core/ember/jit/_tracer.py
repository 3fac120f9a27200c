"""``ember.jit.trace``: run a module or function once on example inputs and record every public op it
calls (through the op-observer hook, ``ember._op_hooks``) into a :class:`~ember.jit._graph.Graph`.

Only calls at depth 0 are recorded: the ops user code (the model's ``forward``) calls; what an op
does inside is that op's business, and replaying the node calls the op again. Module scopes come from
forward pre/post hooks put on every submodule for the duration of the trace. Converting a traced
tensor to a Python value (``bool(t)``, ``int(t)``, ``t.item()``, ``t.tolist()``) in user code is
reported with a :class:`TracerWarning`, as PyTorch's tracer does: the trace keeps the value it saw.
"""
from __future__ import annotations

import contextlib
import inspect
import itertools
import warnings

from .. import _op_hooks
from .._tensor import Tensor
from ..nn.module import Module
from ._graph import Graph, Node, Value, host_copy, map_structure

__all__ = ["TracerWarning", "record_graph", "TRACING"]

# How many traces are running (ember.jit.is_tracing() reads it).
TRACING = [0]


class TracerWarning(Warning):
    """A trace may not generalise to other inputs (a tensor became a Python value, outputs differ)."""


# Tensor conversions to Python values: the method and what PyTorch's warning calls the result.
_CONVERSIONS = {"__bool__": "a Python boolean", "__int__": "a Python integer", "__float__": "a Python float",
                "__index__": "a Python index", "item": "a Python number", "tolist": "a Python list",
                "numpy": "a NumPy array"}


class _Tracer(_op_hooks.OpObserver):
    """Builds the graph from the depth-0 op calls it is told about."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self._values: dict = {}     # id(tensor) -> (tensor, Value); the tensor is kept so the id stays its own
        self._count = itertools.count()
        self.scope: list = []
        self._converting = False
        self.attributes: set = set()   # ids of plain tensor attributes of the modules: expected constants

    def bind(self, t: Tensor, v: Value) -> None:
        self._values[id(t)] = (t, v)

    def value_of(self, t: Tensor):
        """The Value of a tensor the trace knows, or None."""
        entry = self._values.get(id(t))
        return entry[1] if entry is not None and entry[0] is t else None

    def lookup(self, t: Tensor) -> Value:
        """The Value of ``t``; a tensor the trace never saw made (a plain tensor attribute, a tensor
        built outside the ops) is a constant of the graph."""
        v = self.value_of(t)
        if v is None:
            if id(t) not in self.attributes:
                warnings.warn(f"A tensor of shape {tuple(t.shape)} that no traced op made (it was computed by code "
                              "that is not a public op, or outside the traced call) is used as a constant"
                              + (f" in {self.scope[-1]}" if self.scope else "") + ": the trace will not recompute "
                              "it from new inputs.", TracerWarning, stacklevel=4)
            v = self.graph.add_value(f"constant{len(self.graph.constants)}", t, "constant", data=host_copy(t))
            self.bind(t, v)
        return v

    def exit(self, call, token) -> None:
        if call.depth != 0 or call.error is not None:
            return
        args = map_structure(call.args, self.lookup)
        kwargs = map_structure(call.kwargs, self.lookup)
        node = Node(call.name, call.fn, args, kwargs, (), None, self.scope[-1] if self.scope else "")
        depends = any(v.depends_on_input for v in node.inputs)
        result = call.result
        if result is None and _mutates_first(call):
            result = call.args[0]
            node.inplace = True
        outputs = []

        def output(t: Tensor) -> Value:
            v = self.graph.add_value(str(next(self._count)), t, "output", node, depends,
                                     None if depends else host_copy(t))
            self.bind(t, v)
            outputs.append(v)
            return v

        node.result = map_structure(result, output)
        node.outputs = tuple(outputs)
        self.graph.nodes.append(node)

    @contextlib.contextmanager
    def conversions_warned(self):
        """Tensor-to-Python conversions in user code warn while tracing (the trace keeps the value)."""
        saved = {name: getattr(Tensor, name) for name in _CONVERSIONS}
        for name, what in _CONVERSIONS.items():
            setattr(Tensor, name, self._warning_conversion(saved[name], what))
        try:
            yield
        finally:
            for name, method in saved.items():
                setattr(Tensor, name, method)

    def _warning_conversion(self, method, what: str):
        tracer = self

        def convert(t, *args, **kwargs):
            v = tracer.value_of(t)
            if tracer._converting:   # bool(t) reads t.item(): one conversion, one warning
                return method(t, *args, **kwargs)
            if _op_hooks.current_depth() == 0 and v is not None and v.depends_on_input:
                warnings.warn(f"Converting a tensor to {what} might cause the trace to be incorrect. We can't "
                              "record the data flow of Python values, so this value will be treated as a "
                              "constant in the future. This means that the trace might not generalize to other "
                              "inputs!", TracerWarning, stacklevel=2)
            tracer._converting = True
            try:
                return method(t, *args, **kwargs)
            finally:
                tracer._converting = False
        return convert

    @contextlib.contextmanager
    def module_scopes(self, root):
        """The path of the module whose ``forward`` is running, kept in ``self.scope``."""
        handles = []
        if isinstance(root, Module):
            for name, m in root.named_modules():
                if not name:
                    continue
                handles.append(m.register_forward_pre_hook(lambda mod, args, name=name: self.scope.append(name)))
                handles.append(m.register_forward_hook(lambda mod, args, out: self.scope.pop() and None))
        try:
            yield
        finally:
            for h in handles:
                h.remove()


def _mutates_first(call) -> bool:
    """An op that changes its first argument and returns None (``t[i] = v``)."""
    return (call.name == "__setitem__" or call.name.endswith("_")) and bool(call.args) and \
        isinstance(call.args[0], Tensor)


def _input_names(fn, args: tuple) -> list:
    """Names for the positional inputs: the parameter names of ``fn`` (``forward`` of a module)."""
    try:
        params = [p.name for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    return [params[i] if i < len(params) else f"input{i}" for i in range(len(args))]


def _cell(c):
    try:
        return c.cell_contents
    except ValueError:   # an empty cell
        return None


def record_graph(fn, args: tuple, kwargs: dict | None = None, root=None) -> tuple:
    """Run ``fn(*args, **kwargs)`` once, recording its ops; returns ``(graph, output)``.

    ``root`` is the module whose parameters and buffers become the graph's named parameters (and
    whose submodules name the nodes' scopes).
    """
    kwargs = kwargs or {}
    graph = Graph()
    tracer = _Tracer(graph)
    if isinstance(root, Module):
        for name, t in itertools.chain(root.named_parameters(), root.named_buffers()):
            tracer.bind(t, graph.add_value(name, t, "param", data=host_copy(t)))
        tracer.attributes = {id(a) for m in root.modules() for a in vars(m).values() if isinstance(a, Tensor)}
    else:   # a function's closure tensors are its constants
        cells = getattr(fn, "__closure__", None) or ()
        tracer.attributes = {id(c.cell_contents) for c in cells if isinstance(_cell(c), Tensor)}
    names = _input_names(root.forward if isinstance(root, Module) else fn, args)

    def input_value(prefix):
        counter = itertools.count()

        def make(t):
            k = next(counter)
            v = graph.add_value(prefix if k == 0 else f"{prefix}.{k}", t, "input", depends=True)
            tracer.bind(t, v)
            return v
        return make

    graph.input_spec = (tuple(map_structure(a, input_value(n)) for a, n in zip(args, names)),
                        {k: map_structure(a, input_value(k)) for k, a in kwargs.items()})
    TRACING[0] += 1
    try:
        with tracer.module_scopes(root), tracer.conversions_warned(), _op_hooks.observing(tracer):
            out = fn(*args, **kwargs)
    finally:
        TRACING[0] -= 1
    graph.outputs = map_structure(out, tracer.lookup)
    return graph, out
