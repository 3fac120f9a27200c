"""Op observers: the one dispatch-level hook that graph capture (``ember.jit.trace``, ``ember.onnx``)
and the profiler are built on.

Every public op is wrapped once, where it is published: ``ops._registry.Registry`` wraps the op
functions, their ``Tensor`` methods (operators included) and in-place variants, and each
``nn.functional`` family wraps its public functions with :func:`observe_namespace`. A wrapper is
``observed(name, fn)``::

    if OBSERVERS:                        # the only cost when nothing observes: one list test
        return dispatch(name, fn, args, kwargs)
    return fn(*args, **kwargs)

While observers are active, :func:`dispatch` hands each of them an :class:`OpCall` before the op
runs (``observer.enter(call)``, whose return value is the observer's token, e.g. a start time)
and after it returns or raises (``observer.exit(call, token)``, with ``call.result`` or
``call.error`` set). Ops that a public op calls internally are public ops too and are reported
with ``call.depth`` one higher (the depth counter is per thread): a tracer keeps depth 0, a
profiler nests them.

An observer is any object with those two methods (:class:`OpObserver` is a base with no-op
ones); :func:`observing` installs one for a ``with`` block.

>>> class Names(OpObserver):
...     def __init__(self):
...         self.seen = []
...     def enter(self, call):
...         self.seen.append((call.name, call.depth))
>>> names = Names()
>>> with observing(names):
...     _ = ember.ones(2) + 1
>>> names.seen
[('ones', 0), ('__add__', 0)]
"""
from __future__ import annotations

import contextlib
import functools
import threading
import types

__all__ = ["OBSERVERS", "OpCall", "OpObserver", "add_observer", "remove_observer", "observing", "observed",
           "observe_namespace", "dispatch", "current_depth", "unwrap"]

# The active observers, in the order they were added. Wrappers test this list (by identity: it is
# only ever changed in place), so that the cost of the hook when nothing observes is one test.
OBSERVERS: list = []

_local = threading.local()


class OpCall:
    """One call of a public op, as observers see it.

    ``name``: the op's public name (``"conv2d"``, ``"reshape"``, the method ``"view"``, the operator
    ``"__add__"``, the in-place ``"relu_"``); ``fn``: the op's own function (not the wrapper: calling
    ``fn(*args, **kwargs)`` runs the op again without reporting it); ``args``/``kwargs``: the
    arguments as the caller passed them (tensors, Python constants, options); ``depth``: 0 for a
    call from user code, 1 + the caller's depth for a call made inside another public op;
    ``result``: the op's return value (set before ``exit``); ``error``: the exception it raised, or
    None.
    """

    __slots__ = ("name", "fn", "args", "kwargs", "depth", "result", "error")

    def __init__(self, name: str, fn, args: tuple, kwargs: dict, depth: int):
        self.name, self.fn, self.args, self.kwargs, self.depth = name, fn, args, kwargs, depth
        self.result = None
        self.error = None

    def __repr__(self) -> str:
        return f"OpCall({self.name!r}, depth={self.depth})"


class OpObserver:
    """Base class of an op observer: ``enter(call) -> token`` before each op, ``exit(call, token)``
    after it. Both default to doing nothing."""

    def enter(self, call: OpCall):
        return None

    def exit(self, call: OpCall, token) -> None:
        pass


def add_observer(observer) -> None:
    """Start reporting every public op call to ``observer`` (until :func:`remove_observer`)."""
    OBSERVERS.append(observer)


def remove_observer(observer) -> None:
    """Stop reporting to ``observer`` (a ValueError if it is not active)."""
    OBSERVERS.remove(observer)


@contextlib.contextmanager
def observing(observer):
    """``with observing(obs):`` reports the block's op calls to ``obs``."""
    add_observer(observer)
    try:
        yield observer
    finally:
        remove_observer(observer)


def current_depth() -> int:
    """How many observed op calls are running on this thread (0 outside any op)."""
    return getattr(_local, "depth", 0)


def dispatch(name: str, fn, args: tuple, kwargs: dict):
    """Run ``fn(*args, **kwargs)`` as the public op ``name``, reporting it to every active observer."""
    depth = getattr(_local, "depth", 0)
    call = OpCall(name, fn, args, kwargs, depth)
    observers = tuple(OBSERVERS)
    tokens = [o.enter(call) for o in observers]
    _local.depth = depth + 1
    try:
        call.result = fn(*args, **kwargs)
    except BaseException as e:
        call.error = e
        raise
    finally:
        _local.depth = depth
        # Observers leave in the reverse order of entering, so that nested timings stay nested.
        for o, t in zip(reversed(observers), reversed(tokens)):
            o.exit(call, t)
    return call.result


def observed(name: str, fn):
    """``fn`` wrapped as the public op ``name`` (the wrapper keeps ``fn``'s name, docstring and
    signature; ``__wrapped__`` is ``fn``). Wrapping a wrapper again returns it unchanged."""
    if getattr(fn, "__ember_op__", None) is not None:
        return fn
    observers = OBSERVERS

    def op(*args, **kwargs):
        if observers:
            return dispatch(name, fn, args, kwargs)
        return fn(*args, **kwargs)

    functools.update_wrapper(op, fn)
    op.__ember_op__ = name
    return op


def unwrap(fn):
    """The op function inside an :func:`observed` wrapper (``fn`` itself if it is not one)."""
    return fn.__wrapped__ if getattr(fn, "__ember_op__", None) is not None else fn


def observe_namespace(namespace: dict, names) -> None:
    """Replace each plain function among ``names`` in a module's ``namespace`` by its observed
    wrapper (how an ``nn.functional`` family publishes its ops; call it at the end of the module, so
    that the module's own calls and every later import see the wrappers)."""
    for n in names:
        f = namespace.get(n)
        if isinstance(f, types.FunctionType):
            namespace[n] = observed(n, f)
