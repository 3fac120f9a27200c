"""The table from traced ops to ONNX nodes (opset 17).

Each entry is ``handler(ctx, node, a)``: ``node`` is the traced call (``ember.jit._graph.Node``), ``a``
its arguments by parameter name; it adds ONNX nodes through ``ctx`` (``_context.ExportContext``) and
returns the ONNX name of each of ``node.outputs``, in order (a single name for one output). An op
name missing from :data:`SYMBOLIC` cannot be exported; ``_export.py`` says which, and where.
"""
from __future__ import annotations

import math

import numpy as np

from ..jit._graph import Value
from ..nn._functional.conv import _conv_padding

__all__ = ["SYMBOLIC", "UnsupportedArgument"]

SYMBOLIC: dict = {}
_INT64_MAX = np.iinfo(np.int64).max


class UnsupportedArgument(Exception):
    """An op whose arguments have no ONNX translation here (a training-mode dropout, a packed sequence)."""


def register(*names):
    def deco(fn):
        for n in names:
            SYMBOLIC[n] = fn
        return fn
    return deco


def _out(node, i=0) -> Value:
    return node.outputs[i]


def _np_dtype(value) -> np.dtype:
    return np.dtype(value.dtype.name)


def _operand(ctx, x, dtype) -> str:
    """``x`` (a Value or a Python number) as an ONNX tensor of ``dtype`` (cast where it differs)."""
    if isinstance(x, Value):
        name = ctx.name(x)
        return name if x.dtype == dtype else ctx.cast(name, dtype)
    return ctx.name(x, dtype)


def _dims(d, rank: int) -> int:
    return d + rank if d < 0 else d


def _ntuple(v, n: int) -> tuple:
    if isinstance(v, (int, np.integer)):
        return (int(v),) * n
    v = tuple(int(x) for x in v)
    return v * n if len(v) == 1 else v


# ---- element-wise -------------------------------------------------------------------------------------
_UNARY = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "exp": "Exp", "log": "Log", "sqrt": "Sqrt",
          "abs": "Abs", "neg": "Neg", "__neg__": "Neg", "erf": "Erf", "reciprocal": "Reciprocal", "sin": "Sin",
          "cos": "Cos", "floor": "Floor", "ceil": "Ceil", "sign": "Sign", "hardswish": "HardSwish",
          "logical_not": "Not", "relu_": "Relu", "sigmoid_": "Sigmoid", "tanh_": "Tanh", "exp_": "Exp"}


def _unary(onnx_op):
    def handler(ctx, node, a):
        x = node.args[0]
        return ctx.node(onnx_op, [_operand(ctx, x, _out(node).dtype)])
    return handler


for _name, _op in _UNARY.items():
    register(_name)(_unary(_op))


@register("rsqrt")
def _rsqrt(ctx, node, a):
    return ctx.node("Reciprocal", [ctx.node("Sqrt", [ctx.name(node.args[0])])])


# (op, reflected): the ONNX op of a binary operator; reflected operators take (self, other) as other op self.
_BINARY = {"add": ("Add", False), "__add__": ("Add", False), "__radd__": ("Add", True), "__iadd__": ("Add", False),
           "add_": ("Add", False), "sub": ("Sub", False), "__sub__": ("Sub", False), "__rsub__": ("Sub", True),
           "subtract": ("Sub", False), "mul": ("Mul", False), "__mul__": ("Mul", False), "__rmul__": ("Mul", True),
           "mul_": ("Mul", False), "__imul__": ("Mul", False), "multiply": ("Mul", False), "div": ("Div", False),
           "divide": ("Div", False), "true_divide": ("Div", False), "__truediv__": ("Div", False),
           "__rtruediv__": ("Div", True), "div_": ("Div", False), "pow": ("Pow", False), "__pow__": ("Pow", False),
           "__rpow__": ("Pow", True), "maximum": ("Max", False), "minimum": ("Min", False)}


