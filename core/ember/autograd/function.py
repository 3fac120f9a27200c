"""The graph node and the two ways to define a differentiable operation on it.

* :class:`Op` -- how every built-in operation is written (``ember.ops`` and ``ember.nn.functional``):
  ``forward(ctx, xp, *args)`` runs on the device's arrays (``xp`` is ``numpy`` or ``cupy``; tensor
  arguments arrive as their arrays) and returns arrays; ``backward(ctx, *grads)`` is written with
  Ember tensor operations, so that it can itself be differentiated (``create_graph=True``). Hot
  paths that compute their output themselves record the node with :func:`record`.
  CONTRIBUTING.md has the recipe.
* :class:`Function` -- PyTorch's ``torch.autograd.Function`` for users: tensors in, tensors out.

Both make ``ctx`` (a :class:`Node`) the outputs' ``grad_fn`` when a gradient is being recorded;
"does input ``i`` need a gradient?" is spelled ``ctx.needs_input_grad[i]`` in both.
"""
from __future__ import annotations

import functools
import itertools

import numpy as np

from .._op_hooks import OBSERVERS as _OBSERVERS, dispatch as _dispatch_op
from .._tensor import Tensor, _make
from ..backend import CPU
from .grad_mode import STATE, no_grad

__all__ = ["Function", "Op", "record", "Node", "FunctionCtx", "once_differentiable"]

_seq = itertools.count()
_next_seq = _seq.__next__

_RELEASED = ("released",)
_PY_SCALARS = (int, float, bool, complex)

_FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
    "graph a second time or if you need to access saved tensors after calling backward."
)


class _NeedsInputGrad:
    """``ctx.needs_input_grad[i]``: does input ``i`` need a gradient? Worked out from the node's
    edges when first read (most nodes never ask) and then kept on the node."""

    def __get__(self, ctx, owner=None):
        if ctx is None:
            return self
        needs = tuple([e is not None for e in ctx.next_edges])
        ctx.__dict__["needs_input_grad"] = needs
        return needs


class Node:
    """Context object of one op application; also the graph node exposed as ``grad_fn``.

    Attributes set on ``ctx`` inside ``forward`` are available in ``backward``.
    """

    __slots__ = ("_fn", "next_edges", "_seq", "_saved", "_device", "__dict__", "__weakref__")

    # Rarely set fields live in the instance __dict__, with these class-level defaults,
    # which keeps creating a node cheap.
    _n_out = 1
    _pre_hooks = None
    _non_diff = None
    _out_meta = None
    materialize_grads = True
    needs_input_grad = _NeedsInputGrad()

    def __init__(self, fn=None):
        self._fn = fn
        self._saved = None
        self.next_edges = ()
        self._seq = 0
        self._device = None

    # -- the ctx API (PyTorch's names) -------------------------------------------------
    def save_for_backward(self, *tensors) -> None:
        """Save tensors (inputs or outputs) for ``backward``; read them back with ``saved_tensors``.

        In-place changes to a saved tensor before backward are detected and reported.
        """
        self._saved = tensors

    @property
    def saved_tensors(self) -> tuple:
        saved = self._saved
        if saved is _RELEASED:
            raise RuntimeError(_FREED_MSG)
        if not saved:
            return ()
        return tuple(_unpack(self, s) for s in saved)

    def mark_non_differentiable(self, *outputs) -> None:
        """Outputs that get no gradient (e.g. indices); they will not require grad."""
        self._non_diff = outputs

    def mark_dirty(self, *tensors) -> None:
        # Ember's custom functions do not modify inputs in place through ctx; accepted for compatibility.
        pass

    def set_materialize_grads(self, value: bool) -> None:
        """When False, ``backward`` may receive ``None`` for outputs that got no gradient."""
        self.materialize_grads = value

    # -- the grad_fn API ---------------------------------------------------------------
    def name(self) -> str:
        return self._fn.__name__ + "Backward"

    @property
    def next_functions(self) -> tuple:
        out = []
        for e in self.next_edges:
            if e is None:
                out.append((None, 0))
            elif isinstance(e[0], Node):
                out.append((e[0], e[1]))
            else:
                out.append((AccumulateGrad(e[0]), 0))
        return tuple(out)

    def register_prehook(self, hook) -> None:
        """``hook(grad_outputs) -> grad_outputs | None`` runs before this node's backward."""
        self._add_pre_hook(-1, hook)

    def _add_pre_hook(self, output_nr: int, hook) -> None:
        if self._pre_hooks is None:
            self._pre_hooks = {}
        self._pre_hooks.setdefault(output_nr, []).append(hook)

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"

    def __lt__(self, other):  # heap tie-break (never needed: sequence numbers are unique)
        return self._seq < other._seq


