"""The graph IR that ``ember.jit.trace`` records and ``ember.onnx.export`` reads.

A :class:`Graph` is a list of :class:`Node` in execution order over :class:`Value`s:

- graph inputs (``kind="input"``), the module's parameters and buffers under their ``state_dict``
  names (``kind="param"``), tensors the trace met that came from nowhere it saw (``kind="constant"``,
  with their data), and node outputs (``kind="output"``);
- a node is one public op call (``op``: its public name, ``fn``: the op function to call again,
  ``args``/``kwargs``: the call's arguments with each tensor replaced by its Value, ``outputs``: the
  Values of the tensors it returned, ``result``: its return value with the same replacement, and
  ``scope``: the path of the module that called it);
- ``graph.outputs`` is the traced function's return value, tensors replaced by Values.

Each Value keeps its traced shape and dtype; ``depends_on_input`` says whether it is computed from a
graph input (the others are constants of the model: ONNX export folds them), and such constants
keep their traced ``data``.
"""
from __future__ import annotations

import inspect

import numpy as np

from .._tensor import Tensor
from ..ops.creation import as_tensor

__all__ = ["Graph", "Node", "Value", "map_structure"]


class Value:
    """One tensor of the graph: its name, traced shape and dtype, where it comes from and, for the
    values that do not depend on a graph input, the traced data."""

    __slots__ = ("name", "shape", "dtype", "kind", "node", "depends_on_input", "data")

    def __init__(self, name: str, shape, dtype, kind: str, node=None, depends_on_input=False, data=None):
        self.name, self.shape, self.dtype, self.kind = name, tuple(shape), dtype, kind
        self.node, self.depends_on_input, self.data = node, depends_on_input, data

    def type_str(self) -> str:
        """``Float(2, 3)``: the dtype's PyTorch scalar-type name and the shape, as PyTorch prints graphs."""
        return f"{_SCALAR_NAMES.get(self.dtype.name, self.dtype.name)}({', '.join(map(str, self.shape))})"

    def __repr__(self) -> str:
        return f"%{self.name}"


