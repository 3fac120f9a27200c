"""Higher-order helpers built on :func:`ember.autograd.grad`: ``vjp``, ``jacobian``, ``hessian``, ``hvp``."""
from __future__ import annotations

from .engine import grad
from .grad_mode import enable_grad

__all__ = ["vjp", "jacobian", "hessian", "hvp"]


def _as_tuple(x):
    from .._tensor import Tensor
    return (x,) if isinstance(x, Tensor) else tuple(x)


def _prepare(inputs):
    return tuple(i.detach().requires_grad_(True) for i in _as_tuple(inputs))


def vjp(func, inputs, v=None, create_graph=False):
    """``(func(inputs), v^T J)`` — a vector-Jacobian product."""
    from .._tensor import Tensor
    single = isinstance(inputs, Tensor)
    xs = _prepare(inputs)
    with enable_grad():
        out = func(*xs)
        gs = grad(out, xs, v, create_graph=create_graph, allow_unused=True, materialize_grads=True)
    out = out if create_graph else out.detach()
    return out, (gs[0] if single else gs)


def jacobian(func, inputs, create_graph=False):
    """The Jacobian of ``func`` (one output tensor) at ``inputs``, shaped ``out.shape + in.shape``."""
    from .._tensor import Tensor
    from ..ops.creation import zeros_like
    from ..ops.shape import stack
    single = isinstance(inputs, Tensor)
    xs = _prepare(inputs)
    with enable_grad():
        out = func(*xs)
        flat = out.reshape(-1)
        rows = [[] for _ in xs]
        for k in range(flat.shape[0]):
            e = zeros_like(flat)
            e._data[k] = 1
            gs = grad(flat, xs, e, retain_graph=True, create_graph=create_graph, allow_unused=True,
                      materialize_grads=True)
            for r, g in zip(rows, gs):
                r.append(g)
    jac = tuple(stack(r).reshape(tuple(out.shape) + tuple(x.shape)) for r, x in zip(rows, xs))
    return jac[0] if single else jac


def hessian(func, inputs, create_graph=False):
    """The Hessian of a scalar ``func`` at a single tensor ``inputs``."""
    from .._tensor import Tensor
    if not isinstance(inputs, Tensor):
        raise TypeError("hessian: Ember supports a single input tensor")

    def gradient(x):
        (g,) = grad(func(x), x, create_graph=True)
        return g
    return jacobian(gradient, inputs, create_graph=create_graph)


def hvp(func, inputs, v, create_graph=False):
    """``(func(inputs), H v)`` for a scalar ``func`` — via double backward, without forming H."""
    from .._tensor import Tensor
    single = isinstance(inputs, Tensor)
    xs = _prepare(inputs)
    vs = _as_tuple(v)
    with enable_grad():
        out = func(*xs)
        gs = grad(out, xs, create_graph=True)
        dot = sum((g * vv).sum() for g, vv in zip(gs, vs))
        hv = grad(dot, xs, create_graph=create_graph, allow_unused=True, materialize_grads=True)
    out = out if create_graph else out.detach()
    return out, (hv[0] if single else hv)