FunctionCtx = Node


class AccumulateGrad:
    """What ``next_functions`` shows for a leaf tensor (as in PyTorch)."""

    __slots__ = ("variable",)

    def __init__(self, variable):
        self.variable = variable

    def name(self) -> str:
        return "AccumulateGrad"

    next_functions = ()

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"


class _SavedOutput:
    """An output saved by its own node: kept as data plus version counter, not as the
    Tensor (which points back at the node), so no reference cycle is created."""

    __slots__ = ("data", "vc", "version", "index", "device", "rg")

    def __init__(self, data, vc, index, device, rg):
        self.data, self.vc, self.version, self.index, self.device, self.rg = data, vc, vc[0], index, device, rg


def _version_counter(t) -> list:
    vc = t._vc
    if vc is None:
        vc = t._vc = [0]
    return vc


def _pack(ctx: Node, inputs: tuple, arrays, outputs: tuple, saved: tuple) -> tuple:
    """What ``save_for_backward`` keeps of each saved value: an input as ``(tensor, version)`` (the
    tensor itself, so that a double backward reaches its graph), an output as a ``_SavedOutput``,
    anything else (a constant array, a number, None) as it is.

    ``arrays`` are the arrays an :class:`Op`'s forward received (None for a :class:`Function`); a
    saved array is recognised as an input's by identity.
    """
    packed = []
    for k, s in enumerate(saved):
        if s is None or type(s) in _PY_SCALARS:
            packed.append(s)
        elif isinstance(s, Tensor):
            packed.append(_pack_tensor(ctx, outputs, s))
        else:
            packed.append(_pack_array(inputs, arrays, outputs, k, s))
    return tuple(packed)


def _pack_tensor(ctx: Node, outputs: tuple, s):
    for i, o in enumerate(outputs):
        if o is s or (o is not None and o._data is s._data and o.grad_fn is ctx):
            return _SavedOutput(o._data, _version_counter(o), i, o._device, o._rg)
    return (s, _version_counter(s)[0])


def _pack_array(inputs: tuple, arrays, outputs: tuple, k: int, s):
    if arrays is not None:
        # The argument at the saved value's own position first: ``mul(x, x.detach())`` passes the
        # same array twice, and ``save_for_backward(a, b)`` must keep the two tensors apart.
        if k < len(arrays) and arrays[k] is s and isinstance(inputs[k], Tensor):
            return (inputs[k], _version_counter(inputs[k])[0])
        for a, t in zip(arrays, inputs):
            if a is s and isinstance(t, Tensor):
                return (t, _version_counter(t)[0])
    for i, o in enumerate(outputs):
        if o is not None and o._data is s:
            return _SavedOutput(s, _version_counter(o), i, o._device, o._rg)
    return s


def _unpack(ctx: Node, s):
    if s is None or type(s) in _PY_SCALARS:
        return s
    if type(s) is tuple:
        t, version = s
        if t._vc[0] != version:
            raise RuntimeError(_modified_message(t, ctx, version, t._vc[0]))
        return t
    if type(s) is _SavedOutput:
        if s.vc[0] != s.version:
            raise RuntimeError(_modified_message(_make(s.data, s.device), ctx, s.version, s.vc[0]))
        return _make(s.data, s.device, s.rg, ctx if s.rg else None, s.index, s.vc)
    # A constant array saved by a built-in op lives on the op's device.
    return _make(s, ctx._device)


def _modified_message(t, ctx, expected, actual) -> str:
    return (
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [{t.dtype.name} tensor of shape {list(t._data.shape)} on {t._device}], which is "
        f"saved by {ctx.name()}, is at version {actual}; expected version {expected} instead. "
        "Hint: the operation that failed to compute its gradient was modified in place after it was "
        "saved; use an out-of-place op (e.g. x = x + 1 instead of x += 1) or .clone() it first."
    )