def _binary(onnx_op, reflected):
    def handler(ctx, node, a):
        x, y = node.args[0], node.args[1]
        if reflected:
            x, y = y, x
        alpha = node.kwargs.get("alpha", 1)
        dtype = _out(node).dtype
        if onnx_op == "Div" and node.kwargs.get("rounding_mode") is not None:
            raise UnsupportedArgument("division with a rounding_mode")
        yn = _operand(ctx, y, dtype)
        if alpha != 1:
            yn = ctx.node("Mul", [yn, ctx.name(alpha, dtype)])
        if onnx_op == "Pow" and not isinstance(y, Value):
            yn = ctx.name(y, x.dtype if isinstance(x, Value) else dtype)
        return ctx.node(onnx_op, [_operand(ctx, x, dtype), yn])
    return handler


for _name, (_op, _refl) in _BINARY.items():
    register(_name)(_binary(_op, _refl))


_COMPARE = {"eq": ("Equal", False), "__eq__": ("Equal", False), "ne": ("Equal", True), "__ne__": ("Equal", True),
            "gt": ("Greater", False), "__gt__": ("Greater", False), "lt": ("Less", False), "__lt__": ("Less", False),
            "ge": ("GreaterOrEqual", False), "__ge__": ("GreaterOrEqual", False), "le": ("LessOrEqual", False),
            "__le__": ("LessOrEqual", False)}


def _compare(onnx_op, negate):
    def handler(ctx, node, a):
        x, y = node.args[0], node.args[1]
        ref = x if isinstance(x, Value) else y
        out = ctx.node(onnx_op, [_operand(ctx, x, ref.dtype), _operand(ctx, y, ref.dtype)])
        return ctx.node("Not", [out]) if negate else out
    return handler


for _name, (_op, _neg) in _COMPARE.items():
    register(_name)(_compare(_op, _neg))


@register("where")
def _where(ctx, node, a):
    dtype = _out(node).dtype
    return ctx.node("Where", [ctx.name(a["condition"]), _operand(ctx, a["input"], dtype),
                              _operand(ctx, a["other"], dtype)])


@register("matmul", "__matmul__", "bmm", "mm")
def _matmul(ctx, node, a):
    return ctx.node("MatMul", [ctx.name(node.args[0]), ctx.name(node.args[1])])


# ---- activations -------------------------------------------------------------------------------------
@register("gelu")
def _gelu(ctx, node, a):
    x = ctx.name(a["input"])
    dt = a["input"].dtype
    if a.get("approximate", "none") == "tanh":
        inner = ctx.node("Mul", [ctx.node("Add", [x, ctx.node("Mul", [ctx.node("Pow", [x, ctx.name(3.0, dt)]),
                                                                       ctx.name(0.044715, dt)])]),
                                 ctx.name(math.sqrt(2.0 / math.pi), dt)])
        core = ctx.node("Tanh", [inner])
    else:
        core = ctx.node("Erf", [ctx.node("Div", [x, ctx.name(math.sqrt(2.0), dt)])])
    half_x = ctx.node("Mul", [x, ctx.name(0.5, dt)])
    return ctx.node("Mul", [half_x, ctx.node("Add", [core, ctx.name(1.0, dt)])])


@register("silu")
def _silu(ctx, node, a):
    x = ctx.name(a["input"])
    return ctx.node("Mul", [x, ctx.node("Sigmoid", [x])])


@register("hardsigmoid")
def _hardsigmoid(ctx, node, a):
    return ctx.node("HardSigmoid", [ctx.name(a["input"])], alpha=1.0 / 6, beta=0.5)


@register("hardtanh", "hardtanh_", "relu6", "clamp", "clip")
def _clip(ctx, node, a):
    x = a["input"]
    if node.op == "relu6":
        lo, hi = 0.0, 6.0
    elif node.op.startswith("hardtanh"):
        lo, hi = a.get("min_val", -1.0), a.get("max_val", 1.0)
    else:
        lo, hi = a.get("min"), a.get("max")
    bounds = ["" if b is None else _operand(ctx, b, x.dtype) for b in (lo, hi)]
    return ctx.node("Clip", [ctx.name(x)] + bounds)


