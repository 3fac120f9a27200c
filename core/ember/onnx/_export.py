"""``ember.onnx.export``: trace the model (``ember.jit``), translate each traced op through the table
in ``_symbolic.py``, and write the ONNX model with the ``onnx`` package.

Values that do not depend on the inputs (parameters, buffers, anything computed only from them) are
folded: parameters become initializers under their ``state_dict`` names, other constants
initializers of their traced data, and the ops that computed them are left out.

Dynamic axes. A trace records sizes as numbers, so the model is traced a second time with every
dynamic input axis resized (its example repeated cyclically along the axis). The dims of each
Value that changed follow the dynamic axes; shape arguments (``reshape``, ``expand``) that changed
are rewritten by the op's translation to read those sizes at run time (``_context.ExportContext``).
Both traces must run the same ops, or the export stops naming the first op that differs.
"""
from __future__ import annotations

import contextlib
import io
import os
import warnings

from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from ..jit._graph import Value, map_structure
from ..jit._tracer import TracerWarning, record_graph
from ..nn.module import Module
from ..ops.creation import arange
from ._context import ExportContext, onnx_dtype
from ._symbolic import SYMBOLIC, UnsupportedArgument
from .errors import UnsupportedOperatorError

__all__ = ["export_model"]

_IR_FOR_OPSET = {17: 8, 18: 8, 19: 9, 20: 9, 21: 10}


def _import_onnx():
    try:
        import onnx
    except ImportError as e:   # the optional extra
        raise ImportError("ember.onnx.export writes models with the onnx package: pip install 'ember[onnx]' "
                          "(or pip install onnx)") from e
    return onnx


def _split_args(args, kwargs) -> tuple:
    """PyTorch's convention: ``args`` is a tensor or a tuple; a trailing dict holds keyword arguments."""
    if isinstance(args, Tensor):
        args = (args,)
    args = tuple(args)
    kwargs = dict(kwargs or {})
    if args and isinstance(args[-1], dict):
        kwargs = {**args[-1], **kwargs}
        args = args[:-1]
    return args, kwargs


@contextlib.contextmanager
def _eval_mode(model, training: str):
    """The model in eval mode for the export (PyTorch's TrainingMode.EVAL), restored afterwards."""
    if not isinstance(model, Module) or training == "PRESERVE":
        yield
        return
    if training == "TRAINING":
        raise ValueError("ember.onnx.export exports inference graphs: training=TrainingMode.TRAINING is not "
                         "supported (dropout and batch statistics have no fixed ONNX form here)")
    modes = [(m, m.training) for m in model.modules()]   # each module's own mode comes back, not the root's
    model.eval()
    try:
        yield
    finally:
        for m, mode in modes:
            m.training = mode


def _flat_tensors(args, kwargs) -> list:
    found: list = []
    map_structure((args, kwargs), lambda t: found.append(t) or t)
    return found


def _axes_of(spec) -> dict:
    """``dynamic_axes`` entry -> ``{axis: dim name or None}`` (a list of axes gets generated names)."""
    if isinstance(spec, dict):
        return {int(k): v for k, v in spec.items()}
    return {int(k): None for k in spec}


def _resized(args, kwargs, dyn_inputs: dict):
    """The example inputs with each dynamic axis made 3 longer (its entries repeated cyclically)."""
    counter = iter(range(10 ** 9))

    def resize(t):
        axes = dyn_inputs.get(next(counter), {})
        for axis in axes:
            n = t.shape[axis]
            if n == 0:
                raise ValueError("ember.onnx.export: a dynamic axis of an example input has size 0")
            t = t.index_select(axis, arange(n + 3) % n)
        return t
    return map_structure(args, resize), map_structure(kwargs, resize)


def _align(graph, graph2) -> tuple:
    """``dynamic`` (Value -> {dim: size in the second trace}) and ``counterpart`` (node -> its twin)."""
    if len(graph.nodes) != len(graph2.nodes) or any(a.op != b.op for a, b in zip(graph.nodes, graph2.nodes)):
        first = next((i for i, (a, b) in enumerate(zip(graph.nodes, graph2.nodes)) if a.op != b.op),
                     min(len(graph.nodes), len(graph2.nodes)))
        where = graph.nodes[first] if first < len(graph.nodes) else None
        raise RuntimeError("ember.onnx.export: with other sizes along the dynamic axes the model runs other ops "
                           f"(the traces differ at op {first}"
                           + (f", '{where.op}' in module '{where.scope}'" if where is not None else "") + ")")
    dynamic, counterpart = {}, {}
    pairs = list(zip(graph.inputs, graph2.inputs))
    for a, b in zip(graph.nodes, graph2.nodes):
        counterpart[a] = b
        pairs += list(zip(a.outputs, b.outputs))
    for v1, v2 in pairs:
        dims = {d: s2 for d, (s1, s2) in enumerate(zip(v1.shape, v2.shape)) if s1 != s2}
        if dims:
            dynamic[v1] = dims
    return dynamic, counterpart


def _scope_description(model, scope: str) -> str:
    if not scope:
        return f"the top-level module ({type(model).__name__})" if isinstance(model, Module) else "the function"
    try:
        return f"module '{scope}' ({type(model.get_submodule(scope)).__name__})"
    except AttributeError:
        return f"module '{scope}'"


