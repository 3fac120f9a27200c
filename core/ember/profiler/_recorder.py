"""The profiler's collection state: what is recorded while a profile is active, and nothing otherwise.

``ACTIVE.recorder`` is ``None`` unless a :class:`~ember.profiler.profile` is recording; every producer of
events (``record_function`` and the op-layer observer) checks that one attribute first, so code that is not
being profiled pays one attribute read. A :class:`Recorder` only appends raw records (name, thread, start
and end in nanoseconds, and what the profile asked for: input shapes and dtypes, allocated bytes, the
Python stack); the tree, self times and averages are worked out once, when the events are read
(``_events.build_events``).
"""
from __future__ import annotations

import functools
import os
import sys
import threading
import time

import numpy as np

from .._tensor import Tensor

# The clock of every record, in nanoseconds. A module attribute so that tests can substitute a fake clock.
now_ns = time.perf_counter_ns

USER_ANNOTATION = "user_annotation"   # a record_function range
CPU_OP = "cpu_op"                     # an operation reported by the op layer

_EMBER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


class _Active:
    __slots__ = ("recorder",)

    def __init__(self):
        self.recorder = None


ACTIVE = _Active()


class RawEvent:
    """One recorded range, as the recorder saw it (times in nanoseconds of :data:`now_ns`)."""

    __slots__ = ("name", "kind", "tid", "start", "end", "shapes", "dtypes", "outputs", "inputs", "stack", "args")

    def __init__(self, name, kind, tid, start):
        self.name = name
        self.kind = kind
        self.tid = tid
        self.start = start
        self.end = None
        self.shapes = None
        self.dtypes = None
        self.outputs = None   # (id, bytes) of each output array, when profiling memory
        self.inputs = None    # the input arrays, while the range is open and memory is profiled
        self.stack = None
        self.args = None


class Recorder:
    """Collects the raw events of one recording window of a profile."""

    def __init__(self, record_shapes: bool = False, profile_memory: bool = False, with_stack: bool = False):
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.events: list[RawEvent] = []   # list.append is atomic: threads may record concurrently
        self.start_ns = now_ns()
        self.end_ns = None

    def begin(self, name: str, kind: str, inputs=(), args=None) -> RawEvent:
        """Open a range now; close it with :meth:`end`."""
        ev = RawEvent(name, kind, threading.get_native_id(), 0)
        if self.record_shapes:
            ev.shapes, ev.dtypes = describe_inputs(inputs)
        if self.profile_memory and kind == CPU_OP:
            ev.inputs = [a for a in map(_array_of, inputs) if a is not None]
        if self.with_stack:
            ev.stack = user_stack()
        ev.args = args
        self.events.append(ev)
        ev.start = now_ns()   # last, so that the bookkeeping above is not timed
        return ev

    def end(self, ev: RawEvent, outputs=()) -> None:
        """Close ``ev`` now; ``outputs`` (tensors or arrays) are what the range produced."""
        ev.end = now_ns()
        if ev.inputs is not None:
            ev.outputs = allocations(outputs, ev.inputs)
            ev.inputs = None   # do not keep the op's inputs alive

    # -- the op observer (ember._op_hooks): every public op call while this recorder is active ----------
    def enter(self, call) -> RawEvent:
        inputs = call.args + tuple(call.kwargs.values()) if call.kwargs else call.args
        return self.begin(op_event_name(call.name), CPU_OP, inputs)

    def exit(self, call, token: RawEvent) -> None:
        self.end(token, call.result)

    def stop(self) -> None:
        self.end_ns = now_ns()
        # A range still open when recording stops (a record_function around the end of a scheduled window,
        # or one left open in a suspended generator) ends with the window.
        for ev in self.events:
            if ev.end is None:
                ev.end = self.end_ns


def _array_of(x):
    return x._data if isinstance(x, Tensor) else x if hasattr(x, "nbytes") and hasattr(x, "shape") else None