@register("leaky_relu")
def _leaky_relu(ctx, node, a):
    return ctx.node("LeakyRelu", [ctx.name(a["input"])], alpha=float(a.get("negative_slope", 0.01)))


@register("softmax", "log_softmax")
def _softmax(ctx, node, a):
    x = a["input"]
    name = ctx.name(x) if a.get("dtype") is None else ctx.cast(ctx.name(x), _out(node).dtype)
    return ctx.node("Softmax" if node.op == "softmax" else "LogSoftmax", [name], axis=int(a["dim"]))


# ---- layers -----------------------------------------------------------------------------------------
@register("linear")
def _linear(ctx, node, a):
    x, w, b = a["input"], a["weight"], a.get("bias")
    if len(x.shape) == 2 and b is not None:
        return ctx.node("Gemm", [ctx.name(x), ctx.name(w), ctx.name(b)], transB=1)
    y = ctx.node("MatMul", [ctx.name(x), ctx.node("Transpose", [ctx.name(w)], perm=[1, 0])])
    return y if b is None else ctx.node("Add", [y, ctx.name(b)])


@register("conv1d", "conv2d", "conv3d")
def _conv(ctx, node, a):
    w = a["weight"]
    k = len(w.shape) - 2
    stride, dilation = _ntuple(a["stride"], k), _ntuple(a["dilation"], k)
    inputs = [ctx.name(a["input"]), ctx.name(w)] + ([ctx.name(a["bias"])] if a.get("bias") is not None else [])
    # The convolution's own reading of ``padding`` (ints, 'same'/'valid', (before, after) pairs): ONNX's
    # pads list every dim's start, then every dim's end.
    lo, hi = _conv_padding(a["padding"], k, tuple(w.shape[2:]), dilation, stride)
    return ctx.node("Conv", inputs, strides=list(stride), dilations=list(dilation), group=int(a["groups"]),
                    kernel_shape=list(w.shape[2:]), pads=list(lo) + list(hi))


def _pool_args(a, k: int):
    kernel = _ntuple(a["kernel_size"], k)
    stride = kernel if a.get("stride") in (None, ()) else _ntuple(a["stride"], k)
    pad = _ntuple(a.get("padding", 0), k)
    return kernel, stride, list(pad) + list(pad)


@register("max_pool1d", "max_pool2d", "max_pool3d")
def _max_pool(ctx, node, a):
    k = int(node.op[-2])
    if a.get("return_indices"):
        raise UnsupportedArgument("max pooling with return_indices=True")
    kernel, stride, pads = _pool_args(a, k)
    return ctx.node("MaxPool", [ctx.name(a["input"])], kernel_shape=list(kernel), strides=list(stride), pads=pads,
                    dilations=list(_ntuple(a.get("dilation", 1), k)), ceil_mode=int(bool(a.get("ceil_mode"))))


@register("avg_pool1d", "avg_pool2d", "avg_pool3d")
def _avg_pool(ctx, node, a):
    k = int(node.op[-2])
    if a.get("divisor_override") is not None:
        raise UnsupportedArgument("average pooling with divisor_override")
    kernel, stride, pads = _pool_args(a, k)
    return ctx.node("AveragePool", [ctx.name(a["input"])], kernel_shape=list(kernel), strides=list(stride),
                    pads=pads, ceil_mode=int(bool(a.get("ceil_mode"))),
                    count_include_pad=int(bool(a.get("count_include_pad", True))))


