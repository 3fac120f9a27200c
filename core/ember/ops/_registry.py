"""One registration per public op: the decorator that publishes an op's function (in its module's
``__all__``), its aliases, its ``Tensor`` method(s) and its in-place variant(s), and
:func:`attach`, which ``ember.ops`` calls once to set every family's methods on ``Tensor``.

Each op family owns one :class:`Registry`; its ``__all__`` *is* the registry's ``exported``
list, filled in by the decorators as the module runs::

    registry = Registry(globals(), make_inplace=make_inplace)
    __all__ = registry.exported

    @registry.op(method=True, inplace=True, aliases=("clip",))
    def clamp(input, min=None, max=None):
        ...

The decorator returns the op wrapped for op observers (``ember._op_hooks.observed``: when nothing
observes, the wrapper's whole cost is one list test before calling the function) and the method
*is* that wrapper: a call of ``x.clamp(...)`` costs what a call of ``ember.clamp(x, ...)`` costs.
Methods, properties and in-place variants registered here are wrapped the same way, under their
own names, so graph capture and the profiler see every op a program calls. CONTRIBUTING.md has
the recipe with a worked example.
"""
from __future__ import annotations

import functools
import inspect
import types

from .._op_hooks import observed

__all__ = ["Registry", "attach", "numpy_aliases"]


class Registry:
    """What one module publishes: ``exported`` (its ``__all__``) and ``methods`` (``Tensor`` attributes).

    ``namespace`` is the module's ``globals()``: alias names are bound there, so that
    ``ember.<alias>`` finds them through ``__all__``. ``make_inplace(method, name)`` makes an
    in-place method from an out-of-place one (needed only by modules with in-place variants).

    >>> reg = Registry({"__name__": "example"})
    >>> @reg.op(method=True, aliases=("twice",))
    ... def double(input):
    ...     return input * 2
    >>> reg.exported, sorted(reg.methods), reg.methods["twice"] is double
    (['double', 'twice'], ['double', 'twice'], True)
    """

    def __init__(self, namespace: dict, make_inplace=None):
        self._namespace = namespace
        self._make_inplace = make_inplace
        self.module = namespace["__name__"]
        self.exported: list = []
        self.methods: dict = {}

    def op(self, fn=None, *, method=False, inplace=False, inplace_maker=None, aliases=(), export=True,
           numpy_aliases=False):
        """Register a public op (a decorator, with or without arguments); returns ``fn`` wrapped for op
        observers (``ember._op_hooks.observed``), which the module binds in ``fn``'s place.

        method:  True for ``Tensor`` methods of the same name(s) that are ``fn`` itself, or the
                 method when it takes its arguments differently (``Tensor.where(condition, other)``).
        inplace: True for the in-place method ``<name>_``; or a tuple of in-place method names
                 (``("sub_", "subtract_")``, ``("bitwise_and_", "__iand__")``).
        inplace_maker: ``inplace_maker(method, name)`` makes each in-place method, for an op with
                 a faster in-place path; by default the registry's ``make_inplace`` (computed out
                 of place, then written into ``self``).
        aliases: other public names of the same function (exported, and methods when ``method``).
        export:  list the names in ``__all__`` (False for an op that is only a ``Tensor`` method).
        numpy_aliases: also take ``axis=``/``keepdims=`` for ``dim``/``keepdim`` (:func:`numpy_aliases`);
                 the decorator then returns that wrapper, which the module binds in ``fn``'s place.
        """
        def register(f):
            if numpy_aliases:
                f = _numpy_aliases(f)
            f = observed(f.__name__, f)
            names = (f.__name__,) + tuple(aliases)
            for n in aliases:
                self._namespace[n] = f
            if export:
                self.export(*names)
            impl = f if method is True else method
            if method:
                for n in names:
                    self.method(n, impl)
            if inplace:
                maker = inplace_maker or self._make_inplace
                if maker is None:
                    raise TypeError(f"{self.module}: in-place variants of {f.__name__} need make_inplace")
                for n in (f.__name__ + "_",) if inplace is True else inplace:
                    self.method(n, observed(n, maker(impl or f, n)))
            return f
        return register if fn is None else register(fn)

    def method(self, name: str, impl=None, *, numpy_aliases=False):
        """Register ``Tensor.<name>`` (a function, property or static method) that is not an op's
        function: ``reg.method("view", _view)``, or as a decorator ``@reg.method("view")`` (which
        returns the function, or its :func:`numpy_aliases` wrapper with ``numpy_aliases=True``)."""
        if impl is None:
            def register(f):
                return self.method(name, _numpy_aliases(f) if numpy_aliases else f)
            return register
        if name in self.methods:
            raise RuntimeError(f"Tensor.{name} is registered twice in {self.module}")
        impl = _observed_method(name, impl)
        self.methods[name] = impl
        return impl

    def export(self, *names: str) -> None:
        """List module-level names that are not registered ops (a class, a submodule) in ``__all__``."""
        for name in names:
            if name in self.exported:
                raise RuntimeError(f"{self.module}.{name} is registered twice")
            self.exported.append(name)