def device_mismatch(op: str, a, b) -> RuntimeError:
    return RuntimeError(
        f"Expected all tensors to be on the same device, but found at least two devices, {a} and {b}! "
        f"(in {op})"
    )


_ndarray = np.ndarray
_new_node = object.__new__
_STATE = STATE
# ``next_edges`` of a node that records nothing, by number of arguments: every
# ``needs_input_grad`` is False.
_NO_EDGES = tuple((None,) * n for n in range(16))


class Op:
    """Base class of Ember's built-in operations: ``forward`` on device arrays, ``backward`` on tensors.

    A subclass defines two static methods::

        forward(ctx, xp, *args) -> an array, or a tuple of arrays
        backward(ctx, *grads)   -> one gradient (a Tensor, or None) per argument of forward

    ``apply(*args)`` calls ``forward`` with every Tensor argument replaced by its device array
    (other arguments are passed as they are) and with ``xp``, the array module of the arguments'
    device (``numpy`` or ``cupy``; never import either in an op). It wraps the returned arrays as
    tensors on that device and, when a gradient is being recorded, makes ``ctx`` their
    ``grad_fn``. ``backward`` is written with Ember tensor operations, so that it can itself be
    differentiated.

    In ``forward``: ``ctx.save_for_backward(*arrays)`` keeps input arrays (``ctx.saved_tensors``
    gives back the input tensors themselves) and output arrays; other values that ``backward``
    needs (shapes, options) are set as attributes of ``ctx``; ``ctx.needs_input_grad[i]`` says
    whether argument ``i`` needs a gradient; ``ctx.mark_non_differentiable(array)`` marks an
    output that gets none (indices). A forward may return a Tensor to put an output on another
    device (``Tensor.to``). ``backward`` may leave out the gradients of trailing arguments.

    An op whose caller computes the output array itself (views, the element-wise fast paths)
    records the node with :func:`record` instead of calling ``apply``. CONTRIBUTING.md walks
    through adding an op.

    >>> from ember.autograd.function import Op
    >>> class Cube(Op):
    ...     @staticmethod
    ...     def forward(ctx, xp, x):
    ...         ctx.save_for_backward(x)
    ...         return x * x * x
    ...     @staticmethod
    ...     def backward(ctx, g):
    ...         (x,) = ctx.saved_tensors
    ...         return g * 3 * x * x
    >>> Cube.apply(ember.tensor([2.0], requires_grad=True))
    tensor([8.], grad_fn=<CubeBackward>)
    """

    __slots__ = ()

    @staticmethod
    def forward(ctx, xp, *args):
        raise NotImplementedError("an Op subclass must define forward(ctx, xp, *args)")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("an Op subclass must define backward(ctx, *grad_outputs)")

    @classmethod
    def apply(cls, *args):
        # Op observers (graph capture, the profiler) see an Op applied directly by module code too,
        # under the class name; inside a public op it is reported one depth lower.
        if _OBSERVERS:
            return _dispatch_op(cls.__name__, cls._apply, args, {})
        return cls._apply(*args)

    @classmethod
    def _apply(cls, *args):
        # The path of every fused op: one pass over the arguments, graph bookkeeping only when recording.
        device = None
        rg = False
        arrays = list(args)
        i = 0
        for a in args:
            if isinstance(a, Tensor):
                arrays[i] = a._data
                if device is None:
                    device = a._device
                elif a._device is not device:
                    return cls._apply(*_align_scalar_tensors(cls.__name__, args)[0])
                if a._rg:
                    rg = True
            i += 1
        if device is None:
            device = CPU
        ctx = _new_node(Node)
        ctx._fn = cls
        ctx._saved = None
        ctx._device = device
        rg = rg and _STATE.enabled
        ctx.next_edges = _edges(args) if rg else _NO_EDGES[i] if i < 16 else (None,) * i
        out = cls.forward(ctx, np if device is CPU else device.xp, *arrays)
        if type(out) is _ndarray and not rg:
            return _make(out, device)
        return _link_outputs(ctx, out, args, arrays, device, rg)