@register("adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool2d")
def _adaptive_pool(ctx, node, a):
    x = a["input"]
    k = int(node.op[-2])
    size_in = x.shape[-k:]
    size_out = _out(node).shape[-k:]
    kind = "Max" if "max" in node.op else "Average"
    if all(s == 1 for s in size_out):
        return ctx.node(f"Global{kind}Pool", [ctx.name(x)])
    if any(i % o for i, o in zip(size_in, size_out)):
        raise UnsupportedArgument(f"adaptive pooling from {tuple(size_in)} to {tuple(size_out)} (not a whole ratio)")
    kernel = [i // o for i, o in zip(size_in, size_out)]
    return ctx.node(f"{kind}Pool", [ctx.name(x)], kernel_shape=kernel, strides=kernel)


def _filled(ctx, n: int, fill: float, dtype) -> str:
    return ctx.const(np.full((n,), fill, np.dtype(dtype.name)))


@register("batch_norm")
def _batch_norm(ctx, node, a):
    x = a["input"]
    if a.get("training") or a.get("running_mean") is None:
        raise UnsupportedArgument("batch_norm in training mode (export the model in eval mode)")
    c = x.shape[1]
    w = ctx.name(a["weight"]) if a.get("weight") is not None else _filled(ctx, c, 1.0, x.dtype)
    b = ctx.name(a["bias"]) if a.get("bias") is not None else _filled(ctx, c, 0.0, x.dtype)
    return ctx.node("BatchNormalization", [ctx.name(x), w, b, ctx.name(a["running_mean"]),
                                           ctx.name(a["running_var"])], epsilon=float(a["eps"]))


@register("layer_norm")
def _layer_norm(ctx, node, a):
    x = a["input"]
    shape = _ntuple(a["normalized_shape"], 1)
    w = ctx.name(a["weight"]) if a.get("weight") is not None else ctx.const(np.ones(shape, _np_dtype(x)))
    b = ctx.name(a["bias"]) if a.get("bias") is not None else ctx.const(np.zeros(shape, _np_dtype(x)))
    return ctx.node("LayerNormalization", [ctx.name(x), w, b], axis=-len(shape), epsilon=float(a["eps"]))


@register("embedding")
def _embedding(ctx, node, a):
    if a.get("max_norm") is not None:
        raise UnsupportedArgument("embedding with max_norm (it renormalises the weight in place)")
    return ctx.node("Gather", [ctx.name(a["weight"]), ctx.name(a["input"])], axis=0)


@register("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout")
def _dropout(ctx, node, a):
    if a.get("training") and a.get("p", 0.5) > 0:
        raise UnsupportedArgument("dropout in training mode (export the model in eval mode)")
    return ctx.name(a["input"])


@register("pad")
def _pad(ctx, node, a):
    x = a["input"]
    pad = [int(p) for p in a["pad"]]
    rank = len(x.shape)
    begin, end = [0] * rank, [0] * rank
    for i in range(len(pad) // 2):
        begin[rank - 1 - i], end[rank - 1 - i] = pad[2 * i], pad[2 * i + 1]
    mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}.get(a.get("mode", "constant"))
    if mode is None:
        raise UnsupportedArgument(f"padding mode {a['mode']!r}")
    inputs = [ctx.name(x), ctx.const(np.array(begin + end, np.int64))]
    if mode == "constant":
        inputs.append(ctx.name(a.get("value") or 0.0, x.dtype))
    return ctx.node("Pad", inputs, mode=mode)


# ---- attention -------------------------------------------------------------------------------------------
def _attention(ctx, q, k, v, mask, scale: float, causal: bool, need_weights: bool = False):
    rank = len(k.shape)
    perm = list(range(rank - 2)) + [rank - 1, rank - 2]
    dt = q.dtype
    s = ctx.node("MatMul", [ctx.name(q), ctx.node("Transpose", [ctx.name(k)], perm=perm)])
    s = ctx.node("Mul", [s, ctx.name(float(scale), dt)])
    if causal:
        mask_arr = np.tri(q.shape[-2], k.shape[-2], dtype=bool)
        s = ctx.node("Where", [ctx.const(mask_arr), s, ctx.name(-np.inf, dt)])
    if mask is not None:
        if mask.dtype.name == "bool":
            s = ctx.node("Where", [ctx.name(mask), s, ctx.name(-np.inf, dt)])
        else:
            s = ctx.node("Add", [s, _operand(ctx, mask, dt)])
    p = ctx.node("Softmax", [s], axis=-1)
    out = ctx.node("MatMul", [p, ctx.name(v)])
    return [out, p] if need_weights else out


@register("scaled_dot_product_attention")
def _sdpa(ctx, node, a):
    if a.get("dropout_p", 0.0) > 0:
        raise UnsupportedArgument("attention dropout (pass dropout_p=0 in evaluation)")
    if a.get("enable_gqa"):
        raise UnsupportedArgument("enable_gqa")
    q = a["query"]
    scale = a.get("scale") or 1.0 / math.sqrt(q.shape[-1])
    return _attention(ctx, q, a["key"], a["value"], a.get("attn_mask"), scale, bool(a.get("is_causal")))


@register("Attention")
def _attention_op(ctx, node, a):
    # nn's fused attention node: Attention.apply(q, k, v, mask, dropout_p, scale, need_weights, empty_rows_nan)
    q, k, v, mask, dropout_p, scale, need_weights = node.args[:7]
    if dropout_p > 0:
        raise UnsupportedArgument("attention dropout (export the model in eval mode)")
    return _attention(ctx, q, k, v, mask, scale, False, bool(need_weights))


# ---- shapes -----------------------------------------------------------------------------------------------
def _reshape_to(ctx, x, out: Value) -> str:
    """Reshape ``x`` to ``out``'s shape; dims that follow the dynamic axes are copied from ``x`` (0) when
    they stay in place, else inferred (-1) when there is one, else read from the graph."""
    dyn_out, dyn_in = ctx.dynamic_dims(out), ctx.dynamic_dims(x)
    target = list(out.shape)
    moved = []
    for d, s2 in dyn_out.items():
        if d < len(x.shape) and dyn_in.get(d) == s2 and x.shape[d] == out.shape[d]:
            target[d] = 0
        else:
            moved.append(d)
    if len(moved) == 1:
        target[moved[0]] = -1
        shape = ctx.const(np.array(target, np.int64))
    elif moved:
        parts = [ctx.runtime_size(out.shape[d], dyn_out[d]) if d in moved else
                 ctx.const(np.array([target[d]], np.int64)) for d in range(len(target))]
        shape = ctx.node("Concat", parts, axis=0)
    else:
        shape = ctx.const(np.array(target, np.int64))
    return ctx.node("Reshape", [ctx.name(x), shape])


@register("reshape", "view", "flatten", "unflatten", "squeeze", "unsqueeze", "view_as", "reshape_as", "ravel")
def _reshape(ctx, node, a):
    return _reshape_to(ctx, node.args[0], _out(node))


@register("contiguous", "clone", "detach", "to", "float", "double", "half", "long", "int", "bool", "type",
          "type_as", "cpu")
def _identity_or_cast(ctx, node, a):
    x = node.args[0]
    out = _out(node)
    return ctx.name(x) if x.dtype == out.dtype else ctx.cast(ctx.name(x), out.dtype)


@register("permute")
def _permute(ctx, node, a):
    x = node.args[0]
    dims = node.args[1:]
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = dims[0]
    return ctx.node("Transpose", [ctx.name(x)], perm=[_dims(int(d), len(x.shape)) for d in dims])


@register("transpose", "swapaxes", "swapdims", "t", "T", "mT")
def _transpose(ctx, node, a):
    x = node.args[0]
    rank = len(x.shape)
    if node.op in ("t", "T") and rank < 2:
        return ctx.name(x)
    if node.op == "T":
        perm = list(reversed(range(rank)))
    else:
        d0, d1 = (node.args[1], node.args[2]) if len(node.args) >= 3 else (-2, -1) if node.op == "mT" else (0, 1)
        perm = list(range(rank))
        d0, d1 = _dims(d0, rank), _dims(d1, rank)
        perm[d0], perm[d1] = perm[d1], perm[d0]
    return ctx.node("Transpose", [ctx.name(x)], perm=perm)


@register("expand", "expand_as", "broadcast_to")
def _expand(ctx, node, a):
    x = node.args[0]
    out = _out(node)
    lead = len(out.shape) - len(x.shape)
    dyn = ctx.dynamic_dims(out)
    parts = []
    for d, size in enumerate(out.shape):
        same = d >= lead and x.shape[d - lead] == size and ctx.dynamic_dims(x).get(d - lead) == dyn.get(d)
        if same or (d >= lead and x.shape[d - lead] == size and d not in dyn):
            parts.append(ctx.const(np.array([1], np.int64)))
        elif d in dyn:
            parts.append(ctx.runtime_size(size, dyn[d]))
        else:
            parts.append(ctx.const(np.array([size], np.int64)))
    return ctx.node("Expand", [ctx.name(x), ctx.node("Concat", parts, axis=0)])


@register("cat", "concat", "concatenate")
def _cat(ctx, node, a):
    tensors = node.args[0]
    dt = _out(node).dtype
    dim = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else 0)
    parts = [_operand(ctx, t, dt) for t in tensors if not (isinstance(t, Value) and t.shape == (0,))]
    return ctx.node("Concat", parts, axis=_dims(int(dim), len(_out(node).shape)))