# PyTorch's C++ names of the scalar types, as its profiler reports them under "Input type" (keyed by NumPy
# dtype: a dict lookup, where str(dtype) would run NumPy's Python-level name code for every input).
_TYPE_NAMES = {np.dtype(k): v for k, v in {
    "float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int", "int32": "int",
    "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool",
    "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}.items()}


def describe_inputs(inputs) -> tuple[list, list]:
    """PyTorch's ``Input Dims`` and ``Input type`` of an op's arguments: a tensor's shape and scalar type, a
    number ``[]`` and ``"Scalar"``, a list of numbers ``[]`` and ``"ScalarList"``, a list of tensors their
    shapes and ``"TensorList"``, anything else ``[]`` and ``""``."""
    shapes, dtypes = [], []
    for x in inputs:
        a = _array_of(x)
        if a is not None:
            shapes.append(list(a.shape))
            name = _TYPE_NAMES.get(a.dtype)
            dtypes.append(name if name is not None else str(a.dtype))
        elif isinstance(x, (bool, int, float, complex)):
            shapes.append([])
            dtypes.append("Scalar")
        elif isinstance(x, (list, tuple)) and x and all(_array_of(y) is not None for y in x):
            shapes.append([list(_array_of(y).shape) for y in x])
            dtypes.append("TensorList")
        elif isinstance(x, (list, tuple)) and all(isinstance(y, (bool, int, float)) for y in x):
            shapes.append([])
            dtypes.append("ScalarList")
        else:
            shapes.append([])
            dtypes.append("")
    return shapes, dtypes


def allocations(outputs, inputs) -> list[tuple[int, int]]:
    """``(id, bytes)`` of each output array (in nested tuples and lists too) that is new memory: an output that
    may share memory with an input (a view, an in-place result) allocated nothing."""
    found = []
    for a in _arrays_in(outputs):
        found.append((id(a), 0 if any(_may_share(a, b) for b in inputs) else int(a.nbytes)))
    return found


def _arrays_in(value):
    if isinstance(value, (list, tuple)):
        for v in value:
            yield from _arrays_in(v)
    else:
        a = _array_of(value)
        if a is not None:
            yield a


def _may_share(a, b) -> bool:
    if a is b:
        return True
    if getattr(a, "base", None) is None:   # owns its memory: shared only with its own views
        return getattr(b, "base", None) is a
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return bool(np.may_share_memory(a, b))   # a bounds check, not an element comparison
    # Device arrays: a view's ``base`` is the array it looks into.
    base_a, base_b = getattr(a, "base", None), getattr(b, "base", None)
    return base_a is b or base_b is a or (base_a is not None and base_a is base_b)


# Operators are reported under the names of the ops they are, as PyTorch's profiler names them.
_BINARY = {"add": "add", "sub": "sub", "mul": "mul", "truediv": "div", "floordiv": "floor_divide", "mod": "remainder",
           "pow": "pow", "matmul": "matmul", "and": "bitwise_and", "or": "bitwise_or", "xor": "bitwise_xor",
           "lshift": "bitwise_left_shift", "rshift": "bitwise_right_shift"}
_OTHER = {"neg": "neg", "pos": "positive", "abs": "abs", "invert": "bitwise_not", "eq": "eq", "ne": "ne", "lt": "lt",
          "le": "le", "gt": "gt", "ge": "ge", "getitem": "index", "setitem": "index_put_", "rsub": "rsub"}


@functools.lru_cache(maxsize=None)
def op_event_name(name: str) -> str:
    """The event name of the public op ``name``: ``aten::`` and the op's name, an operator's dunder spelled as
    its op (``__add__`` and ``__radd__`` -> ``aten::add``, ``__iadd__`` -> ``aten::add_``)."""
    if len(name) > 4 and name.startswith("__") and name.endswith("__"):
        inner = name[2:-2]
        if inner in _OTHER:
            name = _OTHER[inner]
        elif inner in _BINARY:
            name = _BINARY[inner]
        elif inner[:1] == "i" and inner[1:] in _BINARY:
            name = _BINARY[inner[1:]] + "_"
        elif inner[:1] == "r" and inner[1:] in _BINARY:
            name = _BINARY[inner[1:]]
    return "aten::" + name


def user_stack() -> list[str]:
    """The Python frames of the caller, innermost first, in PyTorch's ``file(line): function`` form,
    without Ember's own frames (walked directly: no source lines are read)."""
    out = []
    frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if not _is_ember_file(code.co_filename):
            out.append(f"{code.co_filename}({frame.f_lineno}): {code.co_name}")
        frame = frame.f_back
    return out


@functools.lru_cache(maxsize=None)
def _is_ember_file(filename: str) -> bool:
    return os.path.abspath(filename).startswith(_EMBER_DIR)
