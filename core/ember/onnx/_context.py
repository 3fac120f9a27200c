"""What an op's ONNX translation (``_symbolic.py``) works with: the graph being built.

:class:`ExportContext` names each traced Value in the ONNX graph (a graph input or a node output
keeps its name; a Value that does not depend on the inputs -- a parameter, a folded constant --
becomes an initializer), adds ONNX nodes and constants, and answers shape questions that dynamic
axes make hard: which dims of a Value change with the dynamic input sizes (``dynamic_dims``), and
an int64 shape tensor for a list of sizes in which the dynamic ones are read from the graph at run
time (``shape_input``), and the same node in a second trace made with other dynamic sizes
(``other_arguments``).
"""
from __future__ import annotations

import itertools

import numpy as np

from ..jit._graph import Value

__all__ = ["ExportContext", "onnx_dtype"]


def onnx_dtype(dtype) -> int:
    """The ONNX ``TensorProto`` element type of an Ember dtype."""
    from onnx import TensorProto
    table = {"float32": TensorProto.FLOAT, "float64": TensorProto.DOUBLE, "float16": TensorProto.FLOAT16,
             "bfloat16": TensorProto.BFLOAT16, "int64": TensorProto.INT64, "int32": TensorProto.INT32,
             "int16": TensorProto.INT16, "int8": TensorProto.INT8, "uint8": TensorProto.UINT8,
             "bool": TensorProto.BOOL}
    name = dtype.name if hasattr(dtype, "name") else np.dtype(dtype).name
    return table[name]


class ExportContext:
    """The ONNX nodes and initializers of one export, and the names given to the traced Values.

    ``dynamic``: for each Value whose shape follows the dynamic input axes, ``{dim: size in the second
    trace}``; ``counterpart``: each node's twin in the second trace (a trace of inputs resized along
    the dynamic axes), whose arguments tell which sizes follow those axes (see ``_export.py``).
    """

    def __init__(self, opset: int, dynamic: dict | None = None, counterpart: dict | None = None):
        from onnx import helper, numpy_helper
        self._helper, self._numpy_helper = helper, numpy_helper
        self.opset = opset
        self.nodes: list = []
        self.initializers: list = []
        self._names: dict = {}         # Value -> ONNX name
        self._count = itertools.count()
        self._consts: dict = {}        # (dtype, shape, bytes) -> name: one initializer per distinct constant
        self.dynamic = dynamic or {}
        self.counterpart = counterpart or {}
        self.shape_sources: list = []  # (ONNX name of a tensor, its Value) that shape_input may read sizes from

    # -- names --------------------------------------------------------------------------------------
    def fresh(self, hint: str = "t") -> str:
        return f"/{hint}_{next(self._count)}"

    def name(self, x, dtype=None) -> str:
        """The ONNX name of an argument: a Value (its node output / graph input, or an initializer for
        a Value that does not depend on the inputs), or a Python number / list (a constant of
        ``dtype``, float32 by default for floats and int64 for ints)."""
        if isinstance(x, Value):
            if x in self._names:
                return self._names[x]
            if x.data is None:
                raise RuntimeError(f"ONNX export: %{x.name} is used before it is computed")
            name = self.initializer(x.data, x.name)
            self._names[x] = name
            return name
        arr = np.asarray(x)
        if dtype is not None:
            arr = arr.astype(np.dtype(dtype.name if hasattr(dtype, "name") else dtype))
        elif arr.dtype == np.float64:
            arr = arr.astype(np.float32)
        return self.const(arr)

    # -- building --------------------------------------------------------------------------------------
    def initializer(self, array: np.ndarray, name: str) -> str:
        arr = np.ascontiguousarray(array)
        self.initializers.append(self._numpy_helper.from_array(arr, name))
        return name

    def const(self, array) -> str:
        """An initializer holding ``array`` (equal constants share one)."""
        arr = np.ascontiguousarray(np.asarray(array))
        key = (arr.dtype.str, arr.shape, arr.tobytes())
        if key not in self._consts:
            self._consts[key] = self.initializer(arr, self.fresh("const"))
        return self._consts[key]

    def node(self, op_type: str, inputs, outputs=1, **attrs):
        """Add an ONNX node; ``outputs`` is a count (fresh names) or a list of names. Returns the output
        name (one output) or the list of names. An empty string input is an omitted optional input."""
        names = [self.fresh(op_type) for _ in range(outputs)] if isinstance(outputs, int) else list(outputs)
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(self._helper.make_node(op_type, list(inputs), names, **attrs))
        return names[0] if len(names) == 1 else names

    def tensor_attribute(self, array):
        """A TensorProto for a node attribute (ConstantOfShape's ``value``)."""
        return self._numpy_helper.from_array(np.asarray(array))

    def cast(self, name: str, dtype) -> str:
        return self.node("Cast", [name], to=onnx_dtype(dtype))

    def other_arguments(self, node) -> dict | None:
        """The arguments of ``node``'s twin in the second trace (None without dynamic axes)."""
        twin = self.counterpart.get(node)
        return None if twin is None else twin.arguments()

    # -- shapes ------------------------------------------------------------------------------------------
    def dynamic_dims(self, value) -> dict:
        """``{dim: size in the second trace}`` for the dims of ``value`` that follow a dynamic input axis
        (empty without dynamic axes)."""
        return self.dynamic.get(value, {}) if isinstance(value, Value) else {}

    def bind(self, value: Value, name: str) -> None:
        self._names[value] = name
        if self.dynamic_dims(value):
            self.shape_sources.append((name, value))

    def runtime_size(self, size: int, size2: int) -> str:
        """An int64 [1] tensor holding, at run time, the size that was ``size`` in the example and
        ``size2`` in the second trace: a dim of a computed tensor that changed the same way."""
        for name, value in self.shape_sources:
            for d, s2 in self.dynamic_dims(value).items():
                if value.shape[d] == size and s2 == size2:
                    return self.node("Shape", [name], start=d, end=d + 1)
        raise RuntimeError(f"ONNX export: a size that follows the dynamic axes ({size} in the example, {size2} with "
                           "other sizes) is not the size of any dim of the graph's tensors")

    def shape_input(self, sizes, sizes2=None) -> str:
        """An int64 1-D tensor of ``sizes``; where ``sizes2`` (the same argument in the second trace)
        differs, the size is read from the graph at run time."""
        sizes = [int(s) for s in sizes]
        if sizes2 is None or list(map(int, sizes2)) == sizes:
            return self.const(np.array(sizes, np.int64))
        parts = [self.runtime_size(s, int(s2)) if s != int(s2) else self.const(np.array([s], np.int64))
                 for s, s2 in zip(sizes, sizes2)]
        return self.node("Concat", parts, axis=0)