@register("stack")
def _stack(ctx, node, a):
    dim = _dims(int(a.get("dim", 0)), len(_out(node).shape))
    axes = ctx.const(np.array([dim], np.int64))
    return ctx.node("Concat", [ctx.node("Unsqueeze", [ctx.name(t), axes]) for t in a["tensors"]], axis=dim)


@register("split", "chunk", "tensor_split", "unbind")
def _split(ctx, node, a):
    x = node.args[0]
    dim = a.get("dim", 0)
    dim = _dims(int(dim), len(x.shape))
    if node.op == "unbind":
        sizes = [1] * x.shape[dim]
    else:
        sizes = [v.shape[dim] for v in node.outputs]
    if dim in ctx.dynamic_dims(x):
        raise UnsupportedArgument("splitting along a dynamic axis")
    parts = ctx.node("Split", [ctx.name(x), ctx.const(np.array(sizes, np.int64))], outputs=len(sizes), axis=dim)
    parts = [parts] if isinstance(parts, str) else parts
    if node.op == "unbind":
        axes = ctx.const(np.array([dim], np.int64))
        parts = [ctx.node("Squeeze", [p, axes]) for p in parts]
    return parts


def _zeros_like(fill):
    def handler(ctx, node, a):
        out = _out(node)
        value = a.get("fill_value", fill)
        tensor = ctx.tensor_attribute(np.array([value], _np_dtype(out)))
        return ctx.node("ConstantOfShape", [ctx.node("Shape", [ctx.name(a["input"])])], value=tensor)
    return handler