_SCALAR_NAMES = {"float16": "Half", "bfloat16": "BFloat16", "float32": "Float", "float64": "Double",
                 "int8": "Char", "int16": "Short", "int32": "Int", "int64": "Long", "uint8": "Byte", "bool": "Bool",
                 "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


class Node:
    """One op call: ``op`` (public name), ``fn``, ``args``/``kwargs`` and ``result`` with Values in
    place of tensors, ``outputs`` (the result's Values, in order) and the calling module's ``scope``."""

    __slots__ = ("op", "fn", "args", "kwargs", "outputs", "result", "scope", "inplace")

    def __init__(self, op: str, fn, args: tuple, kwargs: dict, outputs: tuple, result, scope: str):
        self.op, self.fn, self.args, self.kwargs = op, fn, args, kwargs
        self.outputs, self.result, self.scope = outputs, result, scope
        self.inplace = False      # the op changed its first argument and returned None (``t[i] = v``)

    @property
    def inputs(self) -> list:
        """The Values among the arguments, in order (nested containers included)."""
        found: list = []
        map_structure((self.args, self.kwargs), lambda v: found.append(v) or v, Value)
        return found

    def arguments(self) -> dict:
        """The arguments by the op's parameter names, defaults filled in (Values in place of tensors)."""
        try:
            sig = inspect.signature(self.fn, follow_wrapped=False)
        except (TypeError, ValueError):   # a builtin without a signature: positions only
            return {i: a for i, a in enumerate(self.args)} | self.kwargs
        bound = sig.bind(*self.args, **self.kwargs)
        bound.apply_defaults()
        args = dict(bound.arguments)
        for name, p in sig.parameters.items():   # *args / **kwargs: spread as given
            if p.kind is p.VAR_KEYWORD and name in args:
                args.update(args.pop(name))
        return args

    def __repr__(self) -> str:
        outs = ", ".join(f"%{v.name} : {v.type_str()}" for v in self.outputs) or "()"
        parts = self._printed_arguments()
        scope = f"  # {self.scope}" if self.scope else ""
        return f"{outs} = {self.op}({', '.join(parts)}){scope}"


    def _printed_arguments(self) -> list:
        """Tensor arguments by position, options by name, options left at their default omitted."""
        try:
            sig = inspect.signature(self.fn, follow_wrapped=False)
            bound = sig.bind(*self.args, **self.kwargs)
        except (TypeError, ValueError):
            return [_fmt(a) for a in self.args] + [f"{k}={_fmt(v)}" for k, v in self.kwargs.items()]
        parts = []
        for name, value in bound.arguments.items():
            p = sig.parameters[name]
            if p.kind is p.VAR_POSITIONAL:
                parts += [_fmt(v) for v in value]
            elif p.kind is p.VAR_KEYWORD:
                parts += [f"{k}={_fmt(v)}" for k, v in value.items()]
            elif _has_value(value):
                parts.append(_fmt(value))
            elif p.default is p.empty or not _same(value, p.default):
                parts.append(f"{name}={_fmt(value)}")
        return parts


def _has_value(obj) -> bool:
    found = []
    map_structure(obj, lambda v: found.append(v) or v, Value)
    return bool(found)


def _same(a, b) -> bool:
    try:
        return bool(a == b) and type(a) is type(b)
    except Exception:   # noqa: BLE001 (an argument whose == is not a plain comparison)
        return a is b


def _fmt(obj) -> str:
    if isinstance(obj, Value):
        return f"%{obj.name}"
    if isinstance(obj, list):
        return "[" + ", ".join(_fmt(o) for o in obj) + "]"
    if isinstance(obj, tuple) and not hasattr(obj, "_fields"):
        return "(" + ", ".join(_fmt(o) for o in obj) + ("," if len(obj) == 1 else "") + ")"
    if isinstance(obj, dict):
        return "{" + ", ".join(f"{k!r}: {_fmt(v)}" for k, v in obj.items()) + "}"
    if callable(obj) and hasattr(obj, "__name__"):
        return obj.__name__
    return repr(obj)


class Graph:
    """Inputs, parameters, constants and nodes of one traced call, and its outputs.

    ``print(graph)`` shows it in the shape of PyTorch's traced graphs: the inputs and parameters
    with their types, then one line per node (outputs, op, arguments, the calling module), then
    ``return``.
    """

    def __init__(self):
        self.inputs: list = []
        self.params: dict = {}      # state_dict name -> Value
        self.constants: list = []
        self.nodes: list = []
        self.outputs = None
        self.input_spec = ((), {})  # the call's (args, kwargs), Values in place of the input tensors
        self._names: set = set()

    def _unique(self, name: str) -> str:
        base, k = name, 1
        while name in self._names:
            name = f"{base}.{k}"
            k += 1
        self._names.add(name)
        return name

    def add_value(self, name: str, t: Tensor, kind: str, node=None, depends=False, data=None) -> Value:
        v = Value(self._unique(name), t.shape, t.dtype, kind, node, depends, data)
        if kind == "input":
            self.inputs.append(v)
        elif kind == "param":
            self.params[name] = v
        elif kind == "constant":
            self.constants.append(v)
        return v

    def run(self, args: tuple, kwargs: dict, tensors: dict):
        """Replay the graph on new inputs (the structure of ``input_spec``): each node's op is called
        again. ``tensors`` maps the parameters' names to their current tensors."""
        env: dict = {}
        _bind(self.input_spec, (tuple(args), dict(kwargs)), env)
        for name, v in self.params.items():
            env[v] = tensors[name]
        for v in self.constants:
            env[v] = _constant_tensor(v)
        get = env.__getitem__
        for node in self.nodes:
            res = node.fn(*map_structure(node.args, get, Value), **map_structure(node.kwargs, get, Value))
            if node.inplace:
                res = env[node.args[0]]
            _bind(node.result, res, env)
        return map_structure(self.outputs, get, Value)

    def output_values(self) -> list:
        found: list = []
        map_structure(self.outputs, lambda v: found.append(v) or v, Value)
        return found

    def __str__(self) -> str:
        heads = [f"%{v.name} : {v.type_str()}" for v in self.inputs + list(self.params.values())]
        lines = ["graph(" + ",\n      ".join(heads) + "):"]
        lines += [f"  {n!r}" for n in self.nodes]
        lines.append(f"  return {_fmt(self.outputs)}")
        return "\n".join(lines)

    __repr__ = __str__


def map_structure(obj, fn, leaf_type=Tensor):
    """``obj`` with every ``leaf_type`` instance inside tuples, lists and dicts (nested) replaced by
    ``fn(leaf)``; containers without one are returned as they are (a ``Size`` stays a ``Size``)."""
    if isinstance(obj, leaf_type):
        return fn(obj)
    if isinstance(obj, (tuple, list)):
        items = [map_structure(o, fn, leaf_type) for o in obj]
        if all(a is b for a, b in zip(items, obj)):
            return obj
        if hasattr(obj, "_fields"):        # a named tuple (PackedSequence, return types)
            return type(obj)(*items)
        return type(obj)(items) if type(obj) in (tuple, list) else tuple(items)
    if isinstance(obj, dict):
        items = {k: map_structure(v, fn, leaf_type) for k, v in obj.items()}
        if all(items[k] is obj[k] for k in obj):
            return obj
        return type(obj)(items) if type(obj) is dict else dict(items)
    return obj


def _bind(spec, actual, env: dict) -> None:
    """Pair the Values in ``spec`` with the tensors at the same places in ``actual``."""
    if isinstance(spec, Value):
        if not isinstance(actual, Tensor):
            raise TypeError(f"expected a Tensor for %{spec.name}, got {type(actual).__name__}")
        env[spec] = actual
    elif isinstance(spec, (tuple, list)):
        if not isinstance(actual, (tuple, list)) or len(actual) != len(spec):
            raise TypeError(f"expected a sequence of {len(spec)} items, got {type(actual).__name__}")
        for s, a in zip(spec, actual):
            _bind(s, a, env)
    elif isinstance(spec, dict):
        for k, s in spec.items():
            _bind(s, actual[k], env)


def _constant_tensor(v: Value) -> Tensor:
    return as_tensor(v.data)


def host_copy(t: Tensor) -> np.ndarray:
    """A host copy of a tensor's data (what a constant Value keeps)."""
    return np.array(t._host(), copy=True)
