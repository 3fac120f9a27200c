"""The user's allowlist for ``weights_only`` loading, as ``torch.serialization`` keeps it.

A pickle names each class or function it needs as ``module.qualname``. ``ember.load`` (whose
``weights_only`` defaults to True) resolves only the globals needed to rebuild tensors and plain
containers, plus those the user has marked safe here; every other one is refused before anything
is called. Marking a class safe lets a checkpoint create instances of it (``__new__``), set their
state (``__setstate__``, or their ``__dict__`` and slots) and call it, exactly as PyTorch's
weights-only unpickler does.
"""
from __future__ import annotations

import threading

__all__ = ["add_safe_globals", "clear_safe_globals", "get_safe_globals", "safe_globals", "BLOCKED_MODULES"]

#: Modules whose globals are refused even when allowlisted (as in PyTorch).
BLOCKED_MODULES = ("sys", "os", "posix", "nt")

_lock = threading.Lock()
_marked: set = set()


def _check(entry) -> None:
    """Refuse entries PyTorch would only refuse at load time, now, with the same error types."""
    if isinstance(entry, tuple):
        if len(entry) != 2:
            raise ValueError(f"Expected tuple of length 2 (global, str of callable full path), but got tuple of "
                             f"length: {len(entry)}")
        if type(entry[1]) is not str:
            raise TypeError(f"Expected second item in tuple to be str of callable full path, but got: "
                            f"{type(entry[1])}")
        return  # named explicitly: any object may be allowlisted under that name
    if not isinstance(getattr(entry, "__module__", None), str) or not hasattr(entry, "__qualname__"):
        raise TypeError(f"add_safe_globals: {entry!r:.80} is not a class or function (it has no __module__ and "
                        "__qualname__ to name it by); pass (obj, 'module.name') to name it explicitly")


def full_name(obj) -> str:
    """How a pickle names ``obj``: ``module.qualname``."""
    return f"{obj.__module__}.{obj.__qualname__}"


def add_safe_globals(safe_globals: list) -> None:
    """Mark classes and functions as safe for ``ember.load(..., weights_only=True)`` (the default).

    Each item is a class or function, named in the checkpoint by ``module.qualname``, or a tuple
    ``(obj, "module.name")`` giving the name the checkpoint uses for it (which also lets a name
    from another library resolve to ``obj``). Allowlist a class only if you trust every checkpoint
    you load while it is allowlisted: loading may create instances of it with any state.

    >>> ember.serialization.add_safe_globals([MyConfig])
    >>> ember.load("run.pt")  # may now hold MyConfig objects
    """
    entries = list(safe_globals)
    for entry in entries:
        _check(entry)
    with _lock:
        _marked.update(entries)


def get_safe_globals() -> list:
    """The user-added globals that are safe for ``weights_only`` loading.

    >>> ember.serialization.get_safe_globals()
    []
    """
    with _lock:
        return list(_marked)


def clear_safe_globals() -> None:
    """Forget every global added with :func:`add_safe_globals`.

    >>> ember.serialization.clear_safe_globals()
    """
    with _lock:
        _marked.clear()


class safe_globals:
    """Context manager that marks globals as safe for ``weights_only`` loading while it is active
    (on exit they are removed from the allowlist, as in PyTorch, even if they were there before).

    >>> with ember.serialization.safe_globals([MyConfig]):
    ...     ember.load("run.pt")
    """

    def __init__(self, safe_globals: list):
        self.safe_globals = list(safe_globals)
        for entry in self.safe_globals:
            _check(entry)

    def __enter__(self):
        add_safe_globals(self.safe_globals)

    def __exit__(self, exc_type, exc, tb) -> None:
        with _lock:
            _marked.difference_update(self.safe_globals)


def user_allowed() -> dict:
    """``{"module.name": obj}`` of the allowlisted globals (a snapshot, taken once per load)."""
    out = {}
    for entry in get_safe_globals():
        if isinstance(entry, tuple):
            out[entry[1]] = entry[0]
        else:
            out[full_name(entry)] = entry
    return out


def suggestion(full: str) -> str:
    """How the user would write the global in Python: builtins without their module, as PyTorch says it."""
    return full[len("builtins."):] if full.startswith("builtins.") else full