register("zeros_like")(_zeros_like(0))
register("ones_like")(_zeros_like(1))
register("full_like")(_zeros_like(None))


class _IndexPlan:
    """A basic-indexing key as ONNX steps: one Slice (starts, ends, axes, steps), a Gather for one index
    tensor, then Squeeze (integer indices) and Unsqueeze (None)."""

    def __init__(self, key, rank: int):
        key = key if isinstance(key, tuple) else (key,)
        n_real = sum(1 for k in key if k is not None and k is not Ellipsis)
        expanded = []
        for k in key:
            expanded += [slice(None)] * (rank - n_real) if k is Ellipsis else [k]
        self.starts, self.ends, self.axes, self.steps = [], [], [], []
        self.squeeze, self.unsqueeze, self.gathers = [], [], []
        dim = out_pos = 0
        for k in expanded:
            if k is None:
                self.unsqueeze.append(out_pos)
                out_pos += 1
                continue
            if isinstance(k, Value):
                if k.dtype.name == "bool" or self.gathers:
                    raise UnsupportedArgument("indexing with a bool mask or with several index tensors")
                self.gathers.append((dim, k))
                dim += 1
                out_pos += len(k.shape)
                continue
            if isinstance(k, (int, np.integer)):
                self._slice(dim, int(k), int(k) + 1 if k != -1 else _INT64_MAX, 1)
                self.squeeze.append(dim)
            elif isinstance(k, slice):
                if k != slice(None):
                    step = 1 if k.step is None else int(k.step)
                    if step < 0:
                        raise UnsupportedArgument("a negative slice step")
                    self._slice(dim, 0 if k.start is None else int(k.start),
                                _INT64_MAX if k.stop is None else int(k.stop), step)
                out_pos += 1
            else:
                raise UnsupportedArgument(f"indexing with {type(k).__name__}")
            dim += 1

    def _slice(self, dim, start, end, step):
        self.starts.append(start)
        self.ends.append(end)
        self.axes.append(dim)
        self.steps.append(step)