def _translate(ctx: ExportContext, graph, model, opset: int) -> None:
    def computed(v):
        return isinstance(v, Value) and (v.depends_on_input or v in ctx.dynamic)

    for node in graph.nodes:
        if not any(computed(v) for v in node.outputs):
            continue   # folded: its outputs are constants of the model
        handler = SYMBOLIC.get(node.op)
        where = _scope_description(model, node.scope)
        if handler is None:
            raise UnsupportedOperatorError(f"Exporting the operator '{node.op}' to ONNX opset version {opset} is "
                                           f"not supported (called in {where}).")
        try:
            names = handler(ctx, node, node.arguments())
        except UnsupportedArgument as e:
            raise UnsupportedOperatorError(f"Exporting the operator '{node.op}' to ONNX opset version {opset} is "
                                           f"not supported for {e} (called in {where}).") from None
        names = [names] if isinstance(names, str) else list(names)
        for v, n in zip(node.outputs, names):
            ctx.bind(v, n)


def _dim_names(dynamic: dict, names: list, axes_spec: dict, values, by_size: dict) -> dict:
    """Value -> {dim: dim_param}: the names given in ``dynamic_axes``, else the name of the first dim
    that changed the same way (``by_size``, shared by inputs and outputs, so that an output's batch dim
    gets the input's name), else a generated one."""
    result: dict = {}
    for v, name in zip(values, names):
        given = _axes_of(axes_spec.get(name, {}))
        dims = {}
        for d, s2 in dynamic.get(v, {}).items():
            key = (v.shape[d], s2)
            label = given.get(d) or by_size.get(key) or f"{name}_dynamic_axes_{d + 1}"
            by_size.setdefault(key, label)
            dims[d] = label
        for d, label in given.items():
            dims.setdefault(d, label or f"{name}_dynamic_axes_{d + 1}")
        result[v] = dims
    return result


def _value_info(helper, name: str, v: Value, dims: dict):
    shape = [dims.get(d, s) for d, s in enumerate(v.shape)]
    return helper.make_tensor_value_info(name, onnx_dtype(v.dtype), shape)


def export_model(model, args, f, *, kwargs=None, input_names=None, output_names=None, opset_version=None,
                 dynamic_axes=None, training="EVAL", verbose=False):
    """Trace ``model`` on ``args`` and write it to ``f`` as ONNX (see ``ember.onnx.export``)."""
    onnx = _import_onnx()
    from onnx import helper
    opset = 17 if opset_version is None else int(opset_version)
    if opset not in _IR_FOR_OPSET:
        raise ValueError(f"ember.onnx.export writes opset versions {min(_IR_FOR_OPSET)} to {max(_IR_FOR_OPSET)}, "
                         f"got opset_version={opset_version}")
    args, kwargs = _split_args(args, kwargs)
    root = model if isinstance(model, Module) else None
    axes_spec = dict(dynamic_axes or {})
    # The tracer's warnings (a tensor turned into a Python value, a tensor no traced op made) reach the
    # user: they say where the exported graph may not follow new inputs.
    with _eval_mode(model, training), no_grad():
        graph, _ = record_graph(model, args, kwargs, root)
        in_names = [(input_names[i] if input_names and i < len(input_names) else v.name)
                    for i, v in enumerate(graph.inputs)]
        dyn_inputs = {i: _axes_of(axes_spec[n]) for i, n in enumerate(in_names) if n in axes_spec}
        dynamic, counterpart = {}, {}
        if dyn_inputs:
            args2, kwargs2 = _resized(args, kwargs, dyn_inputs)
            with warnings.catch_warnings():   # the same warnings again
                warnings.simplefilter("ignore", TracerWarning)
                graph2, _ = record_graph(model, args2, kwargs2, root)
            dynamic, counterpart = _align(graph, graph2)
    ctx = ExportContext(opset, dynamic, counterpart)
    for v, n in zip(graph.inputs, in_names):
        ctx.bind(v, n)
    _translate(ctx, graph, model, opset)

    outs = graph.output_values()
    out_names = [(output_names[i] if output_names and i < len(output_names) else v.name) for i, v in enumerate(outs)]
    for v, n in zip(outs, out_names):
        if ctx.name(v) != n:
            ctx.node("Identity", [ctx.name(v)], outputs=[n])
    by_size: dict = {}
    in_dims = _dim_names(dynamic, in_names, axes_spec, graph.inputs, by_size)
    out_dims = _dim_names(dynamic, out_names, axes_spec, outs, by_size)
    proto_graph = helper.make_graph(
        ctx.nodes, type(model).__name__ if root is not None else getattr(model, "__name__", "graph"),
        [_value_info(helper, n, v, in_dims[v]) for v, n in zip(graph.inputs, in_names)],
        [_value_info(helper, n, v, out_dims[v]) for v, n in zip(outs, out_names)],
        initializer=ctx.initializers)
    proto = helper.make_model(proto_graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="ember", ir_version=_IR_FOR_OPSET[opset])
    onnx.checker.check_model(proto)
    if verbose:
        print(graph)
    if f is None:
        return proto
    data = proto.SerializeToString()
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as fh:
            fh.write(data)
    elif isinstance(f, io.IOBase) or hasattr(f, "write"):
        f.write(data)
    else:
        raise TypeError(f"ember.onnx.export: f must be a path or a binary file object, got {type(f).__name__}")
    return None