def _observed_method(name: str, impl):
    """A method or property getter wrapped for op observers (static methods such as ``__new__`` and
    the already wrapped op functions are kept as they are)."""
    if isinstance(impl, types.FunctionType):
        return observed(name, impl)
    if isinstance(impl, property) and isinstance(impl.fget, types.FunctionType):
        return property(observed(name, impl.fget), impl.fset, impl.fdel, impl.__doc__)
    return impl


def attach(cls: type, registries) -> None:
    """Set the methods of every registry on ``cls``; a method registered by two families is an error.

    >>> a, b = Registry({"__name__": "a"}), Registry({"__name__": "b"})
    >>> _ = a.method("same", len), b.method("same", len)
    >>> attach(type("T", (), {}), (a, b))
    Traceback (most recent call last):
    RuntimeError: Tensor.same is registered by both a and b
    """
    owner: dict = {}
    for reg in registries:
        for name in reg.methods:
            if name in owner:
                raise RuntimeError(f"Tensor.{name} is registered by both {owner[name]} and {reg.module}")
            owner[name] = reg.module
    for reg in registries:
        for name, impl in reg.methods.items():
            setattr(cls, name, impl)


# ---------------------------------------------------------------------------------------
# NumPy-style keyword aliases: PyTorch's argument parser takes ``axis=`` for ``dim=`` and
# ``keepdims=`` for ``keepdim=`` in every op whose native signature has those parameters.
# ---------------------------------------------------------------------------------------
_NUMPY_ALIASES = (("axis", "dim"), ("keepdims", "keepdim"))
_UNSET = object()   # an aliased parameter's default in a wrapper: tells "left out" from "given"


def numpy_aliases(fn):
    """``fn`` also accepting ``axis=`` for its ``dim`` and ``keepdims=`` for its ``keepdim`` parameter.

    The wrapper is generated with ``fn``'s own parameters plus the aliases (keyword-only): a call
    binds its arguments as a call of ``fn`` would and then calls ``fn`` with them, so the aliases
    cost one plain Python call and a few identity tests (about 0.1 us), keywords or not.
    Giving a parameter and its alias together is a TypeError, as in PyTorch.

    >>> ember.sum(ember.ones(2, 3), axis=1, keepdims=True).shape   # ember.Size([2, 1])
    """
    params = list(inspect.signature(fn).parameters.values())
    names = {p.name for p in params}
    aliases = [(alias, name) for alias, name in _NUMPY_ALIASES if name in names]
    if not aliases:
        return fn
    env = {"_fn": fn, "_UNSET": _UNSET, "_given_twice": _given_twice, "_missing": _missing}
    header, call, required = _wrapper_parameters(fn, params, {name for _, name in aliases}, env)
    header += [f"{alias}=_UNSET" for alias, _ in aliases]
    lines = [f"def {fn.__name__}({', '.join(header)}):"]
    for alias, name in aliases:
        lines += [f"    if {alias} is not _UNSET:",
                  f"        if {name} is not _UNSET:",
                  f"            _given_twice({fn.__name__!r}, {name!r}, {alias!r})",
                  f"        {name} = {alias}"]
        if name not in required:
            lines += [f"    elif {name} is _UNSET:", f"        {name} = _d_{name}"]
    for name in required:   # left optional in the header only so that an alias can stand in for it
        lines += [f"    if {name} is _UNSET:", f"        _missing({fn.__name__!r}, {name!r})"]
    lines.append(f"    return _fn({', '.join(call)})")
    # The source is built from fn's own signature only; tracebacks name it after fn.
    exec(compile("\n".join(lines), f"<numpy_aliases of {fn.__module__}.{fn.__name__}>", "exec"), env)  # noqa: S102
    return functools.update_wrapper(env[fn.__name__], fn)


def _wrapper_parameters(fn, params, aliased: set, env: dict):
    """Source of the parameter list of ``fn``'s alias-taking wrapper, the arguments of its call of
    ``fn``, and the required parameters it must check itself. Aliased parameters default to
    ``_UNSET``, and so do the required positional ones after them (a default cannot precede a
    required parameter); other defaults are looked up in ``env`` as ``_d_<name>``."""
    header, call, required = [], [], []
    relaxed = False
    for p in params:
        if p.kind not in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            raise TypeError(f"numpy_aliases: {fn.__name__}() has a parameter of kind {p.kind.description}")
        if p.kind is p.KEYWORD_ONLY and "*" not in header:
            header.append("*")
        if p.default is not p.empty:
            env[f"_d_{p.name}"] = p.default
        relaxed = relaxed or p.name in aliased
        if p.name in aliased or (relaxed and p.default is p.empty and p.kind is p.POSITIONAL_OR_KEYWORD):
            header.append(f"{p.name}=_UNSET")
            if p.default is p.empty:
                required.append(p.name)
        else:
            header.append(p.name if p.default is p.empty else f"{p.name}=_d_{p.name}")
        call.append(p.name if p.kind is p.POSITIONAL_OR_KEYWORD else f"{p.name}={p.name}")
    if "*" not in header:
        header.append("*")
    return header, call, required


def _given_twice(name: str, param: str, alias: str):
    raise TypeError(f"{name}() got both '{param}' and its alias '{alias}'; pass only one of them")


def _missing(name: str, param: str):
    raise TypeError(f"{name}() missing required argument '{param}'")


_numpy_aliases = numpy_aliases   # the methods' parameter of the same name shadows it there