@register("__getitem__")
def _getitem(ctx, node, a):
    x, key = node.args
    plan = _IndexPlan(key, len(x.shape))
    twin = ctx.counterpart.get(node)
    # Bounds that follow the dynamic axes (x[:, :length]) are read at run time.
    plan2 = _IndexPlan(twin.args[1], len(twin.args[0].shape)) if twin is not None else plan
    y = ctx.name(x)
    if plan.axes:
        bounds = [ctx.shape_input(plan.starts, plan2.starts), ctx.shape_input(plan.ends, plan2.ends)]
        y = ctx.node("Slice", [y] + bounds + [ctx.const(np.array(v, np.int64)) for v in (plan.axes, plan.steps)])
    squeeze = plan.squeeze
    if plan.gathers:
        (gdim, idx), = plan.gathers
        y = ctx.node("Gather", [y, ctx.name(idx)], axis=gdim)
        squeeze = [d if d < gdim else d + len(idx.shape) - 1 for d in squeeze]
    if squeeze:
        y = ctx.node("Squeeze", [y, ctx.const(np.array(squeeze, np.int64))])
    if plan.unsqueeze:
        y = ctx.node("Unsqueeze", [y, ctx.const(np.array(plan.unsqueeze, np.int64))])
    return y


# ---- reductions --------------------------------------------------------------------------------------------
def _reduce_axes(a, rank: int):
    dim = a.get("dim")
    if dim is None or dim == ():
        return list(range(rank))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    return [_dims(int(d), rank) for d in dims]


@register("mean", "sum", "amax", "amin")
def _reduce(ctx, node, a):
    x = a["input"]
    axes = _reduce_axes(a, len(x.shape))
    keep = int(bool(a.get("keepdim", False)))
    name = ctx.name(x) if x.dtype == _out(node).dtype else ctx.cast(ctx.name(x), _out(node).dtype)
    op = {"sum": "ReduceSum", "mean": "ReduceMean", "amax": "ReduceMax", "amin": "ReduceMin"}[node.op]
    if op == "ReduceSum" or ctx.opset >= 18:   # axes became an input: ReduceSum at opset 13, the others at 18
        return ctx.node(op, [name, ctx.const(np.array(axes, np.int64))], keepdims=keep)
    return ctx.node(op, [name], axes=axes, keepdims=keep)


@register("normalize")
def _normalize(ctx, node, a):
    x = a["input"]
    if float(a.get("p", 2.0)) != 2.0:
        raise UnsupportedArgument(f"normalize with p={a['p']} (p=2 is exported)")
    axes = [_dims(int(a.get("dim", 1)), len(x.shape))]
    name = ctx.name(x)
    if ctx.opset >= 18:
        norm = ctx.node("ReduceL2", [name, ctx.const(np.array(axes, np.int64))], keepdims=1)
    else:
        norm = ctx.node("ReduceL2", [name], axes=axes, keepdims=1)
    return ctx.node("Div", [name, ctx.node("Max", [norm, ctx.name(float(a.get("eps", 1e-12)), x.dtype)])])


