"""``ember.compile``: PyTorch's ``torch.compile`` signature; Ember has no compiler yet, so it returns
the module or function unchanged (and, used as a decorator, leaves the function as it is)."""
from __future__ import annotations

from typing import Callable

__all__ = ["compile"]


def compile(model: Callable | None = None, *, fullgraph: bool = False, dynamic: bool | None = None,  # noqa: A001
            backend: str | Callable = "inductor", mode: str | None = None, options: dict | None = None,
            disable: bool = False, **kwargs) -> Callable:
    """Return ``model`` unchanged: Ember runs every model eagerly, compiled or not.

    Scripts call ``model = torch.compile(model)`` for speed; with Ember that line is a no-op, so the
    script runs as before. Unlike PyTorch's ``OptimizedModule`` wrapper, the returned module *is* the
    original, so its ``state_dict`` keys carry no ``_orig_mod.`` prefix. The keyword arguments are
    accepted for PyTorch's signature and not used.

    >>> net = ember.nn.Linear(2, 2)
    >>> ember.compile(net) is net
    True
    >>> @ember.compile(mode="max-autotune")
    ... def f(x):
    ...     return x.sin()
    """
    if model is None:   # @ember.compile(...) used with arguments: a decorator
        return lambda fn: fn
    if not callable(model):
        raise RuntimeError(f"ember.compile expects a module or a function, got {type(model).__name__}")
    return model
