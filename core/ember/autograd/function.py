"""``Function``: the one mechanism every differentiable operation uses, built-in or custom.

A Function subclass defines ``forward(ctx, *args)`` and ``backward(ctx, *grads)``.
``Function.apply(*args)`` runs forward and, when gradients are being recorded, makes
``ctx`` the graph node (the output's ``grad_fn``). Built-in ops return raw device
arrays from forward (they read ``t._data``); custom functions return tensors, exactly as
in PyTorch. Backward is always written with Ember tensor operations, so that it can
itself be differentiated (``create_graph=True``).
"""
from __future__ import annotations

import itertools

from .._tensor import Tensor, _make
from ..backend import CPU
from .grad_mode import STATE, no_grad

__all__ = ["Function", "Node", "FunctionCtx", "once_differentiable"]

_seq = itertools.count()
_next_seq = _seq.__next__

_RELEASED = ("released",)
_PY_SCALARS = (int, float, bool)

_FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
    "graph a second time or if you need to access saved tensors after calling backward."
)


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
    needs_input_grad = ()

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


def _pack(ctx: Node, outputs: tuple, saved: tuple) -> tuple:
    packed = []
    for s in saved:
        if s is None:
            packed.append(None)
            continue
        if isinstance(s, Tensor):
            for i, o in enumerate(outputs):
                if o is s or (o is not None and o._data is s._data and o.grad_fn is ctx):
                    packed.append(_SavedOutput(o._data, _version_counter(o), i, o._device, o._rg))
                    break
            else:
                packed.append((s, _version_counter(s)[0]))
            continue
        if type(s) in _PY_SCALARS:
            packed.append(s)
            continue
        # A raw array: an output array of a built-in op, or a constant.
        for i, o in enumerate(outputs):
            if o is not None and o._data is s:
                packed.append(_SavedOutput(s, _version_counter(o), i, o._device, o._rg))
                break
        else:
            packed.append(s)
    return tuple(packed)


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


class Function:
    """Base class for differentiable operations (PyTorch's ``torch.autograd.Function``).

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

    # Built-in ops return device arrays from forward and run it without a no_grad guard.
    _array_forward = False

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError("a Function subclass must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("a Function subclass must define backward(ctx, *grad_outputs)")

    @classmethod
    def apply(cls, *args):
        device = None
        needs = False
        for a in args:
            if isinstance(a, Tensor):
                d = a._device
                if device is None:
                    device = d
                elif d is not device:
                    args, device = _align_scalar_tensors(cls.__name__, args)
                    break
                if a._rg:
                    needs = True
        if device is not None and not needs:
            needs = any(isinstance(a, Tensor) and a._rg for a in args)
        needs = needs and STATE.enabled
        ctx = Node(cls)
        if needs:
            ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._rg for a in args)
        else:
            ctx.needs_input_grad = (False,) * len(args)
        if cls._array_forward:
            out = cls.forward(ctx, *args)
        else:
            with no_grad():
                out = cls.forward(ctx, *args)
        return wrap_outputs(ctx, out, args, device, needs)


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


def wrap_outputs(ctx: Node, out, args, device, needs: bool):
    """Wrap forward's outputs as tensors and, when ``needs``, link them into the graph."""
    if device is None:
        device = CPU
    single = not isinstance(out, tuple)
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
            data, dev = o, device
        diff = needs and data.dtype.kind == "f"
        if diff and non_diff:
            diff = not any(o is nd or (isinstance(nd, Tensor) and nd._data is data) for nd in non_diff)
        results.append(_make(data, dev, diff, ctx if diff else None, i))
    if needs:
        ctx.next_edges = tuple(
            ((a.grad_fn or a), a._output_nr, a._data.shape, a._data.dtype)
            if isinstance(a, Tensor) and a._rg else None
            for a in args
        )
        ctx._n_out = len(outs)
        if len(outs) > 1:
            ctx._out_meta = tuple(None if r is None else (r._data.shape, r._data.dtype, r._device) for r in results)
        ctx._seq = _next_seq()
        ctx._device = device
        if ctx._saved:
            ctx._saved = _pack(ctx, tuple(results), ctx._saved)
    else:
        ctx._saved = None
    return results[0] if single else tuple(results)


def once_differentiable(fn):
    """Decorator for ``backward``: it runs without recording a graph (no double backward)."""
    import functools

    @functools.wraps(fn)
    def wrapper(ctx, *grads):
        with no_grad():
            return fn(ctx, *grads)
    return wrapper