class Function:
    """Base class for differentiable operations (PyTorch's ``torch.autograd.Function``).

    ``forward`` receives and returns tensors (it runs without recording a graph); ``backward``
    is written with Ember tensor operations. Ember's own operations are :class:`Op` subclasses.

    >>> class Square(ember.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x * x
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         (x,) = ctx.saved_tensors
    ...         return 2 * x * grad
    >>> y = Square.apply(ember.tensor([3.0], requires_grad=True))
    """

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError("a Function subclass must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("a Function subclass must define backward(ctx, *grad_outputs)")

    @classmethod
    def apply(cls, *args):
        device = None
        for a in args:
            if isinstance(a, Tensor):
                if device is None:
                    device = a._device
                elif a._device is not device:
                    args, device = _align_scalar_tensors(cls.__name__, args)
                    break
        needs = STATE.enabled and any(isinstance(a, Tensor) and a._rg for a in args)
        ctx = Node(cls)
        ctx.needs_input_grad = tuple([needs and isinstance(a, Tensor) and a._rg for a in args])
        with no_grad():
            out = cls.forward(ctx, *args)
        if needs:
            ctx.next_edges = _edges(args)
        return _link_outputs(ctx, out, args, None, device or CPU, needs)


def _align_scalar_tensors(name: str, args):
    """Mixed devices are allowed only for 0-dim CPU tensors next to one other device (as in
    PyTorch); those are moved to that device. Returns the new args and the device."""
    devices = {a._device for a in args if isinstance(a, Tensor) and not (a._device is CPU and a._data.ndim == 0)}
    if len(devices) > 1 or not devices:
        ds = [a._device for a in args if isinstance(a, Tensor)]
        first = ds[0]
        other = next(d for d in ds if d is not first)
        raise device_mismatch(name, first, other)
    (device,) = devices
    return tuple(a.to(device) if isinstance(a, Tensor) and a._device is not device else a for a in args), device


def _edges(args) -> tuple:
    """A recording node's ``next_edges``: for each argument that requires grad, its node (or the
    leaf itself), output index, shape and dtype; None for the others."""
    return tuple([(a.grad_fn or a, a._output_nr, a._data.shape, a._data.dtype)
                  if isinstance(a, Tensor) and a._rg else None for a in args])


def _as_array(out):
    """NumPy returns scalars for 0-d results; tensors always hold arrays."""
    return np.asarray(out) if isinstance(out, (np.generic, float, int, complex)) else out


def _link_outputs(ctx: Node, out, args, arrays, device, record: bool):
    """Wrap forward's outputs (arrays or tensors; one or a tuple) as tensors on ``device`` and, when
    ``record``, make ``ctx`` their ``grad_fn`` and pack what forward saved (``arrays``: what an
    :class:`Op`'s forward received, None for a :class:`Function`)."""
    single = type(out) is not tuple
    outs = (out,) if single else out
    non_diff = ctx._non_diff
    results = []
    for i, o in enumerate(outs):
        if o is None:
            results.append(None)
            continue
        if isinstance(o, Tensor):
            data, dev = o._data, o._device
        else:
            data, dev = _as_array(o), device
        diff = record and data.dtype.kind in "fc"
        if diff and non_diff:
            diff = not any(o is nd or nd is data or (isinstance(nd, Tensor) and nd._data is data) for nd in non_diff)
        results.append(_make(data, dev, diff, ctx if diff else None, i))
    if record:
        ctx._n_out = len(outs)
        if len(outs) > 1:
            ctx._out_meta = tuple(None if r is None else (r._data.shape, r._data.dtype, r._device) for r in results)
        ctx._seq = _next_seq()
        ctx._device = device
        if ctx._saved:
            ctx._saved = _pack(ctx, args, arrays, tuple(results), ctx._saved)
    else:
        ctx._saved = None
    return results[0] if single else tuple(results)


def once_differentiable(fn):
    """Decorator for ``backward``: it runs without recording a graph (no double backward)."""

    @functools.wraps(fn)
    def wrapper(ctx, *grads):
        with no_grad():
            return fn(ctx, *grads)
    return wrapper