# ---- recurrent layers ----------------------------------------------------------------------------------------
# Gate order: PyTorch's LSTM (i, f, g, o) -> ONNX (i, o, f, c); GRU (r, z, n) -> ONNX (z, r, h).
_GATES = {"LSTM": (4, [0, 3, 1, 2]), "GRU": (3, [1, 0, 2])}


def _reorder(w: np.ndarray, mode: str) -> np.ndarray:
    n, order = _GATES[mode]
    return np.concatenate([np.split(w, n, axis=0)[i] for i in order], axis=0)


def _weight_data(v):
    if isinstance(v, Value):
        if v.data is None:
            raise UnsupportedArgument("recurrent weights computed from the inputs")
        return v.data
    return None


@register("recurrent_layers")
def _recurrent(ctx, node, a):
    mode = a["mode"]
    if mode not in _GATES:
        raise UnsupportedArgument(f"recurrent mode {mode!r} (LSTM and GRU are exported)")
    sizes = tuple(a["batch_sizes"])
    if len(set(sizes)) != 1:
        raise UnsupportedArgument("a packed sequence of varying lengths")
    dirs = 2 if a["bidirectional"] else 1
    x = a["x"]
    hidden = _weight_data(a["weights"][0][1]).shape[1]
    layer_in = ctx.node("Reshape", [ctx.name(x), ctx.const(np.array([len(sizes), -1, x.shape[-1]], np.int64))])
    hs, cs = [], []
    for layer in range(a["num_layers"]):
        ws = a["weights"][layer * dirs:(layer + 1) * dirs]
        W = np.stack([_reorder(_weight_data(w[0]), mode) for w in ws])
        R = np.stack([_reorder(_weight_data(w[1]), mode) for w in ws])
        B = np.stack([np.concatenate([_reorder(_weight_data(w[2]), mode) if w[2] is not None else
                                      np.zeros(W.shape[1], W.dtype),
                                      _reorder(_weight_data(w[3]), mode) if w[3] is not None else
                                      np.zeros(W.shape[1], W.dtype)]) for w in ws])
        inputs = [layer_in, ctx.const(W), ctx.const(R), ctx.const(B), ""]
        for state in ((a["hx"], a["cx"]) if mode == "LSTM" else (a["hx"],)):
            if state is None:
                inputs.append("")
            else:
                bounds = [ctx.const(np.array([v], np.int64)) for v in (layer * dirs, (layer + 1) * dirs)]
                inputs.append(ctx.node("Slice", [ctx.name(state)] + bounds + [ctx.const(np.array([0], np.int64))]))
        attrs = dict(hidden_size=int(hidden), direction="bidirectional" if dirs == 2 else "forward")
        if mode == "GRU":
            attrs["linear_before_reset"] = 1    # PyTorch's GRU applies the reset gate after the hidden product
        outs = ctx.node(mode, inputs, outputs=3 if mode == "LSTM" else 2, **attrs)
        y = ctx.node("Transpose", [outs[0]], perm=[0, 2, 1, 3])                     # (T, B, dirs, H)
        layer_in = ctx.node("Reshape", [y, ctx.const(np.array([0, 0, dirs * hidden], np.int64))])
        hs.append(outs[1])
        if mode == "LSTM":
            cs.append(outs[2])
    y = ctx.node("Reshape", [layer_in, ctx.const(np.array([-1, dirs * hidden], np.int64))])
    results = [y, hs[0] if len(hs) == 1 else ctx.node("Concat", hs, axis=0)]
    if mode == "LSTM":
        results.append(cs[0] if len(cs) == 1 else ctx.node("Concat", cs, axis=0))
    return results[:len(node.outputs)]
